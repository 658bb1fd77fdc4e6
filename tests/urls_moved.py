"""A URLconf that puts the country pages elsewhere, for the test that record addresses follow it."""

from django.http import HttpResponse
from django.urls import include, path


def country_page(request, slug):
    return HttpResponse(slug)


policy_patterns = ([path("elsewhere/<slug:slug>/", country_page, name="country_detail")], "policy")
urlpatterns = [path("", include(policy_patterns))]
