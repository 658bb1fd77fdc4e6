"""The image of a record, shown small in the admin's lists and change forms."""

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from policy.images import renditions


class ImagePreviewAdminMixin:
    """Adds `image_thumbnail`, for `list_display` and `readonly_fields` of an illustrated model."""

    @admin.display(description=_("image"))
    def image_thumbnail(self, record):
        thumbnail = renditions(record.image).get("thumbnail")
        if thumbnail is None:
            return self.get_empty_value_display()
        return format_html(
            '<img src="{}" width="{}" height="{}" alt="{}" loading="lazy">',
            thumbnail.url,
            thumbnail.width,
            thumbnail.height,
            record.image_alt,
        )
