"""Settings for the test suite."""

from .base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "test-only-secret-key-not-used-anywhere-else"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# The page and fragment caches are off: tests pin the queries of views (a miss adds those for the
# next scheduled change), and their transactions never commit, which is when the caches are
# invalidated. tests/test_cache.py turns them on and checks them.
PAGE_CACHE_SECONDS = 0
FRAGMENT_CACHE_SECONDS = 0

# Static files are looked up per request, as in development: the tests run without collectstatic.
# https://whitenoise.readthedocs.io/en/stable/django.html#WHITENOISE_AUTOREFRESH
WHITENOISE_AUTOREFRESH = True
