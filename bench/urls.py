"""The benchmark's own views in the app, under /bench/, with BENCH_VIEWS=1 only (config/urls.py)."""

from django.urls import path

from bench import handwritten, views

urlpatterns = [
    path("trivial/", views.trivial, name="bench-trivial"),
    path("layout/", views.layout, name="bench-layout"),
    path(
        "handwritten/commitments/",
        handwritten.commitment_list,
        name="bench-handwritten-commitments",
    ),
]
