"""Settings for a developer's machine: DEBUG on, a generated secret key, SQLite by default."""

import os

from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

from .base import *  # noqa: F403
from .base import BASE_DIR, env

DEBUG = env.bool("DEBUG", default=True)


def _local_secret_key():
    """A key generated once per checkout and kept out of git, so sessions survive restarts."""
    path = BASE_DIR / ".local-secret-key"
    if not path.exists():
        path.write_text(get_random_secret_key())
        path.chmod(0o600)
    return path.read_text().strip()


# Read as it is: env() takes a value starting with "$" for the name of another variable.
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("Set the SECRET_KEY environment variable when DEBUG is off.")
    SECRET_KEY = _local_secret_key()
