"""Settings shared by every environment; each value can be overridden from the environment."""

import base64
import hashlib
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_HASHES
from django.utils.translation import gettext_lazy
from whitenoise.compress import Compressor

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])

DJANGO_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
]
THIRD_PARTY_APPS = [
    "rest_framework",
    # API tokens, created and revoked by staff in the admin.
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "reversion",
    "reversion_compare",
    "import_export",
    # Pauses logins after repeated failures: the AXES_ settings below.
    "axes",
]
LOCAL_APPS = [
    "policy",
]
INSTALLED_APPS = DJANGO_APPS + THIRD_PARTY_APPS + LOCAL_APPS

MIDDLEWARE = [
    # Before everything: balancers call /healthz and /readyz by IP address over plain HTTP.
    "policy.health.HealthCheckMiddleware",
    # Next, so every later log record and response carries the request's ID.
    "policy.observability.RequestIDMiddleware",
    # Before the page cache, so that a link's tracking parameters do not make a page of its own.
    "policy.middleware.DropTrackingParametersMiddleware",
    # As early as it can be: a cached answer is kept with the headers of every middleware below
    # (policy/cache.py), so that a hit runs none of them. It leaves static files to WhiteNoise.
    "policy.cache.PageCacheMiddleware",
    # The security headers come early, so that the answers of the middleware below carry them too.
    "django.middleware.security.SecurityMiddleware",
    # The policy is built from CONTENT_SECURITY_POLICY below, plus the origin of uploaded media.
    "policy.middleware.ContentSecurityPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Static files straight after the security headers, before sessions and the database.
    # https://whitenoise.readthedocs.io/en/stable/django.html#enable-whitenoise
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "policy.middleware.RejectNullCharactersMiddleware",
    # A view that cannot reach the database answers 503 rather than 500 (policy/availability.py).
    "policy.availability.DatabaseUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Before CommonMiddleware, so its redirects carry the CORS headers too.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "policy.middleware.LazyMessageMiddleware",
    "policy.security.PermissionDeniedLogMiddleware",
    # Turns a login that django-axes refused into its lockout page.
    "axes.middleware.AxesMiddleware",
    # Last, to wrap the view alone in the transaction of a write.
    "policy.transactions.AtomicWritesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# https://django-environ.readthedocs.io/en/latest/types.html#environ-env-db-url
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# Writes are atomic per request: policy.transactions.AtomicWritesMiddleware, not ATOMIC_REQUESTS.
# Each worker keeps its connection for up to a minute, checked before a request reuses it. A new
# connection per request cost up to half the throughput; psycopg's pool did no better for workers
# that serve one request at a time (bench/results/connection-reuse.md).
# https://docs.djangoproject.com/en/5.2/ref/databases/#persistent-connections
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
# A PostgreSQL server that does not answer holds a request for this many seconds, not until the
# worker is killed; the request is then answered 503 (policy/availability.py). DATABASE_URL may
# set its own, as ?connect_timeout=2.
# https://www.postgresql.org/docs/15/libpq-connect.html#LIBPQ-CONNECT-CONNECT-TIMEOUT
if DATABASES["default"].get("ENGINE") == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    # Django's backend, told how many parameters PostgreSQL binds (policy/database/base.py).
    DATABASES["default"]["ENGINE"] = "policy.database"
    # The parameters go to the server apart from the query, so that psycopg prepares a query
    # asked DB_PREPARE_THRESHOLD times on a connection, and PostgreSQL plans it once per
    # connection instead of on every request (planning was most of its time for a commitment
    # page). Empty: never prepared, as PgBouncer before 1.21 in transaction mode needs.
    # https://docs.djangoproject.com/en/5.2/ref/databases/#server-side-parameters-binding
    # https://www.psycopg.org/psycopg3/docs/advanced/prepare.html
    _prepare_threshold = env("DB_PREPARE_THRESHOLD", default="5")
    DATABASES["default"]["OPTIONS"].update(
        server_side_binding=True,
        prepare_threshold=int(_prepare_threshold) if _prepare_threshold else None,
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# https://docs.djangoproject.com/en/5.2/topics/cache/
# https://github.com/jazzband/django-redis#configure-as-cache-backend
# Redis when REDIS_URL is set, shared by every app server; otherwise each process's own memory.
# "pages" is the page cache (policy/cache.py), which notices Redis errors itself and serves from
# the database meanwhile; the rest (API throttling) goes on without Redis, and logs its errors.
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    _redis = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "puente",
        "OPTIONS": {
            # django-redis's own, reading values faster (policy/redis_client.py).
            "CLIENT_CLASS": "policy.redis_client.RedisClient",
            # A Redis that does not answer must not hold a request up for long.
            "SOCKET_CONNECT_TIMEOUT": 0.5,
            "SOCKET_TIMEOUT": 0.5,
        },
    }
    CACHES = {
        "default": {**_redis, "OPTIONS": {**_redis["OPTIONS"], "IGNORE_EXCEPTIONS": True}},
        "pages": {**_redis, "OPTIONS": {**_redis["OPTIONS"], "IGNORE_EXCEPTIONS": False}},
    }
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        "pages": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "pages"},
    }
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
# django-redis's default, said: it reads this setting twice at the end of every request, and a
# setting that is missing costs an AttributeError each time.
DJANGO_REDIS_CLOSE_CONNECTION = False
# How long an anonymous page or API read may be answered from the page cache; 0 turns it off.
# Off by default without Redis: one process's memory would not hear of edits made through another.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=300 if REDIS_URL else 0)
# How long what many pages show alike (the options of the filters) may be kept between changes of
# the content, in the same cache and with the same invalidation; 0 turns it off.
FRAGMENT_CACHE_SECONDS = env.int("FRAGMENT_CACHE_SECONDS", default=3600 if REDIS_URL else 0)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# https://django-axes.readthedocs.io/en/latest/4_configuration.html
# After LOGIN_FAILURE_LIMIT failed logins, logins to that account from that address pause for
# LOGIN_COOLOFF_MINUTES. Counted per username and address together: an attacker pauses their own
# attempts, never the owner's from elsewhere. Wrong API tokens pause their address by the same
# numbers (policy/api/authentication.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Attempts during a pause are refused without being counted, so that it ends when it said.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "policy.security.lockout_response"
AXES_CLIENT_IP_CALLABLE = "policy.security.client_ip"
# policy/security.py logs logins and failures; no table of every login, no start-up banner.
AXES_DISABLE_ACCESS_LOG = True
AXES_VERBOSE = False
# Hidden in the copy of the login form that a failed attempt keeps, as the password always is.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "csrfmiddlewaretoken"]
# How many proxies in front of the app servers append the address they were reached from to
# X-Forwarded-For: the client's address is that many entries from the end. 0 (no proxy) uses
# the connection's address. Never more than there are: clients would choose their address.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("es", "Español"),
    ("pt-br", "Português (Brasil)"),
    ("zh-hans", "简体中文"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Django serves MEDIA_ROOT itself only on one machine (`make serve`); DEBUG does it in development.
SERVE_MEDIA = env.bool("SERVE_MEDIA", default=False)
# /bench/: the views that bench/run.py holds the app's own against (bench/README.md); never on
# a real site.
BENCH_VIEWS = env.bool("BENCH_VIEWS", default=False)

# https://docs.djangoproject.com/en/5.2/ref/settings/#storages
# Production replaces the static files storage with whitenoise's hashed, compressed one.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Media in S3-compatible object storage once a bucket is named; the keys come from boto3's usual
# chain (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the machine's role).
# https://django-storages.readthedocs.io/en/latest/backends/amazon-S3.html
if AWS_STORAGE_BUCKET_NAME := env("AWS_STORAGE_BUCKET_NAME", default=""):
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": AWS_STORAGE_BUCKET_NAME,
            "endpoint_url": env("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env("AWS_S3_REGION_NAME", default=None),
            "custom_domain": env("AWS_S3_CUSTOM_DOMAIN", default=None),
            # Media is public, and a signed URL would expire inside a cached page.
            "querystring_auth": env.bool("AWS_QUERYSTRING_AUTH", default=False),
            # A stored name never gets new content: uploads get generated names, and renditions
            # are named after their original.
            "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
        },
    }
# Only developer tools fetch source maps; compressing them doubled the time of collectstatic.
# https://whitenoise.readthedocs.io/en/stable/django.html#WHITENOISE_SKIP_COMPRESS_EXTENSIONS
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]

# Seed data and the source documents it was taken from.
FIXTURE_DIRS = [BASE_DIR / "fixtures"]

LOGIN_URL = "admin:login"

# Security headers on every response, in every environment; production.py adds the HTTPS ones.
# https://docs.djangoproject.com/en/5.2/ref/middleware/#module-django.middleware.security
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No script reads either cookie: the admin, the browsable API and Swagger UI take the CSRF token
# from the page, so HttpOnly costs nothing. Lax keeps both off cross-site subrequests and POSTs.
# https://docs.djangoproject.com/en/5.2/ref/settings/#csrf-cookie-httponly
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"


def csp_hash(inline_code):
    """The CSP source that allows exactly this inline code, and nothing else."""
    digest = base64.b64encode(hashlib.sha256(inline_code.encode()).digest()).decode()
    return f"'sha256-{digest}'"


# The style attributes that add-ons write, always the same: these exact values are allowed by their
# hashes, and any other attribute is refused. The same goes for one event handler, below.
# https://www.w3.org/TR/CSP3/#unsafe-hashes-usage
ADD_ON_STYLE_ATTRIBUTES = [
    # django-import-export's export page.
    "padding: 0;",
    "font-weight: bold;",
    # django-reversion-compare's history hides the first version's "compare from" button.
    "visibility:hidden",
    # The browsable API's format menu, filters button, search box and ordering ticks.
    "float: right; margin-right: 10px",
    "width: 350px",
    "float: right",
]

# https://django-csp.readthedocs.io/en/latest/configuration.html
# Scripts and styles come only from our own files: no inline code but the attributes above, and
# no CDN. A page that needs more relaxes the policy for itself alone, with django-csp's decorators
# (ReDoc, in config/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        # The "Select all" toggle of django-import-export's export page.
        "script-src-attr": [UNSAFE_HASHES, csp_hash("onSelectToggleChange(event)")],
        "style-src-attr": [UNSAFE_HASHES, *map(csp_hash, ADD_ON_STYLE_ATTRIBUTES)],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
# No policy in report-only mode. Said rather than left out: the middleware reads it for every
# answer, and a setting that is missing costs an AttributeError each time.
CONTENT_SECURITY_POLICY_REPORT_ONLY = None

# https://www.django-rest-framework.org/api-guide/settings/
REST_FRAMEWORK = {
    # Tokens first: a request without credentials is then answered 401 with WWW-Authenticate.
    # The session serves the browsable API.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "policy.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Reads for anyone; writes with the admin's model permissions (policy/api/permissions.py).
    "DEFAULT_PERMISSION_CLASSES": [
        "policy.api.permissions.EditorialPermissions",
    ],
    "DEFAULT_RENDERER_CLASSES": [
        # DRF's JSON, written faster by orjson (policy/api/renderers.py).
        "policy.api.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_FILTER_BACKENDS": [
        # django-filter, without the FilterSet when no filter is given (policy/api/filtering.py).
        "policy.api.filtering.FilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "policy.api.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    # Every error answers as RFC 9457 problem details: policy/api/errors.py.
    "EXCEPTION_HANDLER": "policy.api.errors.problem_details_handler",
    # https://www.django-rest-framework.org/api-guide/throttling/
    "DEFAULT_THROTTLE_CLASSES": [
        "policy.api.throttling.AnonRateThrottle",
        "policy.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="120/minute"),
        "user": env("API_THROTTLE_USER", default="600/minute"),
    },
    # Anonymous clients are counted by the address the proxies saw, as in policy/security.py;
    # unset, DRF would count them by an X-Forwarded-For that each client writes itself.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    # https://drf-spectacular.readthedocs.io/en/latest/customization.html
    "DEFAULT_SCHEMA_CLASS": "policy.api.schema.AutoSchema",
}

# https://drf-spectacular.readthedocs.io/en/latest/settings.html
SPECTACULAR_SETTINGS = {
    "TITLE": "Puente API",
    "VERSION": "1.0.0",
    "DESCRIPTION": (BASE_DIR / "policy" / "api" / "description.md").read_text(encoding="utf-8"),
    # The schema describes the records, not itself.
    "SERVE_INCLUDE_SCHEMA": False,
    # Separate request and response components, so read-only fields are not asked for on writes.
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI and ReDoc come from the drf-spectacular-sidecar package, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Start and end precision share one vocabulary, so one enum.
    "ENUM_NAME_OVERRIDES": {"DatePrecisionEnum": "policy.models.DatePrecision"},
    # No badge fetched from the public validator.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# https://github.com/adamchainz/django-cors-headers#configuration
# Other sites may read the API from the browser; writing stays same-origin.
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
CORS_ALLOW_CREDENTIALS = False

# https://django-filter.readthedocs.io/en/stable/ref/settings.html
# Screen readers read the default "---------" out as dashes.
FILTERS_EMPTY_CHOICE_LABEL = gettext_lazy("Any")

# https://docs.djangoproject.com/en/5.2/topics/logging/#configuring-logging
# LOG_FORMAT=json writes one JSON object per line for a log collector (production's default),
# text is for reading by eye. Every record of a request carries its ID: policy/observability.py.
LOGGING_CONFIG = "policy.observability.configure_logging"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "policy.observability.RequestIDFilter"}},
    "formatters": {
        "json": {"()": "policy.observability.JsonFormatter"},
        "text": {
            "()": "logging.Formatter",
            "fmt": "{asctime} {levelname} {name} {request_id} {message}",
            "style": "{",
            "defaults": {"request_id": "-"},
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": env("LOG_FORMAT", default="text"),
        },
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # Without Django's own handlers (console when DEBUG, mail_admins), whose copies of its
    # records would bypass the format above; the records reach the root's handler.
    "loggers": {
        "django": {"handlers": [], "level": "INFO"},
        # policy.security logs failed logins and lockouts itself, once each.
        "axes": {"level": "WARNING"},
    },
}
