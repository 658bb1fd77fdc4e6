"""Backups of the whole site, and their restoration into an empty database.

A backup is one gzipped tar archive:

- ``data/<app_label>.<model_name>.jsonl``: the records of one model in Django's JSON Lines
  serialization. Content types, permissions, groups and users are referred to by natural key,
  so the records fit a database whose ids for those differ.
- ``media/<name>``: every file of the media storage under its storage name, renditions included.
- ``manifest.json``, last, once the checksums are known: the format version, when the backup
  was made, the latest applied migration of each app, the number of records of each model in
  the order they are loaded, and the SHA-256 of every other member.

Both directions stream, record by record and file by file, so memory does not grow with the
site, and the media go through the storage API, so S3 works as the local disk does.
"""

import hashlib
import io
import json
import os
import posixpath
import tarfile
import tempfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path

import django
from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import Group
from django.core import serializers
from django.core.exceptions import SuspiciousFileOperation
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.utils import validate_file_name
from django.core.management.color import no_style
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.models import Prefetch
from django.template.defaultfilters import filesizeformat

from policy.signals import statuses_stored_once

FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
DATA_FOLDER = "data/"
MEDIA_FOLDER = "media/"
# Content types and permissions are made by `migrate` in every database, each with its own ids,
# and the records refer to them by natural key. Sessions are logins of the moment, signed with
# the old server's SECRET_KEY: editors log in again rather than have them kept in a file.
NOT_BACKED_UP = {"contenttypes.contenttype", "auth.permission", "sessions.session"}
# Records read per query. Memory follows it, speed hardly: 2000 took 60 MB more than 500.
CHUNK_SIZE = 500


class BackupError(Exception):
    """A backup cannot be written or restored; the message says why."""


@dataclass(frozen=True)
class Summary:
    records: dict[str, int]
    media_files: int
    media_bytes: int

    def __str__(self):
        return (
            f"{sum(self.records.values())} records of {len(self.records)} models and "
            f"{self.media_files} media files ({filesizeformat(self.media_bytes)})"
        )


def default_archive_path():
    return settings.BASE_DIR / "backups" / f"puente-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.tar.gz"


def backed_up_models():
    """The models a backup holds, each after the models it refers to by natural key."""
    models = [
        model
        for model in apps.get_models()
        if not model._meta.proxy and model._meta.label_lower not in NOT_BACKED_UP
    ]
    return serializers.sort_dependencies([(None, models)], allow_cycles=True)


def migration_state():
    """The latest applied migration of each app."""
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    applied = {key for key in loader.applied_migrations if key in loader.graph.nodes}
    latest = {}
    for app_label, name in sorted(applied):
        children = loader.graph.node_map[app_label, name].children
        if not any(child in applied and child[0] == app_label for child in children):
            latest[app_label] = name
    return latest


def media_names(storage):
    """The name of every file in the storage, found through its API."""

    def walk(folder):
        try:
            folders, files = storage.listdir(folder)
        except FileNotFoundError:  # A file system storage that nothing was uploaded to yet.
            return
        for name in files:
            yield posixpath.join(folder, name)
        for name in folders:
            yield from walk(posixpath.join(folder, name))

    return sorted(walk(""))


def backup(path):
    """Write every record and media file to a new archive at `path`; return what it holds.

    The archive is written under a temporary name and renamed when complete, so a failed
    backup leaves no archive behind. It is readable by its owner only: it holds password
    hashes and API tokens.
    """
    path = Path(path)
    if path.exists():
        raise BackupError(f"{path} already exists; choose another name.")
    path.parent.mkdir(parents=True, exist_ok=True)
    checksums, records, media_bytes = {}, {}, 0
    with tempfile.NamedTemporaryFile(
        dir=path.parent, prefix=f".{path.name}.", delete=False
    ) as file:
        try:
            with tarfile.open(fileobj=file, mode="w:gz") as archive:
                with _snapshot():
                    migrations = migration_state()
                    for model in backed_up_models():
                        label = model._meta.label_lower
                        records[label], checksums[_data_name(label)] = _add_records(archive, model)
                media = media_names(default_storage)
                for name in media:
                    size = default_storage.size(name)
                    with default_storage.open(name) as media_file:
                        checksums[MEDIA_FOLDER + name] = _add_member(
                            archive, MEDIA_FOLDER + name, media_file, size
                        )
                    media_bytes += size
                manifest = json.dumps(
                    {
                        "format_version": FORMAT_VERSION,
                        "created_at": datetime.now(UTC).isoformat(),
                        "django_version": django.get_version(),
                        "migrations": migrations,
                        "records": records,
                        "checksums": checksums,
                    },
                    indent=2,
                ).encode()
                _add_member(archive, MANIFEST_NAME, io.BytesIO(manifest), len(manifest))
        except BaseException as error:
            os.unlink(file.name)
            if isinstance(error, Exception):
                raise BackupError(f"The backup failed, and no archive was kept: {error}") from error
            raise
    os.replace(file.name, path)
    return Summary(records, len(media), media_bytes)


def restore(path):
    """Load an archive into an empty database and the media storage, all or nothing.

    An archive that is damaged, of another format or from another schema, or a database that
    already has content, is refused before anything is written. The groups that the migrations
    create are replaced by the archive's. If loading fails, the database is rolled back and the
    media files written so far are deleted.
    """
    path = Path(path)
    manifest, sizes = _verified_archive(path)
    _check_migrations(manifest["migrations"])
    if content := _models_with_records():
        raise BackupError(
            f"The database already has content ({', '.join(content)}); a backup is restored "
            f"only into an empty database, freshly migrated. Nothing was restored."
        )
    media = {
        name.removeprefix(MEDIA_FOLDER): digest
        for name, digest in manifest["checksums"].items()
        if name.startswith(MEDIA_FOLDER)
    }
    missing_media = _missing_media(media)
    written = []
    try:
        with transaction.atomic(), tarfile.open(path, "r:gz") as archive:
            members = {member.name: member for member in archive.getmembers()}
            Group.objects.all().delete()
            _load_records(archive, members, manifest["records"])
            for name in missing_media:
                member = members[MEDIA_FOLDER + name]
                with archive.extractfile(member) as file:
                    content = File(file, name=name)
                    content.size = member.size
                    stored_name = default_storage.save(name, content)
                written.append(stored_name)
                if stored_name != name:
                    raise BackupError(f"The media storage renamed {name} to {stored_name}.")
    except BaseException as error:
        for name in written:
            default_storage.delete(name)
        if isinstance(error, Exception) and not isinstance(error, BackupError):
            raise BackupError(f"The restore failed and was undone: {error}") from error
        raise
    return Summary(
        manifest["records"], len(media), sum(sizes[MEDIA_FOLDER + name] for name in media)
    )


class _ExactJSONEncoder(DjangoJSONEncoder):
    """Django's encoder, but with times to the microsecond: Django's stops at the millisecond."""

    def default(self, o):
        if isinstance(o, datetime | time):
            return o.isoformat()
        return super().default(o)


class _HashingReader:
    """A file whose content is hashed as it is read."""

    def __init__(self, file):
        self.file = file
        self.sha256 = hashlib.sha256()

    def read(self, size=-1):
        data = self.file.read(size)
        self.sha256.update(data)
        return data


def _sha256(file):
    reader = _HashingReader(file)
    while reader.read(2**20):
        pass
    return reader.sha256.hexdigest()


def _data_name(label):
    return f"{DATA_FOLDER}{label}.jsonl"


@contextmanager
def _snapshot():
    """A transaction in which every model is read as of one moment, while the site keeps writing."""
    opens_transaction = not connection.in_atomic_block
    with transaction.atomic():
        if opens_transaction and connection.vendor == "postgresql":
            # Read committed would show each model's query what was committed since the last
            # one: a revision could be missing the versions saved with it.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def _add_member(archive, name, file, size):
    """Add a file to the archive as it is read; return its SHA-256."""
    member = tarfile.TarInfo(name)
    member.size = size
    member.mtime = int(datetime.now(UTC).timestamp())
    member.mode = 0o600
    reader = _HashingReader(file)
    archive.addfile(member, reader)
    return reader.sha256.hexdigest()


def _records(model):
    """The model's records by primary key, in chunks, with what their natural keys read."""

    def natural_key_relations(model):
        return [
            field.name
            for field in model._meta.fields
            if field.is_relation and hasattr(field.related_model, "natural_key")
        ]

    related_lists = [
        Prefetch(
            field.name,
            queryset=field.related_model._base_manager.select_related(
                *natural_key_relations(field.related_model)
            ),
        )
        for field in model._meta.many_to_many
        if field.remote_field.through._meta.auto_created
    ]
    return (
        model._base_manager.select_related(*natural_key_relations(model))
        .prefetch_related(*related_lists)
        .order_by("pk")
        .iterator(chunk_size=CHUNK_SIZE)
    )


def _add_records(archive, model):
    """Add the records of a model to the archive; return their number and SHA-256."""
    count = 0

    def counted(records):
        nonlocal count
        for record in records:
            count += 1
            yield record

    with tempfile.TemporaryFile("w+", encoding="utf-8") as lines:
        serializers.serialize(
            "jsonl",
            counted(_records(model)),
            stream=lines,
            use_natural_foreign_keys=True,
            cls=_ExactJSONEncoder,
        )
        lines.flush()
        size = lines.buffer.tell()
        lines.buffer.seek(0)
        digest = _add_member(archive, _data_name(model._meta.label_lower), lines.buffer, size)
    return count, digest


def _verified_archive(path):
    """The archive's manifest and the size of each member, once every checksum has matched."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file.")
    manifest, checksums, sizes = None, {}, {}
    try:
        with tarfile.open(path, "r:gz") as archive:
            for member in archive:
                if not member.isfile() or member.name in sizes:
                    raise BackupError(
                        f"{path} is not a backup: {member.name} is not a single, regular file."
                    )
                sizes[member.name] = member.size
                with archive.extractfile(member) as file:
                    if member.name == MANIFEST_NAME:
                        manifest = file.read()
                    else:
                        checksums[member.name] = _sha256(file)
    except (tarfile.TarError, EOFError, zlib.error, OSError) as error:
        raise BackupError(
            f"{path} is not a readable backup archive: it is damaged, cut off or of another "
            f"kind ({error})."
        ) from None
    manifest = _parsed_manifest(path, manifest)
    if set(checksums) != set(manifest["checksums"]):
        raise BackupError(
            f"{path} is damaged: its files do not match the list in its manifest "
            f"({', '.join(sorted(set(checksums) ^ set(manifest['checksums'])))})."
        )
    if damaged := sorted(
        name for name, digest in checksums.items() if digest != manifest["checksums"][name]
    ):
        raise BackupError(
            f"{path} is damaged: the checksums of {', '.join(damaged)} do not match its manifest."
        )
    for name in checksums:
        if name.startswith(MEDIA_FOLDER):
            try:
                validate_file_name(name.removeprefix(MEDIA_FOLDER), allow_relative_path=True)
            except SuspiciousFileOperation:
                raise BackupError(f"{path} has a media file with an unsafe name: {name}.") from None
    return manifest, sizes


def _parsed_manifest(path, content):
    if content is None:
        raise BackupError(f"{path} is not a backup made by `manage.py backup`: it has no manifest.")
    try:
        manifest = json.loads(content)
        format_version = manifest["format_version"]
    except (ValueError, TypeError, KeyError):
        raise BackupError(f"{path} has a manifest that cannot be read.") from None
    if format_version != FORMAT_VERSION:
        raise BackupError(
            f"{path} is in backup format {format_version}; this version of Puente reads format "
            f"{FORMAT_VERSION} only."
        )
    expected_types = {"migrations": str, "records": int, "checksums": str}
    if not all(
        isinstance(manifest.get(key), dict)
        and all(isinstance(value, value_type) for value in manifest[key].values())
        for key, value_type in expected_types.items()
    ):
        raise BackupError(f"{path} has a manifest that cannot be read.")
    backed_up = {model._meta.label_lower for model in backed_up_models()}
    if unknown := sorted(set(manifest["records"]) - backed_up):
        raise BackupError(
            f"{path} holds records of models this version of Puente does not have: "
            f"{', '.join(unknown)}."
        )
    if missing := sorted(
        label for label in manifest["records"] if _data_name(label) not in manifest["checksums"]
    ):
        raise BackupError(f"{path} is damaged: the records of {', '.join(missing)} are missing.")
    return manifest


def _check_migrations(archived):
    """Refuse an archive whose schema differs from the database's, saying how to match them."""
    known = MigrationLoader(connection, ignore_no_migrations=True).graph.nodes
    if newer := sorted(
        f"{app}.{name}" for app, name in archived.items() if (app, name) not in known
    ):
        raise BackupError(
            f"The backup comes from a newer schema: its migrations {', '.join(newer)} are "
            f"unknown to this version of Puente. Restore it with the version that made it."
        )
    current = migration_state()
    if differing := sorted(
        app for app in archived.keys() | current.keys() if archived.get(app) != current.get(app)
    ):
        steps = "; ".join(
            f"manage.py migrate {app} {archived.get(app, 'zero')}" for app in differing
        )
        raise BackupError(
            f"The database's migrations differ from the backup's in {', '.join(differing)}. "
            f"Migrate the database to the backup's state first ({steps}), restore, then migrate."
        )


def _models_with_records():
    """The backed-up models that already have records; groups are what migrations leave."""
    return [
        model._meta.label_lower
        for model in backed_up_models()
        if model is not Group and model._base_manager.exists()
    ]


def _missing_media(media):
    """The archive's media files that the storage lacks, refusing one it has with other content."""
    stored = set(media_names(default_storage))
    for name in stored & media.keys():
        with default_storage.open(name) as file:
            if _sha256(file) != media[name]:
                raise BackupError(
                    f"The media storage already has a different file named {name}; restore "
                    f"into an empty media storage."
                )
    return [name for name in media if name not in stored]


def _load_records(archive, members, records):
    """Load each model's records, in the manifest's order, and check that all of them arrived."""
    models = [apps.get_model(label) for label in records]
    with_forward_references = []
    with connection.constraint_checks_disabled(), statuses_stored_once(using=connection.alias):
        for label in records:
            with io.TextIOWrapper(
                archive.extractfile(members[_data_name(label)]), encoding="utf-8"
            ) as lines:
                for record in serializers.deserialize(
                    "jsonl", lines, handle_forward_references=True
                ):
                    # Into an empty table: an insert, without first trying an update.
                    record.save(force_insert=True)
                    if record.deferred_fields:
                        with_forward_references.append(record)
        for record in with_forward_references:
            record.save_deferred_fields()
    connection.check_constraints(table_names=[model._meta.db_table for model in models])
    # The records kept their ids, so the next new record must start after the highest.
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)
    for model, expected in zip(models, records.values(), strict=True):
        if (found := model._base_manager.count()) != expected:
            raise BackupError(
                f"{model._meta.label_lower}: {found} records were loaded where the backup has "
                f"{expected}."
            )
