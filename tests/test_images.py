import contextlib
import io
import re

import pytest
import reversion
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.template import Context, Template
from django.urls import reverse
from PIL import ExifTags, Image, ImageCms, ImageFile

from policy import images
from policy.admin.images import ImagePreviewAdminMixin
from policy.images import ImageUploadField, rendition_name
from policy.models import Article
from tests.admin_forms import admin_url, change_form_data
from tests.factories import ArticleFactory, FocusAreaFactory, image_upload

pytestmark = pytest.mark.django_db

ALT = "Cranes unloading containers at the port of Chancay"
SPECS = ["thumbnail", "card", "full"]


class ArticleImageForm(forms.ModelForm):
    class Meta:
        model = Article
        fields = ["image", "image_alt"]
        field_classes = {"image": ImageUploadField}


def image_bytes(size=(40, 30), image_format="PNG", *, mode="RGB", noise=False, **options):
    """An encoded image; noise keeps it from compressing away, so that a cut hits the pixels."""
    image = Image.effect_noise(size, 64).convert(mode) if noise else Image.new(mode, size)
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def submit(upload, *, article=None, alt=ALT):
    return ArticleImageForm(
        data={"image_alt": alt},
        files={"image": upload} if upload else {},
        instance=article or ArticleFactory.build(),
    )


def image_error(upload):
    form = submit(upload)
    assert not form.is_valid()
    [error] = form.errors.as_data()["image"]
    return error.code, form.errors["image"][0]


def stored_files(name):
    return [name, *(rendition_name(name, spec) for spec in SPECS)]


def rendition_image(name, spec):
    with default_storage.open(rendition_name(name, spec)) as file:
        image = Image.open(file)
        image.load()
        return image


def render(template_code, **context):
    return Template("{% load images %}" + template_code).render(Context(context))


@pytest.fixture
def no_decoding(monkeypatch):
    """Fails the test if any image is decoded, which is what a decompression bomb exploits."""

    def refuse_to_decode(image):
        raise AssertionError(f"{image.format} {image.size} was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse_to_decode)


@pytest.fixture
def article_with_image():
    return ArticleFactory(
        image=image_upload(size=(2000, 1000)), image_alt=ALT, title="Port of Chancay"
    )


class TestUploadValidation:
    @pytest.mark.parametrize(
        ("name", "content"),
        [
            ("notes.jpg", b"Minutes of the ministerial meeting, not a photograph.\n"),
            ("page.png", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
            ("report.jpg", b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"),
        ],
    )
    def test_a_file_that_is_not_an_image_is_refused_whatever_its_name(self, name, content):
        code, message = image_error(SimpleUploadedFile(name, content))
        assert code == "not_an_image"
        assert message == "The file is not an image. Upload a JPEG, PNG or WebP file."

    @pytest.mark.parametrize("image_format", ["GIF", "BMP"])
    def test_an_image_in_another_format_is_refused_by_name(self, image_format):
        upload = SimpleUploadedFile("photo.png", image_bytes(image_format=image_format))
        code, message = image_error(upload)
        assert code == "unsupported_format"
        assert message == (
            f"{image_format} images are not accepted. Upload a JPEG, PNG or WebP file."
        )

    @pytest.mark.parametrize("image_format", ["PNG", "JPEG", "WEBP"])
    def test_a_cut_off_image_is_refused_as_incomplete(self, image_format):
        content = image_bytes((300, 200), image_format, noise=True)
        upload = SimpleUploadedFile("photo.img", content[: len(content) // 2])
        code, message = image_error(upload)
        assert code == "truncated"
        assert message == "The image is incomplete: the file was cut off. Upload it again."

    def test_a_file_over_the_size_limit_is_refused_with_both_sizes(self, monkeypatch):
        monkeypatch.setattr(images, "MAX_UPLOAD_BYTES", 100 * 1024)
        content = image_bytes((300, 200), noise=True)
        assert 100 * 1024 < len(content) < 0.2 * 2**20
        code, message = image_error(SimpleUploadedFile("photo.png", content))
        assert code == "too_large"
        assert message == "The file is 0.2 MB; images may be at most 0.1 MB."

    @pytest.mark.parametrize(
        "size",
        [
            pytest.param((20000, 20000), id="past Pillow's own bomb limit"),
            pytest.param((6000, 4500), id="past the site's pixel limit only"),
        ],
    )
    def test_a_decompression_bomb_is_refused_without_being_decoded(self, size, no_decoding):
        content = image_bytes(size, mode="1")
        assert len(content) < 2**20
        code, message = image_error(SimpleUploadedFile("photo.png", content))
        assert code == "too_many_pixels"
        assert message == "The image has too many pixels; at most 24 megapixels are accepted."

    def test_the_model_refuses_an_image_past_the_pixel_limit_too(self, no_decoding):
        content = image_bytes((6000, 4500), mode="1")
        article = ArticleFactory.build(
            image=SimpleUploadedFile("photo.png", content), image_alt=ALT
        )
        with pytest.raises(ValidationError) as raised:
            article.full_clean()
        assert [error.code for error in raised.value.error_dict["image"]] == ["too_many_pixels"]

    @pytest.mark.parametrize(
        ("image_format", "suffix"), [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")]
    )
    def test_a_jpeg_png_or_webp_is_stored_under_a_generated_name(self, image_format, suffix):
        upload = image_upload(f"Harbour photo.{suffix}", image_format=image_format)
        form = submit(upload)
        assert form.is_valid(), form.errors
        article = form.save()
        assert re.fullmatch(rf"images/article/[0-9a-f]{{32}}\.{suffix}", article.image.name)
        assert default_storage.exists(article.image.name)

    def test_a_path_in_the_uploaded_name_cannot_leave_the_images_folder(self, media_root):
        form = submit(image_upload("../../etc/passwd.png"))
        assert form.is_valid(), form.errors
        article = form.save()
        assert re.fullmatch(r"images/article/[0-9a-f]{32}\.png", article.image.name)
        assert (media_root / article.image.name).resolve().is_relative_to(media_root / "images")

    def test_an_image_without_alt_text_is_refused(self):
        form = submit(image_upload(), alt=" ")
        assert not form.is_valid()
        assert form.errors["image_alt"] == ["Describe the image for screen readers."]


class TestRenditions:
    def test_renditions_are_webp_at_the_widths_of_their_specs(self, article_with_image):
        name = article_with_image.image.name
        sizes = {}
        for spec in SPECS:
            image = rendition_image(name, spec)
            assert image.format == "WEBP"
            sizes[spec] = image.size
        assert sizes == {"thumbnail": (160, 80), "card": (480, 240), "full": (1200, 600)}

    def test_a_small_original_is_not_upscaled(self):
        article = ArticleFactory(image=image_upload(size=(300, 200)), image_alt=ALT)
        sizes = {spec: rendition_image(article.image.name, spec).size for spec in SPECS}
        assert sizes == {"thumbnail": (160, 107), "card": (300, 200), "full": (300, 200)}

    def test_renditions_are_turned_upright_and_carry_no_exif(self):
        exif = Image.Exif()
        exif[ExifTags.Base.Orientation] = 6  # Stored sideways: turn 90° clockwise to view.
        exif[ExifTags.Base.Make] = "Camera maker"
        exif[ExifTags.Base.Artist] = "The photographer's name"
        upload = SimpleUploadedFile(
            "photo.jpg", image_bytes((300, 200), "JPEG", exif=exif.tobytes())
        )
        article = ArticleFactory(image=upload, image_alt=ALT)

        card = rendition_image(article.image.name, "card")
        assert card.size == (200, 300)
        assert not card.getexif()
        assert not {"exif", "xmp", "icc_profile"} & card.info.keys()
        article.refresh_from_db()
        assert (article.image_width, article.image_height) == (200, 300)

    def test_saving_the_form_again_keeps_the_upright_size(self):
        exif = Image.Exif()
        exif[ExifTags.Base.Orientation] = 6
        form = submit(
            SimpleUploadedFile("photo.jpg", image_bytes((300, 200), "JPEG", exif=exif.tobytes()))
        )
        article = form.save()

        submit(None, article=article, alt="A new description").save()
        article.refresh_from_db()
        assert (article.image_width, article.image_height) == (200, 300)
        assert article.image_alt == "A new description"

    def test_palette_and_cmyk_images_become_rgb_keeping_transparency(self):
        transparent = ArticleFactory(
            image=SimpleUploadedFile("logo.png", image_bytes(mode="P", transparency=0)),
            image_alt=ALT,
        )
        cmyk = ArticleFactory(
            image=SimpleUploadedFile("print.jpg", image_bytes(image_format="JPEG", mode="CMYK")),
            image_alt=ALT,
        )
        assert rendition_image(transparent.image.name, "card").mode == "RGBA"
        assert rendition_image(cmyk.image.name, "card").mode == "RGB"

    def test_a_colour_profile_is_applied_to_the_pixels_not_copied(self):
        profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        upload = SimpleUploadedFile("photo.png", image_bytes(icc_profile=profile))
        article = ArticleFactory(image=upload, image_alt=ALT)
        card = rendition_image(article.image.name, "card")
        assert card.mode == "RGB"
        assert "icc_profile" not in card.info

    def test_sixteen_bit_greyscale_keeps_its_tones(self):
        greyscale = Image.new("I;16", (40, 30), 200 * 256)
        buffer = io.BytesIO()
        greyscale.save(buffer, "PNG")
        article = ArticleFactory(
            image=SimpleUploadedFile("scan.png", buffer.getvalue()), image_alt=ALT
        )
        red, green, blue = rendition_image(article.image.name, "card").getpixel((20, 15))
        assert abs(red - 200) <= 2
        assert red == green == blue

    def test_generating_again_keeps_the_existing_renditions(self, article_with_image):
        name = rendition_name(article_with_image.image.name, "card")
        written_at = default_storage.get_modified_time(name)
        assert images.generate_renditions(article_with_image.image) == (2000, 1000)
        assert default_storage.get_modified_time(name) == written_at
        folder, _, _ = name.rpartition("/")
        assert len(default_storage.listdir(folder)[1]) == len(SPECS)


class TestFileCleanup:
    def test_replacing_the_image_deletes_the_old_files(
        self, article_with_image, django_capture_on_commit_callbacks
    ):
        old_name = article_with_image.image.name
        with django_capture_on_commit_callbacks(execute=True):
            article_with_image.image = image_upload("new.png")
            article_with_image.save()
        assert not any(default_storage.exists(name) for name in stored_files(old_name))
        assert all(
            default_storage.exists(name) for name in stored_files(article_with_image.image.name)
        )

    def test_removing_the_image_deletes_its_files(
        self, article_with_image, django_capture_on_commit_callbacks
    ):
        old_name = article_with_image.image.name
        with django_capture_on_commit_callbacks(execute=True):
            article_with_image.image = ""
            article_with_image.image_alt = ""
            article_with_image.save()
        assert not any(default_storage.exists(name) for name in stored_files(old_name))

    def test_deleting_the_record_deletes_its_files(
        self, article_with_image, django_capture_on_commit_callbacks
    ):
        name = article_with_image.image.name
        with django_capture_on_commit_callbacks(execute=True):
            article_with_image.delete()
        assert not any(default_storage.exists(name) for name in stored_files(name))

    def test_deleting_a_focus_area_deletes_its_files(self, django_capture_on_commit_callbacks):
        focus_area = FocusAreaFactory(image=image_upload(), image_alt=ALT)
        name = focus_area.image.name
        with django_capture_on_commit_callbacks(execute=True):
            focus_area.delete()
        assert not any(default_storage.exists(name) for name in stored_files(name))

    def test_a_file_that_another_record_uses_is_kept(
        self, article_with_image, django_capture_on_commit_callbacks
    ):
        name = article_with_image.image.name
        ArticleFactory(image=name, image_alt=ALT)
        with django_capture_on_commit_callbacks(execute=True):
            article_with_image.delete()
        assert all(default_storage.exists(name) for name in stored_files(name))

    def test_a_file_that_history_can_restore_is_kept(
        self, article_with_image, django_capture_on_commit_callbacks
    ):
        name = article_with_image.image.name
        with reversion.create_revision():
            article_with_image.save()
        with django_capture_on_commit_callbacks(execute=True):
            article_with_image.delete()
        assert all(default_storage.exists(name) for name in stored_files(name))

    def test_a_replacement_that_is_rolled_back_keeps_the_old_files(
        self, article_with_image, django_capture_on_commit_callbacks
    ):
        old_name = article_with_image.image.name
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            contextlib.suppress(RuntimeError),
            transaction.atomic(),
        ):
            article_with_image.image = image_upload("new.png")
            article_with_image.save()
            raise RuntimeError
        assert callbacks == []
        assert all(default_storage.exists(name) for name in stored_files(old_name))


class TestResponsiveImageTag:
    def test_the_image_offers_every_rendition_with_its_width(self, article_with_image):
        html = render("{% responsive_image article sizes='50vw' %}", article=article_with_image)
        name = article_with_image.image.name
        srcset = ", ".join(
            f"/media/{rendition_name(name, spec)} {width}w"
            for spec, width in [("thumbnail", 160), ("card", 480), ("full", 1200)]
        )
        assert f'srcset="{srcset}"' in html
        assert f'src="/media/{rendition_name(name, "card")}"' in html
        assert 'sizes="50vw"' in html
        assert 'width="480"' in html
        assert 'height="240"' in html
        assert 'loading="lazy"' in html
        assert 'decoding="async"' in html
        assert f'alt="{ALT}"' in html

    def test_a_small_image_names_each_width_once(self):
        article = ArticleFactory(image=image_upload(size=(300, 200)), image_alt=ALT)
        html = render("{% responsive_image article %}", article=article)
        [srcset] = re.findall(r'srcset="([^"]*)"', html)
        assert [candidate.split()[1] for candidate in srcset.split(", ")] == ["160w", "300w"]

    def test_the_chosen_rendition_sets_src_and_size_and_eager_loading(self, article_with_image):
        html = render(
            "{% responsive_image article rendition='full' css_class='lead-image' lazy=False %}",
            article=article_with_image,
        )
        assert f'src="/media/{rendition_name(article_with_image.image.name, "full")}"' in html
        assert 'width="1200"' in html
        assert 'height="600"' in html
        assert 'class="lead-image"' in html
        assert "loading=" not in html

    def test_the_alt_text_and_attributes_are_escaped(self, article_with_image):
        article_with_image.image_alt = 'A "crane" <script>'
        html = render(
            "{% responsive_image article sizes=sizes %}",
            article=article_with_image,
            sizes='100vw" onerror="alert(1)',
        )
        assert 'alt="A &quot;crane&quot; &lt;script&gt;"' in html
        assert 'sizes="100vw&quot; onerror=&quot;alert(1)"' in html

    def test_nothing_is_rendered_without_an_image(self):
        assert render("{% responsive_image article %}", article=ArticleFactory()) == ""


class TestPublicPages:
    def test_the_article_page_shows_the_lead_image_in_every_rendition(
        self, client, article_with_image
    ):
        response = client.get(article_with_image.get_absolute_url())
        [img] = re.findall(r"<img [^>]*>", response.content.decode())
        name = article_with_image.image.name
        assert f'src="/media/{rendition_name(name, "full")}"' in img
        assert all(f" {width}w" in img for width in (160, 480, 1200))
        assert f'alt="{ALT}"' in img
        assert 'width="1200"' in img
        assert 'height="600"' in img

    def test_the_article_list_shows_each_image_as_a_lazy_card(self, client, article_with_image):
        response = client.get(reverse("policy:article_list"))
        [img] = re.findall(r"<img [^>]*>", response.content.decode())
        assert f'src="/media/{rendition_name(article_with_image.image.name, "card")}"' in img
        assert 'loading="lazy"' in img

    def test_the_focus_area_page_and_list_show_its_image(self, client):
        focus_area = FocusAreaFactory(image=image_upload(size=(800, 600)), image_alt=ALT)
        for url in (focus_area.get_absolute_url(), reverse("policy:focusarea_list")):
            content = client.get(url).content.decode()
            assert rendition_name(focus_area.image.name, "thumbnail") in content
            assert f'alt="{ALT}"' in content


class TestAdminThumbnail:
    @pytest.fixture
    def model_admin(self):
        class ArticleAdmin(ImagePreviewAdminMixin, admin.ModelAdmin):
            pass

        return ArticleAdmin(Article, admin.site)

    def test_the_thumbnail_is_the_smallest_rendition(self, model_admin, article_with_image):
        html = model_admin.image_thumbnail(article_with_image)
        name = rendition_name(article_with_image.image.name, "thumbnail")
        assert html == (
            f'<img src="/media/{name}" width="160" height="80" alt="{ALT}" loading="lazy">'
        )

    def test_a_record_without_an_image_shows_the_empty_value(self, model_admin):
        assert model_admin.image_thumbnail(ArticleFactory()) == "-"

    def test_the_thumbnail_is_labelled_for_the_list_and_the_form(self, model_admin):
        assert model_admin.image_thumbnail.short_description == "image"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<html><script>alert(1)</script></html>", "The file is not an image"),
        (lambda: image_upload().read()[:60], "The image is incomplete"),
    ],
)
def test_the_admin_form_explains_why_an_upload_is_refused(publisher_client, content, message):
    article = ArticleFactory()
    url = admin_url(Article, "change", article.pk)
    data = change_form_data(publisher_client.get(url), image_alt="A harbour at dawn")
    raw = content() if callable(content) else content
    data["image"] = SimpleUploadedFile("photo.png", raw, content_type="image/png")
    response = publisher_client.post(url, data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Article.objects.get(pk=article.pk).image
