"""Uploaded images: what is accepted, where it is stored, and the renditions the site serves."""

import io
import math
import uuid
from dataclasses import dataclass
from pathlib import PurePath, PurePosixPath

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models
from django.db.models.fields.files import ImageFieldFile
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from PIL import ExifTags, Image, ImageCms, ImageOps

# JPEG, PNG and WebP cover photographs and graphics; anything else is refused by content.
ALLOWED_FORMATS = {"JPEG", "PNG", "WEBP"}
ALLOWED_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}
SUFFIX_BY_FORMAT = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp"}
# How an original is encoded again without its metadata. A JPEG keeps its own quantization and
# so loses next to nothing; a WebP does not record its quality, and 90 stays above renditions'.
RESAVE_OPTIONS = {"JPEG": {"quality": "keep", "comment": b""}, "PNG": {}, "WEBP": {"quality": 90}}
MAX_UPLOAD_BYTES = 10 * 2**20
# 24 megapixels is a 6000 × 4000 photograph; decoding more would let one upload exhaust memory.
MAX_PIXELS = 24_000_000
# How Pillow reports a file that ends early; its WebP decoder only says it could not start.
_TRUNCATION_ERRORS = ("truncated", "broken data stream", "could not create decoder object")

# Pixel widths: the admin's thumbnail, a card in a list, and the full column of a page.
RENDITION_WIDTHS = {"thumbnail": 160, "card": 480, "full": 1200}
RENDITION_QUALITY = 80
_SRGB = ImageCms.createProfile("sRGB")


def _megabytes(size):
    # Rounded up, so that a file just over the limit never reads as the limit itself.
    return _("%s MB") % number_format(math.ceil(size * 10 / 2**20) / 10, 1)


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
        if any(message in str(error) for message in _TRUNCATION_ERRORS):
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


def without_metadata(file):
    """The image encoded again with its pixels, colour profile and EXIF orientation alone.

    The rest of what a camera or an editor wrote (place, time and device in EXIF or XMP,
    comments, text chunks) stays behind, and so does anything hidden after the image data, such
    as the HTML or script of a polyglot file. The name's suffix is the format's.
    """
    file.seek(0)
    with Image.open(file) as image:
        image_format = image.format
        exif = Image.Exif()
        orientation = image.getexif().get(ExifTags.Base.Orientation)
        if orientation in range(2, 9):
            # Kept rather than applied to the pixels: turning a JPEG would encode it anew.
            exif[ExifTags.Base.Orientation] = orientation
        buffer = io.BytesIO()
        image.save(
            buffer,
            image_format,
            exif=exif.tobytes() if exif else b"",
            icc_profile=image.info.get("icc_profile"),
            **RESAVE_OPTIONS[image_format],
        )
    return ContentFile(buffer.getvalue(), name=f"image{SUFFIX_BY_FORMAT[image_format]}")


class ImageUploadField(forms.ImageField):
    """The form field for images, which says why a file is refused.

    Django's own field refuses a non-image, a cut-off file and a decompression bomb alike with
    one message, before the model's validator can say which it is; this one asks the validator.
    """

    # The content decides, and names the stored file: the uploaded name is not checked.
    default_validators = []

    def to_python(self, data):
        if data:
            validate_image_file(data)
        return super().to_python(data)


class MetadataFreeImageFieldFile(ImageFieldFile):
    def save(self, name, content, save=True):
        """Store the image without its metadata, under a name with its format's suffix."""
        content = without_metadata(content)
        super().save(content.name, content, save)


class ValidatedImageField(models.ImageField):
    """An ImageField whose forms explain why an upload is refused, and which stores an upload
    without its metadata: no camera, place or time of the photograph reaches the media storage."""

    attr_class = MetadataFreeImageFieldFile

    def formfield(self, **kwargs):
        # max_length is the stored name's, which is generated: the uploaded name may be longer.
        return super().formfield(**{"form_class": ImageUploadField, **kwargs, "max_length": None})


@dataclass(frozen=True)
class Rendition:
    url: str
    width: int
    height: int


def rendition_name(name, spec):
    """Where a rendition is stored: derived from the original's name, so no lookup is needed."""
    return f"renditions/{PurePosixPath(name).with_suffix('')}-{spec}.webp"


def rendition_size(width, height, spec):
    """The spec's width, or the original's when it is narrower: a rendition is never upscaled."""
    scaled_width = min(RENDITION_WIDTHS[spec], width)
    return scaled_width, max(1, round(height * scaled_width / width))


def renditions(fieldfile):
    """The renditions of a stored image by spec, smallest first, sized without opening a file.

    Empty when there is no image, or its size is unknown (a record loaded raw from a fixture).
    """
    instance, field = fieldfile.instance, fieldfile.field
    width = getattr(instance, field.width_field)
    height = getattr(instance, field.height_field)
    if not (fieldfile and width and height):
        return {}
    return {
        spec: Rendition(
            fieldfile.storage.url(rendition_name(fieldfile.name, spec)),
            *rendition_size(width, height, spec),
        )
        for spec in RENDITION_WIDTHS
    }


def _in_srgb(image):
    """RGB(A) pixels in sRGB, which browsers assume: the original's colour profile is not copied."""
    mode = "RGBA" if image.has_transparency_data else "RGB"
    if image.mode == "I;16":
        # 16-bit greyscale: scaled to 8 bits, where a plain conversion would clip it to white.
        image = image.point(lambda value: value / 256, "L")
    if profile := image.info.get("icc_profile"):
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
            return ImageCms.profileToProfile(image, source, _SRGB, outputMode=mode)
        except ImageCms.PyCMSError:
            pass  # A damaged profile, or one for another mode: convert as if there were none.
    return image if image.mode == mode else image.convert(mode)


def generate_renditions(fieldfile):
    """Store the renditions of an image that are missing, and return its upright width and height.

    The renditions are WebP, turned upright by the EXIF orientation, and carry no metadata:
    no camera, place or time of the photograph reaches the public site.
    """
    storage = fieldfile.storage
    names = {spec: rendition_name(fieldfile.name, spec) for spec in RENDITION_WIDTHS}
    missing = [spec for spec, name in names.items() if not storage.exists(name)]
    with storage.open(fieldfile.name) as file, Image.open(file) as original:
        ImageOps.exif_transpose(original, in_place=True)
        if missing:
            image = _in_srgb(original)
            for spec in missing:
                buffer = io.BytesIO()
                resized = image.resize(rendition_size(*image.size, spec), Image.Resampling.LANCZOS)
                resized.save(buffer, "WEBP", quality=RENDITION_QUALITY)
                storage.save(names[spec], ContentFile(buffer.getvalue()))
        return original.size


def delete_image_files(storage, name):
    """Delete a stored image and its renditions."""
    for file_name in [name, *(rendition_name(name, spec) for spec in RENDITION_WIDTHS)]:
        storage.delete(file_name)
