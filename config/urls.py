from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("policy.api.urls")),
]

# The public site is served in every language of LANGUAGES under its own prefix: /es/, /zh-hans/.
urlpatterns += i18n_patterns(path("", include("policy.urls")))

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
