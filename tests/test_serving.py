"""The production serving stack: static files collected with hashed names and compressed copies,
served by whitenoise with far-future caching, and Gunicorn's configuration."""

import gzip
import importlib
import json
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin

import brotli
import pytest
import reversion
from django.conf import settings as django_settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.urls import clear_url_caches, reverse
from gunicorn.config import KNOWN_SETTINGS
from reversion.models import Version

import config.urls
from policy.models import Commitment
from tests.admin_forms import admin_url

SEED_COMMITMENT = "credit-line-66-billion-yuan"
# Django's manifest storage puts the first 12 hex digits of the file's MD5 before its suffix.
HASHED_NAME = re.compile(r"\.[0-9a-f]{12}\.\w+$")
STATIC_REFERENCE = re.compile(r'(?:src|href)="(/static/[^"]+)"')
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)""")
MAX_AGE = re.compile(r"max-age=(\d+)")


def manifest(static_root):
    return json.loads((static_root / "staticfiles.json").read_text())["paths"]


def body(response):
    return b"".join(response.streaming_content)


class TestCollectstatic:
    @pytest.mark.parametrize(
        "name",
        [
            "css/site.css",
            "admin/css/base.css",
            "rest_framework/css/bootstrap.min.css",
            "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js",
            "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js",
            "import_export/import.css",
            "reversion_compare.css",
        ],
    )
    def test_each_file_gets_a_hashed_name_and_gzip_and_brotli_copies(self, collected_static, name):
        hashed = collected_static / manifest(collected_static)[name]
        assert HASHED_NAME.search(hashed.name)
        content = hashed.read_bytes()
        assert gzip.decompress(Path(f"{hashed}.gz").read_bytes()) == content
        assert brotli.decompress(Path(f"{hashed}.br").read_bytes()) == content

    def test_source_maps_are_collected_but_not_compressed(self, collected_static):
        source_map = (
            collected_static
            / manifest(collected_static)[
                "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js.map"
            ]
        )
        assert source_map.exists()
        assert not Path(f"{source_map}.br").exists()

    def test_references_inside_stylesheets_point_at_hashed_names(self, collected_static):
        stylesheet = collected_static / manifest(collected_static)["admin/css/widgets.css"]
        references = CSS_URL.findall(stylesheet.read_text())
        assert references
        assert all(HASHED_NAME.search(reference) for reference in references)


@pytest.fixture
def production_static(settings, collected_static):
    """This process serves static files as production does, from the collected STATIC_ROOT."""
    settings.STATIC_ROOT = collected_static
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    settings.WHITENOISE_AUTOREFRESH = False
    return collected_static


def commitment_with_two_versions():
    record = Commitment.objects.get(slug=SEED_COMMITMENT)
    for title in ["Before", "After"]:
        record.title = title
        with reversion.create_revision():
            record.save()
    newer, older = Version.objects.get_for_object(record)[:2]
    return record, {"version_id1": older.pk, "version_id2": newer.pk}


def pages_with_their_static_files():
    record, versions = commitment_with_two_versions()
    return [
        (reverse("policy:home"), {}),
        (reverse("policy:commitment_detail", kwargs={"slug": SEED_COMMITMENT}), {}),
        (reverse("api-docs"), {}),
        (reverse("api-redoc"), {}),
        ("/api/v1/commitments/", {"format": "api"}),
        (reverse("admin:index"), {}),
        (admin_url(Commitment, "change", record.pk), {}),
        (admin_url(Commitment, "import"), {}),
        (admin_url(Commitment, "compare", record.pk), versions),
    ]


@pytest.mark.django_db
@pytest.mark.usefixtures("production_static", "seed")
class TestWhitenoise:
    def test_every_page_links_hashed_files_that_are_served_and_cached_for_a_year(
        self, admin_client
    ):
        linked = set()
        for path, query in pages_with_their_static_files():
            response = admin_client.get(path, query)
            assert response.status_code == 200, path
            references = STATIC_REFERENCE.findall(response.content.decode())
            assert references, f"{path} links no static file"
            linked.update(references)
        for url in sorted(linked):
            assert HASHED_NAME.search(url.split("?")[0]), url
            response = admin_client.get(url)
            assert response.status_code == 200, url
            cache_control = response.headers["Cache-Control"]
            assert "immutable" in cache_control, url
            assert int(MAX_AGE.search(cache_control)[1]) >= 365 * 24 * 3600, url

    def test_files_that_stylesheets_refer_to_are_served(self, client):
        stylesheets = ["admin/css/base.css", "admin/css/widgets.css", "css/site.css"]
        for name in stylesheets:
            url = staticfiles_storage.url(name)
            css = body(client.get(url)).decode()
            for reference in CSS_URL.findall(css):
                if reference.startswith(("data:", "#")):
                    continue
                referenced = urljoin(url, reference).split("#")[0]
                assert client.get(referenced).status_code == 200, f"{name}: {reference}"

    @pytest.mark.parametrize(("accepted", "encoding"), [("br, gzip", "br"), ("gzip", "gzip")])
    def test_a_browser_gets_the_compressed_copy_it_accepts(self, client, accepted, encoding):
        response = client.get(
            staticfiles_storage.url("css/site.css"), headers={"accept-encoding": accepted}
        )
        assert response.headers["Content-Encoding"] == encoding
        assert response.headers["Vary"] == "Accept-Encoding"
        decompress = brotli.decompress if encoding == "br" else gzip.decompress
        assert decompress(body(response)) == staticfiles_storage.open("css/site.css").read()

    def test_an_unhashed_name_is_served_but_cached_briefly(self, client):
        response = client.get("/static/css/site.css")
        assert response.status_code == 200
        assert "immutable" not in response.headers["Cache-Control"]
        assert int(MAX_AGE.search(response.headers["Cache-Control"])[1]) <= 60


def gunicorn_settings(monkeypatch, **environment):
    for name in ["BIND", "PORT", "WEB_CONCURRENCY", "FORWARDED_ALLOW_IPS", "LOG_LEVEL"]:
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    path = django_settings.BASE_DIR / "config" / "gunicorn.conf.py"
    return {
        name: value
        for name, value in runpy.run_path(str(path)).items()
        if not name.startswith("_") and name != "os"
    }


class TestGunicornConfiguration:
    def test_every_name_in_the_file_is_a_gunicorn_setting(self, monkeypatch):
        known = {setting.name for setting in KNOWN_SETTINGS}
        assert set(gunicorn_settings(monkeypatch)) <= known

    def test_by_default_two_workers_listen_on_loopback(self, monkeypatch):
        config = gunicorn_settings(monkeypatch)
        assert config["bind"] == "127.0.0.1:8000"
        assert config["workers"] == 2
        assert config["max_requests"] > 0
        assert config["max_requests_jitter"] > 0

    def test_the_environment_sets_the_workers_the_port_and_the_trusted_proxies(self, monkeypatch):
        config = gunicorn_settings(
            monkeypatch, WEB_CONCURRENCY="5", PORT="9000", FORWARDED_ALLOW_IPS="10.0.0.0/8"
        )
        assert config["workers"] == 5
        assert config["bind"] == "127.0.0.1:9000"
        assert config["forwarded_allow_ips"] == "10.0.0.0/8"

    def test_bind_takes_any_address(self, monkeypatch):
        config = gunicorn_settings(monkeypatch, BIND="unix:/run/puente.sock", PORT="9000")
        assert config["bind"] == "unix:/run/puente.sock"


@pytest.fixture
def serving_media(settings):
    """The URLs as `make serve` builds them, with SERVE_MEDIA on; the usual ones afterwards."""
    settings.SERVE_MEDIA = True
    importlib.reload(config.urls)
    clear_url_caches()
    yield
    settings.SERVE_MEDIA = False
    importlib.reload(config.urls)
    clear_url_caches()


@pytest.mark.django_db
@pytest.mark.usefixtures("serving_media")
def test_make_serve_serves_uploads_from_the_media_folder(client, media_root):
    (media_root / "images").mkdir(parents=True)
    (media_root / "images" / "photo.webp").write_bytes(b"RIFF-webp")

    response = client.get("/media/images/photo.webp")

    assert response.status_code == 200
    assert body(response) == b"RIFF-webp"
    assert client.get("/media/../config/settings/base.py").status_code in (400, 404)


@pytest.mark.django_db
def test_a_deployment_does_not_serve_uploads_from_django(client, media_root):
    (media_root / "images").mkdir(parents=True)
    (media_root / "images" / "photo.webp").write_bytes(b"RIFF-webp")

    assert client.get("/media/images/photo.webp").status_code == 404


def test_the_wsgi_application_leaves_what_it_loaded_out_of_garbage_collection():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import gc, config.wsgi; print(gc.get_freeze_count())",
        ],
        cwd=django_settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    # Django, the apps and their models: tens of thousands of objects.
    assert int(result.stdout) > 10_000
