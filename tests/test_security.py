"""Security headers on every response, and HTTPS-only headers and cookies in production."""

import json
import subprocess
import sys

import pytest
from csp.utils import build_policy
from django.conf import settings as django_settings
from django.core.management.utils import get_random_secret_key

PROBLEM = "application/problem+json"

# The policy of every page but ReDoc's, directive by directive.
POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def policy_of(response):
    """The Content-Security-Policy header as {directive: [source, …]}."""
    directives = (part.split() for part in response.headers["Content-Security-Policy"].split(";"))
    return {name: sources for name, *sources in directives}


def assert_security_headers(response):
    policy = policy_of(response)
    assert {name: policy.get(name) for name in POLICY} == POLICY
    # Attributes may hold only the few fixed values whose hashes base.py lists.
    for directive in ("script-src-attr", "style-src-attr"):
        assert policy[directive][0] == "'unsafe-hashes'"
        assert all(source.startswith("'sha256-") for source in policy[directive][1:])
    assert {name: response.headers.get(name) for name in HEADERS} == HEADERS


@pytest.mark.parametrize(
    ("path", "status", "content_type"),
    [
        ("/en/", 200, "text/html; charset=utf-8"),
        ("/en/commitments/", 200, "text/html; charset=utf-8"),
        ("/", 302, "text/html; charset=utf-8"),
        ("/en/no-such-page/", 404, "text/html; charset=utf-8"),
        ("/en/search/?q=%00", 400, "text/plain; charset=utf-8"),
        ("/api/v1/commitments/", 200, "application/json"),
        ("/api/v1/commitments/?updated_since=yesterday", 400, PROBLEM),
        ("/api/v1/no-such-endpoint/", 404, PROBLEM),
        ("/api/v1/docs/", 200, "text/html; charset=utf-8"),
        ("/api/v1/docs/?script=", 200, "application/javascript"),
        ("/admin/login/", 200, "text/html; charset=utf-8"),
        ("/sitemap.xml", 200, "application/xml"),
        ("/robots.txt", 200, "text/plain"),
    ],
)
def test_every_kind_of_response_carries_the_security_headers(
    client, db, path, status, content_type
):
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["Content-Type"] == content_type
    assert_security_headers(response)


@pytest.mark.parametrize(
    "path",
    ["/admin/", "/admin/policy/commitment/", "/admin/policy/commitment/add/"],
)
def test_admin_pages_carry_the_security_headers(admin_client, path):
    response = admin_client.get(path)
    assert response.status_code == 200
    assert_security_headers(response)


def test_only_redoc_may_use_inline_styles_and_blob_workers(client, db):
    policy = policy_of(client.get("/api/v1/redoc/"))
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["worker-src"] == ["blob:"]
    assert policy["script-src"] == ["'self'"]
    assert "worker-src" not in policy_of(client.get("/api/v1/docs/"))


def test_the_site_policy_is_django_csps_own_and_follows_a_change_of_the_setting(
    client, db, settings
):
    assert client.get("/en/")["Content-Security-Policy"] == build_policy()

    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": {"default-src": ["'none'"]}}

    assert client.get("/en/")["Content-Security-Policy"] == "default-src 'none'"


@pytest.mark.parametrize(
    ("options", "origin"),
    [
        ({"custom_domain": "media.example.org"}, "https://media.example.org"),
        ({"endpoint_url": "http://127.0.0.1:9000"}, "http://127.0.0.1:9000"),
        ({"region_name": "eu-west-1"}, "https://puente-media.s3.amazonaws.com"),
    ],
)
def test_images_may_come_from_the_object_storage_media_is_kept_in(
    client, db, settings, options, origin
):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"bucket_name": "puente-media", "querystring_auth": False, **options},
        },
    }
    assert policy_of(client.get("/en/"))["img-src"] == ["'self'", "data:", origin]


def test_session_and_csrf_cookies_are_http_only_and_same_site_everywhere(client, admin_user):
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "admin", "password": "password"}
    )
    assert response.status_code == 302
    for name in (django_settings.SESSION_COOKIE_NAME, django_settings.CSRF_COOKIE_NAME):
        cookie = response.cookies[name]
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"


@pytest.fixture(scope="module")
def production_security_settings(tmp_path_factory):
    """The security settings config.settings.production makes of a minimal environment."""
    names = (
        "SECURE_",
        "SESSION_COOKIE_",
        "CSRF_COOKIE_",
        "CSRF_TRUSTED_ORIGINS",
        "SILENCED_SYSTEM_CHECKS",
    )
    script = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{name: getattr(settings, name) for name in dir(settings) "
        f"if name.startswith({names!r})}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=django_settings.BASE_DIR,
        env={
            "PATH": "/usr/bin:/bin",
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "SECRET_KEY": get_random_secret_key(),
            "ALLOWED_HOSTS": "example.org",
            "DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('production') / 'db.sqlite3'}",
        },
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


@pytest.fixture
def production(settings, production_security_settings):
    for name, value in production_security_settings.items():
        setattr(settings, name, value)
    return settings


def test_production_sends_hsts_for_a_year_with_subdomains_over_https(client, db, production):
    response = client.get("/en/", secure=True)
    assert response.status_code == 200
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert_security_headers(response)


def test_production_redirects_plain_http_to_https(client, db, production):
    response = client.get("/en/commitments/?status=kept")
    assert response.status_code == 301
    assert response.headers["Location"] == "https://testserver/en/commitments/?status=kept"
    assert "Strict-Transport-Security" not in response.headers


def test_production_trusts_the_proxy_header_only_when_told_to(client, db, production):
    forwarded = {"X-Forwarded-Proto": "https"}
    assert client.get("/en/", headers=forwarded).status_code == 301

    production.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = client.get("/en/", headers=forwarded)
    assert response.status_code == 200
    assert "Strict-Transport-Security" in response.headers


def test_production_login_cookies_are_secure_http_only_and_same_site(
    client, admin_user, production
):
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": "admin", "password": "password"},
        secure=True,
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    for name in (production.SESSION_COOKIE_NAME, production.CSRF_COOKIE_NAME):
        cookie = response.cookies[name]
        assert cookie["secure"] is True
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"
