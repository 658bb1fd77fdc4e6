"""Pieces shared by the admin modules."""

from django.db import models
from django.utils.translation import gettext_lazy as _

# The timestamps are set by the models; editors see them but cannot change them.
PUBLICATION_READONLY_FIELDS = ["first_published_at", "created_at", "updated_at"]
PUBLICATION_FIELDSET = (
    _("Publication"),
    {"fields": ["publication_status", *PUBLICATION_READONLY_FIELDS]},
)
SOURCE_FIELDSET = (_("Source"), {"fields": ["source_article", "source_quote"]})
# Editors paste bare domains; read them as https, Django 6's default.
HTTPS_URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}
