"""A request that may write runs in one transaction: all of its changes are kept, or none
(policy.transactions.AtomicWritesMiddleware); a read runs in none.

These tests commit for real, so they see what a failed request left behind.
"""

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.urls import path
from rest_framework import serializers
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from policy.models import Country
from tests.factories import CountryFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.urls(__name__)]


def write(request):
    CountryFactory(iso_code="BR")
    return HttpResponse("written")


def write_then_fail(request):
    CountryFactory(iso_code="BR")
    raise RuntimeError("the rest of the write failed")


def write_then_refuse(request):
    CountryFactory(iso_code="BR")
    raise PermissionDenied


@api_view(["POST"])
@permission_classes([AllowAny])
def write_then_reject_through_the_api(request):
    CountryFactory(iso_code="BR")
    raise serializers.ValidationError({"name": ["Not this one."]})


def in_a_transaction(request):
    return HttpResponse(headers={"In-Transaction": str(connection.in_atomic_block)})


urlpatterns = [
    path("write/", write),
    path("write-then-fail/", write_then_fail),
    path("write-then-refuse/", write_then_refuse),
    path("api/write-then-reject/", write_then_reject_through_the_api),
    path("transaction/", in_a_transaction),
]


@pytest.fixture
def client():
    return Client(raise_request_exception=False, enforce_csrf_checks=False)


def test_a_write_that_succeeds_is_kept(client):
    assert client.post("/write/").status_code == 200

    assert Country.objects.filter(iso_code="BR").exists()


@pytest.mark.parametrize(
    ("url", "status"),
    [("/write-then-fail/", 500), ("/write-then-refuse/", 403), ("/api/write-then-reject/", 400)],
)
def test_a_write_whose_view_fails_leaves_nothing(client, url, status):
    assert client.post(url).status_code == status

    assert not Country.objects.filter(iso_code="BR").exists()


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_request_that_may_write_runs_in_a_transaction(client, method):
    response = getattr(client, method)("/transaction/")

    assert response["In-Transaction"] == "True"


@pytest.mark.parametrize("method", ["get", "head", "options"])
def test_a_read_runs_in_none(client, method):
    response = getattr(client, method)("/transaction/")

    assert response["In-Transaction"] == "False"
