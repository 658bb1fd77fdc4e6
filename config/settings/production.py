"""Settings for a deployed site behind a proxy that terminates TLS: every secret and host comes
from the environment."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import LOGGING, STORAGES, env

REQUIRED_ENVIRONMENT = ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"]
if missing := [name for name in REQUIRED_ENVIRONMENT if not os.environ.get(name)]:
    raise ImproperlyConfigured(
        f"The production settings need these environment variables: {', '.join(missing)}."
    )

DEBUG = False
# Read as it is: env() takes a value starting with "$" for the name of another variable, and one
# random key in fifty starts with it.
SECRET_KEY = os.environ["SECRET_KEY"]
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
# DATABASES comes from DATABASE_URL, as in base.py.

# HTTPS only. The proxy tells Django that a request came over HTTPS with a header, given here as
# its request.META key and value: "HTTP_X_FORWARDED_PROTO,https" for X-Forwarded-Proto: https.
# Set it only when the proxy sets that header on every request, replacing the client's: anyone
# could send it otherwise. Without it, every request looks like plain HTTP and is redirected.
# https://docs.djangoproject.com/en/5.2/ref/settings/#secure-proxy-ssl-header
SECURE_PROXY_SSL_HEADER = env.tuple("SECURE_PROXY_SSL_HEADER", default=None)
if SECURE_PROXY_SSL_HEADER is not None and (
    len(SECURE_PROXY_SSL_HEADER) != 2 or not all(SECURE_PROXY_SSL_HEADER)
):
    raise ImproperlyConfigured(
        "SECURE_PROXY_SSL_HEADER is the header's request.META key and its value on HTTPS "
        "requests, separated by a comma, such as HTTP_X_FORWARDED_PROTO,https."
    )
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Browsers remember to use HTTPS only; a short SECURE_HSTS_SECONDS first is a safe way to start.
# https://docs.djangoproject.com/en/5.2/ref/middleware/#http-strict-transport-security
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if not SECURE_HSTS_PRELOAD:
    # Asking for preload is a commitment that the owner of the domain makes at hstspreload.org,
    # for the domain and all its subdomains, and that takes months to undo; it is theirs to make
    # with SECURE_HSTS_PRELOAD=True, so the check's warning about it is silenced until then.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
# Other origins whose forms may post here, such as https://www.example.org; the site's own origin
# needs no entry when the proxy passes the Host header on.
# https://docs.djangoproject.com/en/5.2/ref/settings/#csrf-trusted-origins
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# JSON lines for the log collector unless LOG_FORMAT says otherwise.
LOGGING["handlers"]["console"]["formatter"] = env("LOG_FORMAT", default="json")

# Hashed names that browsers may keep for good, with gzip and Brotli copies; built by collectstatic.
# https://whitenoise.readthedocs.io/en/stable/django.html#add-compression-and-caching-support
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
