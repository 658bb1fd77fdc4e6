"""Uploads an attacker would try, through the admin and the API.

tests/test_images.py covers the ordinary refusals (a text file named .jpg, GIF and BMP, cut-off
files, the size and pixel limits, bombs refused undecoded). Here: other formats in disguise,
polyglots, metadata, hostile file names, oversized requests, and the memory a bomb takes.
"""

import hashlib
import io
import re
import subprocess
import sys
import zlib

import hypothesis
import pytest
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from hypothesis import strategies as st
from PIL import EpsImagePlugin, ExifTags, Image, ImageCms, PngImagePlugin
from rest_framework.authtoken.models import Token

from policy import images
from policy.images import rendition_name
from policy.models import Article
from tests.admin_forms import admin_url, change_form_data
from tests.factories import ArticleFactory, image_upload
from tests.test_images import ALT, image_bytes, image_error, submit

pytestmark = pytest.mark.django_db

SPECS = ["thumbnail", "card", "full"]
GENERATED_NAME = re.compile(r"images/article/[0-9a-f]{32}\.(jpg|png|webp)")
SCRIPT = b"<script>alert(document.cookie)</script>"


def png_chunk(kind, data):
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")


def black_png(width, height, *, colour_type=0, bit_depth=1, chunks=b""):
    """A complete PNG of black pixels, compressed row by row: the image is never in memory."""
    channels = {0: 1, 2: 3}[colour_type]
    row = bytes(1 + (width * channels * bit_depth + 7) // 8)
    compressor = zlib.compressobj(9)
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = (
        width.to_bytes(4, "big")
        + height.to_bytes(4, "big")
        + bytes([bit_depth, colour_type, 0, 0, 0])
    )
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + chunks
        + png_chunk(b"IDAT", pixels)
        + png_chunk(b"IEND", b"")
    )


def fits_bytes(width=40, height=30):
    """A FITS file, the format of telescope images, which Pillow reads."""
    cards = ["SIMPLE  = T", "BITPIX  = 8", "NAXIS   = 2", f"NAXIS1  = {width}"]
    cards += [f"NAXIS2  = {height}", "END"]
    header = "".join(card.ljust(80) for card in cards).ljust(2880).encode("ascii")
    return header + bytes(width * height).ljust(2880, b"\x00")


def encoded(image_format, image=None, **options):
    buffer = io.BytesIO()
    (image or Image.effect_noise((300, 200), 64).convert("RGB")).save(
        buffer, image_format, **options
    )
    return buffer.getvalue()


def png_text(text):
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", text)
    return info


def stored_bytes(name):
    with default_storage.open(name) as file:
        return file.read()


def stored_image(name):
    image = Image.open(io.BytesIO(stored_bytes(name)))
    image.load()
    return image


def all_stored_bytes(name):
    return [stored_bytes(name), *(stored_bytes(rendition_name(name, spec)) for spec in SPECS)]


def saved_article(upload):
    form = submit(upload)
    assert form.is_valid(), form.errors
    return form.save()


def multipart(fields, *, filename, content, content_type="image/png"):
    """A multipart body as a client may send it, the file name exactly as given."""
    boundary = "puente-upload-boundary"
    parts = []
    for name, value in fields.items():
        for item in value if isinstance(value, list) else [value]:
            disposition = f'Content-Disposition: form-data; name="{name}"'
            parts.append(f"--{boundary}\r\n{disposition}\r\n\r\n{item}\r\n".encode())
    disposition = f'Content-Disposition: form-data; name="image"; filename="{filename}"'
    parts.append(
        f"--{boundary}\r\n{disposition}\r\nContent-Type: {content_type}\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


class ArticleChangeForm:
    """The admin change form of an article, posted with its fields as they are and some set."""

    def __init__(self, client, article):
        self.client, self.article = client, article
        self.url = admin_url(Article, "change", article.pk)
        self.data = change_form_data(client.get(self.url), image_alt=ALT)

    def post(self, **overrides):
        return self.client.post(self.url, {**self.data, **overrides})

    def post_file_named(self, filename, content):
        body, content_type = multipart(self.data, filename=filename, content=content)
        return self.client.post(self.url, body, content_type=content_type)

    @property
    def stored_image(self):
        return Article.objects.get(pk=self.article.pk).image


@pytest.fixture
def article_form(publisher_client):
    return ArticleChangeForm(publisher_client, ArticleFactory())


@pytest.fixture
def api_client(client, publisher):
    client.defaults["HTTP_AUTHORIZATION"] = f"Token {Token.objects.create(user=publisher).key}"
    return client


class TestFormatsInDisguise:
    @pytest.mark.parametrize(
        "content",
        [
            pytest.param(
                b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">' + SCRIPT + b"</svg>",
                id="SVG",
            ),
            pytest.param(
                b"\xff\xd8\xff\xe0<html>" + SCRIPT + b"</html>", id="HTML after JPEG magic"
            ),
            pytest.param(encoded("PDF"), id="PDF holding a JPEG"),
            pytest.param(b"", id="empty"),
        ],
    )
    def test_a_file_that_is_no_image_is_refused_though_named_and_typed_jpeg(self, content):
        upload = SimpleUploadedFile("photo.jpg", content, content_type="image/jpeg")
        assert image_error(upload) == (
            "not_an_image",
            "The file is not an image. Upload a JPEG, PNG or WebP file.",
        )

    @pytest.mark.parametrize(
        ("image_format", "content"),
        [
            ("FITS", fits_bytes()),
            ("TIFF", image_bytes(image_format="TIFF")),
            ("ICO", image_bytes(image_format="ICO")),
            ("EPS", image_bytes(image_format="EPS")),
        ],
    )
    def test_an_image_pillow_reads_in_another_format_is_refused_unopened(
        self, monkeypatch, image_format, content
    ):
        # Decoding an EPS runs Ghostscript on the upload.
        monkeypatch.setattr(EpsImagePlugin, "Ghostscript", pytest.fail)
        upload = SimpleUploadedFile("photo.jpg", content, content_type="image/jpeg")
        assert image_error(upload) == (
            "unsupported_format",
            f"{image_format} images are not accepted. Upload a JPEG, PNG or WebP file.",
        )


class TestPolyglots:
    """Files that are images and something else: the image is kept, the rest is not."""

    @pytest.mark.parametrize(
        "content",
        [
            pytest.param(encoded("JPEG") + b"<html>" + SCRIPT, id="HTML after the JPEG"),
            pytest.param(
                encoded("JPEG", comment=b"<?php system($_GET['c']); ?>" + SCRIPT), id="JPEG comment"
            ),
            pytest.param(encoded("PNG") + b"PK\x03\x04" + SCRIPT, id="ZIP after the PNG"),
            pytest.param(encoded("PNG", pnginfo=png_text(SCRIPT.decode())), id="PNG text chunk"),
            pytest.param(
                encoded("WEBP", xmp=b"<x:xmpmeta>" + SCRIPT + b"</x:xmpmeta>"), id="WebP XMP"
            ),
        ],
    )
    def test_what_is_smuggled_in_an_image_is_not_stored(self, content):
        assert SCRIPT in content
        article = saved_article(SimpleUploadedFile("photo.jpg", content))
        assert GENERATED_NAME.fullmatch(article.image.name)
        assert not any(SCRIPT in data for data in all_stored_bytes(article.image.name))
        original = Image.open(io.BytesIO(content))
        stored = stored_image(article.image.name)
        assert (stored.format, stored.size) == (original.format, original.size)


def gps_exif():
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Canon"
    exif[ExifTags.Base.Model] = "EOS 5D Mark IV"
    exif[ExifTags.Base.Artist] = "Ana Pérez"
    exif[ExifTags.Base.DateTime] = "2026:03:03 09:41:00"
    exif[ExifTags.Base.Orientation] = 6  # Stored sideways: turn 90° clockwise to view.
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "S"
    gps[ExifTags.GPS.GPSLatitude] = (11.0, 34.0, 58.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (77.0, 16.0, 12.0)
    return exif.tobytes()


PRIVATE = [b"Canon", b"EOS 5D", "Ana Pérez".encode(), b"2026:03:03", b"xmpmeta"]


class TestMetadata:
    @pytest.mark.parametrize(
        "content",
        [
            pytest.param(encoded("JPEG", exif=gps_exif(), xmp=b"<x:xmpmeta/>"), id="JPEG"),
            pytest.param(
                encoded("PNG", exif=gps_exif(), pnginfo=png_text("<x:xmpmeta/>")), id="PNG"
            ),
            pytest.param(encoded("WEBP", exif=gps_exif(), xmp=b"<x:xmpmeta/>"), id="WebP"),
        ],
    )
    def test_an_upload_through_the_admin_is_stored_without_place_device_or_time(
        self, article_form, content
    ):
        assert len([private for private in PRIVATE if private in content]) >= 4
        response = article_form.post(image=SimpleUploadedFile("photo.jpg", content))
        assert response.status_code == 302
        name = article_form.stored_image.name
        stored = stored_image(name)
        assert dict(stored.getexif()) == {ExifTags.Base.Orientation: 6}
        assert not stored.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert not {"xmp", "XML:com.adobe.xmp", "comment"} & stored.info.keys()
        for data in all_stored_bytes(name):
            assert not [private for private in PRIVATE if private in data]

    def test_the_photograph_is_still_shown_upright(self):
        article = saved_article(SimpleUploadedFile("photo.jpg", encoded("JPEG", exif=gps_exif())))
        article.refresh_from_db()
        assert (article.image_width, article.image_height) == (200, 300)
        card = Image.open(io.BytesIO(stored_bytes(rendition_name(article.image.name, "card"))))
        assert card.size == (200, 300)

    def test_a_jpeg_keeps_its_quality_and_colour_profile(self):
        profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        content = encoded("JPEG", quality=95, subsampling=0, icc_profile=profile)
        article = saved_article(SimpleUploadedFile("photo.jpg", content))
        stored, original = stored_image(article.image.name), Image.open(io.BytesIO(content))
        assert stored.quantization == original.quantization
        assert stored.info["icc_profile"] == profile

    @pytest.mark.parametrize(
        ("mode", "options"), [("P", {"transparency": 0}), ("RGBA", {}), ("I;16", {})]
    )
    def test_a_png_keeps_its_mode_and_transparency(self, mode, options):
        content = image_bytes(mode=mode, **options)
        stored = stored_image(saved_article(SimpleUploadedFile("logo.png", content)).image.name)
        assert stored.mode == mode
        assert stored.info.get("transparency") == options.get("transparency")

    @pytest.mark.parametrize(
        ("name", "image_format", "suffix"),
        [
            ("photo.jpg", "PNG", "png"),
            ("graphic.png", "JPEG", "jpg"),
            ("photo.jpeg", "JPEG", "jpg"),
            ("shell.php", "WEBP", "webp"),
        ],
    )
    def test_the_stored_name_takes_the_suffix_of_the_content(self, name, image_format, suffix):
        article = saved_article(image_upload(name, image_format=image_format))
        assert article.image.name.endswith(f".{suffix}")
        assert stored_image(article.image.name).format == image_format


class TestFileNames:
    @pytest.mark.parametrize(
        "filename",
        [
            "../../etc/passwd.png",
            "..\\..\\windows\\system32\\drivers\\etc\\hosts.png",
            "/etc/cron.d/job.png",
            "%2e%2e%2f%2e%2e%2fetc%2fpasswd.png",
            "&#46;&#46;&#47;&#46;&#46;&#47;evil.png",
            "photo\x00.php.png",
            "photo.png\x00.php",
            "shell.php",
            "照片 🙂.png",
            "A" * 900 + ".png",
        ],
    )
    def test_a_hostile_file_name_is_never_used_to_store_the_file(
        self, article_form, media_root, filename
    ):
        response = article_form.post_file_named(filename, image_bytes())
        assert response.status_code == 302
        name = article_form.stored_image.name
        assert re.fullmatch(r"images/article/[0-9a-f]{32}\.png", name)
        stored = sorted(str(path.relative_to(media_root)) for path in media_root.rglob("*.*"))
        assert stored == sorted([name, *(rendition_name(name, spec) for spec in SPECS)])

    @pytest.mark.parametrize("filename", ["..", ".", ""])
    def test_a_file_named_as_a_folder_is_not_taken(self, article_form, media_root, filename):
        response = article_form.post_file_named(filename, image_bytes())
        assert response.status_code == 302
        assert not article_form.stored_image
        assert not list(media_root.rglob("*.*"))


class TestOversizedRequests:
    def test_a_file_past_the_limit_is_refused_from_disk_never_held_in_memory(
        self, article_form, monkeypatch
    ):
        checked = []
        validate = images.validate_image_file

        def record_and_validate(file):
            checked.append(type(file))
            return validate(file)

        monkeypatch.setattr(images, "validate_image_file", record_and_validate)
        content = black_png(40, 30).ljust(images.MAX_UPLOAD_BYTES + 2**20, b"\x00")
        response = article_form.post(image=SimpleUploadedFile("photo.png", content))
        assert response.status_code == 200
        assert "The file is 11.0 MB; images may be at most 10.0 MB." in response.content.decode()
        assert checked == [TemporaryUploadedFile]
        assert not article_form.stored_image

    def test_form_fields_past_the_memory_limit_are_refused_with_400(self, article_form):
        body = "x" * (django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
        response = article_form.post(body=body)
        assert response.status_code == 400
        assert Article.objects.get(pk=article_form.article.pk).body != body

    def test_more_files_than_the_limit_are_refused_with_400(self, article_form):
        files = [
            SimpleUploadedFile(f"photo{n}.png", image_bytes())
            for n in range(django_settings.DATA_UPLOAD_MAX_NUMBER_FILES + 1)
        ]
        response = article_form.post(image=files)
        assert response.status_code == 400
        assert not article_form.stored_image

    def test_a_file_name_past_the_header_limit_is_refused_with_400(self, article_form):
        response = article_form.post_file_named("A" * 2000 + ".png", image_bytes())
        assert response.status_code == 400
        assert not article_form.stored_image

    def test_json_past_the_memory_limit_is_refused_with_400(self, api_client):
        title = "x" * django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        response = api_client.post(
            "/api/v1/keywords/", {"name": title, "slug": "x"}, content_type="application/json"
        )
        assert response.status_code == 400
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["status"] == 400
        assert not Article.objects.exists()


class TestApi:
    def test_the_api_takes_no_files(self, api_client):
        article = ArticleFactory()
        response = api_client.patch(
            f"/api/v1/articles/{article.slug}/",
            {"image": image_upload(), "image_alt": ALT},
        )
        assert response.status_code == 415
        assert not Article.objects.get(pk=article.pk).image

    def test_an_image_path_sent_as_json_is_ignored(self, api_client, media_root):
        article = ArticleFactory()
        response = api_client.patch(
            f"/api/v1/articles/{article.slug}/",
            {"image": "../../etc/passwd", "image_alt": ALT},
            content_type="application/json",
        )
        assert response.status_code == 200
        assert not Article.objects.get(pk=article.pk).image
        assert not media_root.exists() or not list(media_root.rglob("*.*"))


def sample_images():
    """Small images of every accepted kind, with metadata to damage too, the same every run."""
    noise = Image.frombytes("RGB", (48, 32), hashlib.shake_256(b"noise").digest(48 * 32 * 3))
    return [
        encoded("JPEG", noise, exif=gps_exif()),
        encoded("JPEG", noise, progressive=True),
        encoded("PNG", noise.convert("P"), transparency=0, pnginfo=png_text("text")),
        encoded("WEBP", noise, exif=gps_exif()),
        encoded("WEBP", noise.convert("RGBA"), lossless=True),
    ]


SAMPLE_IMAGES = sample_images()


@st.composite
def damaged_images(draw):
    """An accepted image with some bytes changed, and cut off at one point, or not."""
    content = bytearray(draw(st.sampled_from(SAMPLE_IMAGES)))
    for _ in range(draw(st.integers(1, 8))):
        content[draw(st.integers(0, len(content) - 1))] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        content = content[: draw(st.integers(0, len(content)))]
    return bytes(content)


@hypothesis.settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[hypothesis.HealthCheck.function_scoped_fixture],
)
@hypothesis.given(content=damaged_images())
def test_a_damaged_image_is_refused_saying_why_or_stored_with_its_renditions(content):
    form = submit(SimpleUploadedFile("photo.jpg", content))
    if not form.is_valid():
        [error] = form.errors.as_data()["image"]
        assert error.code in {"not_an_image", "truncated", "too_many_pixels", "unsupported_format"}
        hypothesis.event(f"refused: {error.code}")
        return
    hypothesis.event("stored")
    name = form.save().image.name
    assert stored_image(name).format in images.ALLOWED_FORMATS
    assert all(default_storage.exists(rendition_name(name, spec)) for spec in SPECS)


# Validates each file named on the command line in a process of its own, printing the refusal's
# code and the peak memory so far, in bytes.
MEASURE_PEAK_MEMORY = """
import re, sys, django
django.setup()
from django.core.exceptions import ValidationError
from django.core.files import File
from policy.images import validate_image_file
for path in sys.argv[1:]:
    with open(path, "rb") as file:
        try:
            validate_image_file(File(file))
            code = "accepted"
        except ValidationError as error:
            code = error.code
    # The peak of this program: ru_maxrss would start at the size of the forked test process.
    status = open("/proc/self/status").read()
    print(code, int(re.search(r"VmHWM:\\s+(\\d+) kB", status)[1]) * 1024)
"""


def test_refusing_a_bomb_takes_no_memory_to_speak_of(tmp_path):
    zlib_bomb = zlib.compress(bytes(200 * 2**20), 9)
    webp_header = ((16384 - 1) | ((16384 - 1) << 14)).to_bytes(4, "little")
    vp8l = b"VP8L" + (21).to_bytes(4, "little") + b"\x2f" + webp_header + bytes(16)
    files = {
        "small": black_png(40, 30),
        "pixels": black_png(20000, 20000),
        "text chunk": black_png(40, 30, chunks=png_chunk(b"zTXt", b"c\x00\x00" + zlib_bomb)),
        "colour profile": black_png(40, 30, chunks=png_chunk(b"iCCP", b"p\x00\x00" + zlib_bomb)),
        "webp": b"RIFF" + (4 + len(vp8l)).to_bytes(4, "little") + b"WEBP" + vp8l,
        # Decoded, as it is within the limits: 80 MB, which shows the measurement can see it.
        "decoded": black_png(5000, 4000, colour_type=2, bit_depth=8),
    }
    paths = []
    for label, content in files.items():
        assert len(content) < 2**20
        paths.append(tmp_path / label)
        paths[-1].write_bytes(content)
    result = subprocess.run(
        [sys.executable, "-c", MEASURE_PEAK_MEMORY, *map(str, paths)],
        cwd=django_settings.BASE_DIR,
        env={"DJANGO_SETTINGS_MODULE": "config.settings.test", "PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    )
    outcomes = [line.split() for line in result.stdout.splitlines()]
    codes = dict(zip(files, (code for code, _ in outcomes), strict=True))
    peaks = dict(zip(files, (int(peak) for _, peak in outcomes), strict=True))
    assert codes == {
        "small": "accepted",
        "pixels": "too_many_pixels",
        "text chunk": "not_an_image",
        "colour profile": "not_an_image",
        "webp": "too_many_pixels",
        "decoded": "accepted",
    }
    for bomb in ("pixels", "text chunk", "colour profile", "webp"):
        assert peaks[bomb] - peaks["small"] < 10 * 2**20, bomb
    assert peaks["decoded"] - peaks["small"] > 60 * 2**20
