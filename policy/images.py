"""Uploaded images: what is accepted, where it is stored, and the renditions the site serves."""

import uuid
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from PIL import Image

# JPEG, PNG and WebP cover photographs and graphics; anything else is refused by content.
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
ALLOWED_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
MAX_UPLOAD_BYTES = 10 * 2**20
# 24 megapixels is a 6000 × 4000 photograph; decoding more would let one upload exhaust memory.
MAX_PIXELS = 24_000_000


def _megabytes(size):
    return f"{size / 2**20:.1f} MB"


def validate_image_file(file):
    """Refuse anything but a complete JPEG, PNG or WebP of sensible size, saying why."""
    if getattr(file, "_committed", False):
        return  # Already stored: it was validated when it was uploaded.
    if file.size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("The file is %(size)s; images may be at most %(limit)s."),
            code="too_large",
            params={"size": _megabytes(file.size), "limit": _megabytes(MAX_UPLOAD_BYTES)},
        )
    file.seek(0)
    try:
        with Image.open(file) as image:
            image_format, (width, height) = image.format, image.size
            if image_format in ALLOWED_FORMATS and width * height <= MAX_PIXELS:
                image.load()
    except Image.DecompressionBombError:
        width = height = None
        image_format = "bomb"
    except (OSError, SyntaxError, ValueError) as error:
        if "truncated" in str(error) or "broken data stream" in str(error):
            raise ValidationError(
                _("The image is incomplete: the file was cut off. Upload it again."),
                code="truncated",
            ) from None
        raise ValidationError(
            _("The file is not an image. Upload a JPEG, PNG or WebP file."), code="not_an_image"
        ) from None
    finally:
        file.seek(0)
    if image_format == "bomb" or width * height > MAX_PIXELS:
        raise ValidationError(
            _("The image has too many pixels; at most %(limit)s megapixels are accepted."),
            code="too_many_pixels",
            params={"limit": MAX_PIXELS // 1_000_000},
        )
    if image_format not in ALLOWED_FORMATS:
        raise ValidationError(
            _("%(format)s images are not accepted. Upload a JPEG, PNG or WebP file."),
            code="unsupported_format",
            params={"format": image_format},
        )


def image_upload_to(instance, filename):
    """A generated name, so uploads never collide, overwrite or travel outside the media folder."""
    suffix = PurePath(filename).suffix.lower()
    suffix = suffix if suffix in ALLOWED_SUFFIXES else ""
    return f"images/{instance._meta.model_name}/{uuid.uuid4().hex}{suffix}"
