"""The bare Django baseline's one URL: the trivial view, where the app serves it too."""

from django.urls import path

from bench import views

urlpatterns = [path("bench/trivial/", views.trivial)]
