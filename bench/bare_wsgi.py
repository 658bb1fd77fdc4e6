"""The bare Django baseline's WSGI application: Django's own, as config/wsgi.py builds it, without
the app's page cache in front (it needs the app, which the baseline does not load).

DJANGO_SETTINGS_MODULE=bench.bare_settings gunicorn --config config/gunicorn.conf.py bench.bare_wsgi
"""

import gc

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()

gc.freeze()
