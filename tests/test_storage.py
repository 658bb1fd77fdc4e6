"""Media in S3-compatible object storage: the settings read from the environment, and the image
code working through the storage API alone, against moto's in-process S3."""

import json
import os
import subprocess
import sys

import boto3
import pytest
from django.conf import settings
from moto import mock_aws

from policy.images import RENDITION_WIDTHS, rendition_name
from tests.factories import ArticleFactory, image_upload

BUCKET = "puente-media"
REGION = "eu-west-1"
MEDIA_DOMAIN = "media.example.org"
ALT = "Cranes unloading containers at the port of Chancay"


def storages_from_environment(**environment):
    """settings.STORAGES as a process started with these environment variables builds it."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(environment, DJANGO_SETTINGS_MODULE="config.settings.test")
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from django.conf import settings; print(json.dumps(settings.STORAGES))",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def test_media_stays_on_the_file_system_without_a_bucket():
    storages = storages_from_environment()
    assert storages["default"] == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_a_bucket_in_the_environment_moves_media_to_object_storage():
    storages = storages_from_environment(
        AWS_STORAGE_BUCKET_NAME=BUCKET,
        AWS_S3_ENDPOINT_URL="https://s3.example.net",
        AWS_S3_REGION_NAME=REGION,
        AWS_S3_CUSTOM_DOMAIN=MEDIA_DOMAIN,
    )
    assert storages["default"]["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storages["default"]["OPTIONS"] == {
        "bucket_name": BUCKET,
        "endpoint_url": "https://s3.example.net",
        "region_name": REGION,
        "custom_domain": MEDIA_DOMAIN,
        "querystring_auth": False,
        "object_parameters": {"CacheControl": "public, max-age=31536000, immutable"},
    }


def test_signed_media_urls_can_be_asked_for():
    storages = storages_from_environment(
        AWS_STORAGE_BUCKET_NAME=BUCKET, AWS_QUERYSTRING_AUTH="True"
    )
    assert storages["default"]["OPTIONS"]["querystring_auth"] is True
    assert storages["default"]["OPTIONS"]["custom_domain"] is None


@pytest.fixture
def s3():
    """A bucket in moto's S3, and the app's media in it, configured as the environment does."""
    storages = storages_from_environment(
        AWS_STORAGE_BUCKET_NAME=BUCKET,
        AWS_S3_REGION_NAME=REGION,
        AWS_S3_CUSTOM_DOMAIN=MEDIA_DOMAIN,
    )
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        yield client, storages


@pytest.fixture
def media_in_s3(s3, settings):
    client, storages = s3
    settings.STORAGES = {**settings.STORAGES, "default": storages["default"]}
    return client


def stored_keys(client):
    listing = client.list_objects_v2(Bucket=BUCKET)
    return {item["Key"] for item in listing.get("Contents", [])}


def image_keys(name):
    return {name, *(rendition_name(name, spec) for spec in RENDITION_WIDTHS)}


@pytest.mark.django_db
class TestImagesInObjectStorage:
    def test_an_upload_lands_in_the_bucket_with_its_renditions(self, media_in_s3):
        article = ArticleFactory(image=image_upload("Port Photo.PNG"), image_alt=ALT)
        name = article.image.name
        assert name.startswith("images/article/")
        assert name.endswith(".png")
        assert "Port Photo" not in name
        assert stored_keys(media_in_s3) == image_keys(name)
        rendition = media_in_s3.head_object(Bucket=BUCKET, Key=rendition_name(name, "card"))
        assert rendition["ContentType"] == "image/webp"
        assert rendition["CacheControl"] == "public, max-age=31536000, immutable"

    def test_the_page_shows_the_renditions_from_the_media_domain(self, media_in_s3, client):
        article = ArticleFactory(image=image_upload(size=(2000, 1000)), image_alt=ALT)
        response = client.get(article.get_absolute_url())
        assert response.status_code == 200
        page = response.content.decode()
        for spec in RENDITION_WIDTHS:
            assert f"https://{MEDIA_DOMAIN}/{rendition_name(article.image.name, spec)}" in page
        assert article.image.url == f"https://{MEDIA_DOMAIN}/{article.image.name}"
        # The Content-Security-Policy lets the browser load them.
        assert f"https://{MEDIA_DOMAIN}" in response.headers["Content-Security-Policy"]

    def test_deleting_the_record_empties_the_bucket(
        self, media_in_s3, django_capture_on_commit_callbacks
    ):
        article = ArticleFactory(image=image_upload(), image_alt=ALT)
        assert len(stored_keys(media_in_s3)) == 1 + len(RENDITION_WIDTHS)
        with django_capture_on_commit_callbacks(execute=True):
            article.delete()
        assert stored_keys(media_in_s3) == set()

    def test_replacing_the_image_leaves_only_the_new_files(
        self, media_in_s3, django_capture_on_commit_callbacks
    ):
        article = ArticleFactory(image=image_upload(), image_alt=ALT)
        with django_capture_on_commit_callbacks(execute=True):
            article.image = image_upload("new.jpg", image_format="JPEG")
            article.save()
        assert stored_keys(media_in_s3) == image_keys(article.image.name)
        assert article.image.name.endswith(".jpg")
