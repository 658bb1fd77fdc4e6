"""Pieces shared by the admin modules."""

from django.db import models
from django.utils.translation import gettext_lazy as _

SOURCE_FIELDSET = (_("Source"), {"fields": ["source_article", "source_quote"]})
# Editors paste bare domains; read them as https, Django 6's default.
HTTPS_URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}
