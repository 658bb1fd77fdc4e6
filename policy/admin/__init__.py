"""The editorial admin: every record of the tracker can be found and changed here."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from . import commitments, content, reference

admin.site.site_header = _("Puente")
admin.site.site_title = _("Puente editorial admin")

__all__ = ["commitments", "content", "reference"]
