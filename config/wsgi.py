"""WSGI entry point: https://docs.djangoproject.com/en/5.2/howto/deployment/wsgi/"""

import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

django_application = get_wsgi_application()

# Imported once Django is set up: it loads the app's models.
from policy.wsgi import PageCacheFrontDoor  # noqa: E402

application = PageCacheFrontDoor(django_application)

# What the app loaded stays for the life of the process: out of the garbage collector's sight, a
# full collection no longer walks it, which took a millisecond or more of a list page.
# https://docs.python.org/3/library/gc.html#gc.freeze
gc.freeze()
