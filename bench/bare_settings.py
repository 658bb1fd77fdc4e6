"""The bare Django baseline: the trivial view alone, with no app, no middleware, no database.

DJANGO_SETTINGS_MODULE=bench.bare_settings gunicorn --config config/gunicorn.conf.py bench.bare_wsgi
"""

import os

DEBUG = False
SECRET_KEY = os.environ.get("SECRET_KEY", "bench-bare-django-only")
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.bare_urls"
INSTALLED_APPS = []
MIDDLEWARE = []
DATABASES = {}
USE_TZ = True
