import re

from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps import views as sitemaps_views
from django.urls import include, path, re_path
from django.views.generic import TemplateView
from django.views.static import serve
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from policy.sitemaps import SITEMAPS

urlpatterns = [
    path("admin/", admin.site.urls),
    # The OpenAPI schema (YAML, or JSON with ?format=json) and its two readers.
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI's start-up script is served from its own URL, not inline, as the policy requires.
    path(
        "api/v1/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"
    ),
    # ReDoc writes its styles into <style> elements as it runs, and fails without them; its search
    # runs in a worker made from a blob: URL. The page shows only our own schema, so the policy
    # allows both on it alone.
    path(
        "api/v1/redoc/",
        csp_update({"style-src": [UNSAFE_INLINE], "worker-src": ["blob:"]})(
            SpectacularRedocView.as_view(url_name="api-schema")
        ),
        name="api-redoc",
    ),
    path("api/v1/", include("policy.api.urls")),
    # An index of the sections, each in pages: policy/sitemaps.py.
    path(
        "sitemap.xml",
        sitemaps_views.index,
        {"sitemaps": SITEMAPS, "sitemap_url_name": "sitemap-section"},
        name="sitemap",
    ),
    path(
        "sitemap-<section>.xml",
        sitemaps_views.sitemap,
        {"sitemaps": SITEMAPS},
        name="sitemap-section",
    ),
    path(
        "robots.txt",
        TemplateView.as_view(template_name="robots.txt", content_type="text/plain"),
        name="robots_txt",
    ),
]

# The public site is served in every language of LANGUAGES under its own prefix: /es/, /zh-hans/.
urlpatterns += i18n_patterns(path("", include("policy.urls")))

# Requests refused before any view, and unknown URLs, answer under /api/ as problem details.
handler400 = "policy.api.errors.bad_request"
handler404 = "policy.api.errors.page_not_found"
# Server errors too, with the request ID that finds the traceback in the logs.
handler500 = "policy.api.errors.server_error"

# Uploads on the local file system are served by Django in development and by `make serve` on
# one machine (SERVE_MEDIA); a deployment serves them from object storage or its proxy.
if settings.DEBUG or settings.SERVE_MEDIA:
    urlpatterns += [
        re_path(
            rf"^{re.escape(settings.MEDIA_URL.lstrip('/'))}(?P<path>.*)$",
            serve,
            {"document_root": settings.MEDIA_ROOT},
        )
    ]

# The benchmark's baselines inside the app (bench/views.py), only when a benchmark asks for them.
if settings.BENCH_VIEWS:
    urlpatterns += [path("bench/", include("bench.urls"))]
