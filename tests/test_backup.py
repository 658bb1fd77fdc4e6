"""Backup and restore: the whole site comes back identical, and nothing bad gets in.

The tests run outside a test transaction, as the commands do, so that a restore's own
transaction is the one that commits or rolls back.
"""

import hashlib
import io
import json
import re
import tarfile
from io import StringIO

import boto3
import pytest
import reversion
from django.apps import apps
from django.contrib.auth.models import Group, Permission, User
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core import serializers
from django.core.cache import caches
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.management import CommandError, call_command
from django.test import Client
from moto import mock_aws
from rest_framework.authtoken.models import Token
from reversion.models import Revision, Version

from policy.backup import media_names
from policy.images import RENDITION_WIDTHS, rendition_name
from policy.models import Article, Commitment, FocusArea
from policy.services import add_status_update, save_record
from tests.admin_forms import admin_url, change_form_data
from tests.factories import CommitmentFactory, image_upload

pytestmark = pytest.mark.django_db(transaction=True)

# Made anew by `migrate` in every database, or not worth keeping: see policy/backup.py.
NOT_BACKED_UP = (ContentType, Permission, Session)
CSRF_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def migrate_afresh(*, other_content_type_ids=False):
    """Leave the database as `migrate` leaves a new one."""
    call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)
    if other_content_type_ids:
        # Made first, it moves every content type that `migrate` makes to another id.
        ContentType.objects.create(app_label="elsewhere", model="placeholder")
    # Undoing and redoing the data migration makes the Editor and Publisher groups again.
    call_command("migrate", "policy", "0001_initial", verbosity=0)
    call_command("migrate", "policy", verbosity=0)
    # As in a new server's processes, nothing is remembered from the database before.
    ContentType.objects.clear_cache()
    for each in caches.all():
        each.clear()


@pytest.fixture(autouse=True)
def new_database(transactional_db):
    """A freshly migrated database: the previous test's flush took the groups with it."""
    migrate_afresh()


@pytest.fixture(params=["file system", "S3"])
def media_storage(request, settings):
    """The media storage, on the local disk or in an S3 bucket (simulated by moto)."""
    if request.param == "file system":
        yield default_storage
        return
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="puente-media")
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": "puente-media",
                    "region_name": "us-east-1",
                    # As in production: a signed URL would change with every page.
                    "querystring_auth": False,
                },
            },
        }
        yield default_storage


@pytest.fixture
def site(seed, editor, publisher_client):
    """The seed with its history, an image uploaded in the admin, edits through the services,
    editors in both roles with a group of their own; returns the publisher's API token."""
    call_command("createinitialrevisions", "policy", comment="Loaded from the seed", verbosity=0)
    publisher = User.objects.get(username="pablo")

    article = Article.objects.get()
    url = admin_url(Article, "change", article.pk)
    data = change_form_data(publisher_client.get(url), image_alt="Ministers at the forum")
    data["image"] = image_upload("forum.png", size=(1600, 900))
    assert publisher_client.post(url, data).status_code == 302

    commitment = Commitment.objects.get(slug="scholarships-3500")
    add_status_update(
        commitment=commitment,
        fields={
            "date": "2026-01-15",
            "status": "in_the_works",
            "note": "The first 500 students arrived.",
            "source_url": "https://example.org/scholarships",
        },
        user=editor,
        via="the API",
    )
    focus_area = FocusArea.objects.get(slug="the-green-transition")
    save_record(
        record=focus_area,
        changes={"description": "Solar, wind and lithium."},
        user=publisher,
        via="the API",
    )

    translators = Group.objects.create(name="Translators")
    translators.permissions.add(Permission.objects.get(codename="change_article"))
    editor.groups.add(translators)
    return Token.objects.create(user=publisher)


@pytest.fixture
def archive(site, tmp_path):
    """A backup of the site."""
    path = tmp_path / "site.tar.gz"
    run("backup", "--output", str(path))
    return path


@pytest.fixture
def archive_of_wiped_site(archive):
    """A backup of the site, which was then wiped from the database and the media storage."""
    wipe(default_storage)
    return archive


def site_records():
    """Every record of every model a backup keeps, with natural keys for the ids that differ."""
    records = {}
    for model in apps.get_models():
        if model._meta.proxy or model in NOT_BACKED_UP:
            continue
        serialized = serializers.serialize(
            "python", model._base_manager.order_by("pk"), use_natural_foreign_keys=True
        )
        for record in serialized:
            for name, value in record["fields"].items():
                if isinstance(value, list) and model._meta.get_field(name).many_to_many:
                    record["fields"][name] = sorted(value)
        records[model._meta.label] = serialized
    return records


def media_files(storage):
    def sha256(name):
        with storage.open(name) as file:
            return hashlib.sha256(file.read()).hexdigest()

    return {name: sha256(name) for name in media_names(storage)}


def pages(token):
    """What visitors, API clients and publishers see of the site."""
    commitment = Commitment.objects.get(slug="scholarships-3500")
    visitor, publisher = Client(), Client()
    publisher.force_login(User.objects.get(username="pablo"))

    api_list = Client().get("/api/v1/commitments/", HTTP_AUTHORIZATION=f"Token {token.key}")
    # A token the database does not know is refused, so this proves the token came back too.
    assert api_list.status_code == 200

    def html(client, url):
        response = client.get(url)
        assert response.status_code == 200, url
        return CSRF_TOKEN.sub("", response.content.decode())

    return {
        "home": html(visitor, "/en/"),
        "commitment": html(visitor, commitment.get_absolute_url()),
        "article with image": html(visitor, Article.objects.get().get_absolute_url()),
        "API list": api_list.json(),
        "versions": Version.objects.get_for_object(commitment).count(),
        "history": html(publisher, admin_url(Commitment, "history", commitment.pk)),
    }


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def wipe(storage):
    migrate_afresh(other_content_type_ids=True)
    for name in media_names(storage):
        storage.delete(name)


def copy_archive(source, target, edit, *, reseal=False):
    """Copy an archive through edit(name, content): the member's new (name, content), or None
    to leave it out. Resealed, the manifest lists the checksums of the edited members."""
    checksums = {}
    with tarfile.open(source, "r:gz") as original, tarfile.open(target, "w:gz") as copy:
        for member in original:
            if not (edited := edit(member.name, original.extractfile(member).read())):
                continue
            name, content = edited
            if name != "manifest.json":
                checksums[name] = hashlib.sha256(content).hexdigest()
            elif reseal:
                content = json.dumps({**json.loads(content), "checksums": checksums}).encode()
            copied = tarfile.TarInfo(name)
            copied.size = len(content)
            copy.addfile(copied, io.BytesIO(content))
    return target


def edit_manifest(source, target, change):
    def edit(name, content):
        if name != "manifest.json":
            return name, content
        manifest = json.loads(content)
        change(manifest)
        return name, json.dumps(manifest).encode()

    return copy_archive(source, target, edit)


def first_media_file(path):
    with tarfile.open(path) as archive:
        return next(name for name in archive.getnames() if name.startswith("media/"))


class TestRoundTrip:
    def test_the_restored_site_is_identical_in_records_media_and_pages(
        self, media_storage, site, tmp_path
    ):
        article = Article.objects.get()
        images = {article.image.name} | {
            rendition_name(article.image.name, spec) for spec in RENDITION_WIDTHS
        }
        commitment_type = ContentType.objects.get_for_model(Commitment).pk
        # The pages first: the publisher's login is part of the records.
        seen = pages(site)
        records, media = site_records(), media_files(media_storage)
        assert images <= media.keys()
        assert len(records["reversion.Version"]) > len(records["policy.Commitment"])
        assert records["admin.LogEntry"]
        assert "Status update added via the API" in seen["history"]
        path = tmp_path / "site.tar.gz"
        run("backup", "--output", str(path))

        wipe(media_storage)
        assert ContentType.objects.get_for_model(Commitment).pk != commitment_type
        assert not media_names(media_storage)
        assert Client().get("/en/commitments/scholarships-3500/").status_code == 404
        run("restore", str(path))

        assert site_records() == records
        assert media_files(media_storage) == media
        assert pages(site) == seen

    def test_a_restored_commitment_has_the_status_of_its_latest_update(self, archive_of_wiped_site):
        run("restore", str(archive_of_wiped_site))
        assert Commitment.objects.get(slug="scholarships-3500").current_status == "in_the_works"

    def test_new_records_get_fresh_ids_after_a_restore(self, archive):
        highest = {
            model: model.objects.order_by("-pk").values_list("pk", flat=True)[0]
            for model in (Commitment, User, Group, Revision, Version)
        }
        wipe(default_storage)
        run("restore", str(archive))

        commitment = CommitmentFactory()
        with reversion.create_revision():
            commitment.save()
        User.objects.create_user("nova")
        Group.objects.create(name="Reviewers")
        for model, pk in highest.items():
            assert model.objects.order_by("-pk").values_list("pk", flat=True)[0] > pk

    def test_the_commands_say_what_they_wrote_and_restored(self, site, tmp_path):
        path = tmp_path / "site.tar.gz"
        written = run("backup", "--output", str(path))
        records = site_records()
        counts = f"{sum(map(len, records.values()))} records of {len(records)} models"
        assert re.fullmatch(
            rf"Backed up {counts} and 4 media files \([\d.]+\sKB\) to "
            rf"{re.escape(str(path))} \([\d.]+\sKB\)\.\n",
            written,
        )
        wipe(default_storage)
        restored = run("restore", str(path))
        assert re.fullmatch(
            rf"Restored {counts} and 4 media files \([\d.]+\sKB\) from "
            rf"{re.escape(str(path))}\.\n",
            restored,
        )

    def test_without_output_the_archive_is_named_by_its_utc_time_under_backups(
        self, settings, tmp_path
    ):
        settings.BASE_DIR = tmp_path
        run("backup")
        (archive,) = (tmp_path / "backups").iterdir()
        assert re.fullmatch(r"puente-\d{8}T\d{6}Z\.tar\.gz", archive.name)
        assert archive.stat().st_mode & 0o777 == 0o600

    def test_an_existing_archive_is_never_overwritten(self, tmp_path):
        path = tmp_path / "site.tar.gz"
        path.write_bytes(b"an earlier backup")
        with pytest.raises(CommandError, match="already exists"):
            run("backup", "--output", str(path))
        assert path.read_bytes() == b"an earlier backup"
        assert [file.name for file in tmp_path.iterdir()] == ["site.tar.gz"]

    def test_a_failed_backup_leaves_no_archive(self, site, tmp_path, monkeypatch):
        def unreachable(storage, name, mode="rb"):
            raise OSError(f"{name}: the storage does not answer")

        monkeypatch.setattr(FileSystemStorage, "_open", unreachable)
        with pytest.raises(CommandError, match=r"no archive was kept: .* does not answer"):
            run("backup", "--output", str(tmp_path / "backups" / "site.tar.gz"))
        assert not list((tmp_path / "backups").iterdir())

    def test_media_files_already_in_the_storage_are_kept_as_they_are(self, archive):
        media = media_files(default_storage)
        migrate_afresh()
        run("restore", str(archive))
        assert media_files(default_storage) == media
        assert Article.objects.get().image.name in media

    def test_the_archive_keeps_no_sessions_content_types_or_permissions(self, archive):
        assert Session.objects.exists()
        with tarfile.open(archive) as opened:
            names = opened.getnames()
        assert "data/reversion.version.jsonl" in names
        assert not [
            name
            for name in names
            if name.startswith(("data/sessions.", "data/contenttypes.", "data/auth.permission"))
        ]


class TestRefusals:
    """Whatever is refused leaves the database and the media storage exactly as they were."""

    def refused(self, path, message):
        records, media = site_records(), media_files(default_storage)
        with pytest.raises(CommandError, match=message):
            run("restore", str(path))
        assert site_records() == records
        assert media_files(default_storage) == media

    def test_a_database_with_content_is_refused(self, archive):
        self.refused(archive, r"already has content \(.*policy\.commitment")

    def test_a_database_with_only_a_user_is_refused(self, archive_of_wiped_site, django_user_model):
        django_user_model.objects.create_user("early")
        self.refused(archive_of_wiped_site, r"already has content \(auth\.user\)")

    @pytest.mark.parametrize(
        "damage",
        [
            lambda content: content[: len(content) // 2],
            lambda content: b"",
            lambda content: b"name,amount\nscholarships,3500\n",
        ],
        ids=["cut off", "empty", "not an archive"],
    )
    def test_a_damaged_file_is_refused(self, archive_of_wiped_site, tmp_path, damage):
        damaged = tmp_path / "damaged.tar.gz"
        damaged.write_bytes(damage(archive_of_wiped_site.read_bytes()))
        self.refused(damaged, "is not a readable backup archive")

    def test_a_missing_file_is_refused(self, tmp_path):
        self.refused(tmp_path / "nowhere.tar.gz", "no such file")

    def test_an_archive_without_manifest_is_refused(self, archive_of_wiped_site, tmp_path):
        stripped = copy_archive(
            archive_of_wiped_site,
            tmp_path / "stripped.tar.gz",
            lambda name, content: None if name == "manifest.json" else (name, content),
        )
        self.refused(stripped, "it has no manifest")

    def test_a_record_changed_after_the_backup_fails_its_checksum(
        self, archive_of_wiped_site, tmp_path
    ):
        def promote(name, content):
            if name == "data/auth.user.jsonl":
                return name, content.replace(b'"is_superuser": false', b'"is_superuser": true')
            return name, content

        changed = copy_archive(archive_of_wiped_site, tmp_path / "changed.tar.gz", promote)
        self.refused(changed, r"checksums of data/auth\.user\.jsonl do not match")

    def test_a_missing_media_file_is_refused(self, archive_of_wiped_site, tmp_path):
        image = first_media_file(archive_of_wiped_site)
        incomplete = copy_archive(
            archive_of_wiped_site,
            tmp_path / "incomplete.tar.gz",
            lambda name, content: None if name == image else (name, content),
        )
        self.refused(incomplete, f"do not match the list in its manifest \\({image}\\)")

    def test_an_archive_from_a_newer_schema_is_refused(self, archive_of_wiped_site, tmp_path):
        newer = edit_manifest(
            archive_of_wiped_site,
            tmp_path / "newer.tar.gz",
            lambda manifest: manifest["migrations"].update(policy="0099_future"),
        )
        self.refused(newer, r"newer schema: its migrations policy\.0099_future are unknown")

    def test_an_archive_from_an_older_schema_says_how_to_migrate_to_it(
        self, archive_of_wiped_site, tmp_path
    ):
        older = edit_manifest(
            archive_of_wiped_site,
            tmp_path / "older.tar.gz",
            lambda manifest: manifest["migrations"].update(policy="0001_initial"),
        )
        self.refused(older, r"manage\.py migrate policy 0001_initial")

    def test_an_archive_in_another_format_is_refused(self, archive_of_wiped_site, tmp_path):
        later = edit_manifest(
            archive_of_wiped_site,
            tmp_path / "later.tar.gz",
            lambda manifest: manifest.update(format_version=2),
        )
        self.refused(later, "backup format 2; this version of Puente reads format 1 only")

    def test_a_media_file_with_an_unsafe_name_is_refused(self, archive_of_wiped_site, tmp_path):
        image = first_media_file(archive_of_wiped_site)
        escaping = image.replace("media/", "media/../../")

        def escape(name, content):
            return (escaping if name == image else name), content

        escaped = copy_archive(
            archive_of_wiped_site, tmp_path / "escaping.tar.gz", escape, reseal=True
        )
        self.refused(escaped, "unsafe name")

    def test_a_different_media_file_of_the_same_name_is_refused(self, archive_of_wiped_site):
        image = first_media_file(archive_of_wiped_site)
        default_storage.save(image.removeprefix("media/"), ContentFile(b"another file"))
        self.refused(archive_of_wiped_site, "already has a different file named")


class TestFailedRestores:
    """A restore that fails after it started writing leaves nothing behind."""

    def test_a_record_that_cannot_be_loaded_rolls_everything_back(
        self, archive_of_wiped_site, tmp_path
    ):
        def orphan_a_version(name, content):
            if name != "data/reversion.version.jsonl":
                return name, content
            version = json.loads(content.splitlines()[-1])
            version["pk"] += 1000
            version["fields"]["revision"] = 99999
            return name, content + json.dumps(version).encode() + b"\n"

        orphaned = copy_archive(
            archive_of_wiped_site, tmp_path / "orphaned.tar.gz", orphan_a_version, reseal=True
        )
        records = site_records()
        with pytest.raises(CommandError, match="The restore failed and was undone"):
            run("restore", str(orphaned))
        assert site_records() == records
        assert Group.objects.filter(name__in=["Editor", "Publisher"]).count() == 2
        assert not media_names(default_storage)

    def test_a_storage_that_fails_midway_rolls_back_and_deletes_what_it_wrote(
        self, archive_of_wiped_site, monkeypatch
    ):
        saved = []
        original_save = FileSystemStorage._save

        def save_until_the_disk_fills(storage, name, content):
            if len(saved) == 2:
                raise OSError(28, "No space left on device")
            saved.append(original_save(storage, name, content))
            return saved[-1]

        monkeypatch.setattr(FileSystemStorage, "_save", save_until_the_disk_fills)
        records = site_records()
        with pytest.raises(CommandError, match=r"undone: .*No space left on device"):
            run("restore", str(archive_of_wiped_site))
        assert len(saved) == 2
        assert site_records() == records
        assert not media_names(default_storage)
