import io
import json
import logging

import pytest
from django.core.cache import cache
from django.core.management import call_command

from policy.observability import JsonFormatter
from tests.factories import editorial_group
from tests.processes import manage, production_environment

# Chromium for the browser tests: tests/browser.py.
pytest_plugins = ["tests.browser"]

# Files with a test that starts servers or a browser and waits on them go to the workers first, the
# others after them, most tests first, so that no long file is left to run alone at the end.
LONG_RUNNING_MARKS = ("slow", "browser", "scaleout")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items):
    """Orders the files for the workers, which take them in this order (`make test` passes
    --no-loadscope-reorder); the tests of each file keep their order."""
    files = {}
    for item in items:
        files.setdefault(item.path, []).append(item)

    def long_running_first(tests):
        long_running = any(test.get_closest_marker(m) for test in tests for m in LONG_RUNNING_MARKS)
        return (not long_running, -len(tests))

    items[:] = [test for tests in sorted(files.values(), key=long_running_first) for test in tests]


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded files go to a temporary folder, never into the project."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def empty_cache():
    """Throttle counts and cached pages of one test never reach the next."""
    cache.clear()


@pytest.fixture
def json_log():
    """What the console handler writes while the test runs, in the JSON format, one dict per
    record. The handler keeps its configured filters, so records get their request ID as in
    production."""
    handler = next(each for each in logging.getLogger().handlers if each.name == "console")
    stream, formatter = io.StringIO(), handler.formatter
    previous_stream = handler.setStream(stream)
    handler.setFormatter(JsonFormatter())
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    handler.setStream(previous_stream)
    handler.setFormatter(formatter)


@pytest.fixture
def seed(db):
    """The seed content exactly as `make run` loads it."""
    call_command("loaddata", "seed", verbosity=0)


@pytest.fixture
def editor(django_user_model):
    """A staff user in the Editor group that the data migration creates."""
    user = django_user_model.objects.create_user("edna", password="x", is_staff=True)
    user.groups.add(editorial_group("Editor"))
    return user


@pytest.fixture
def publisher(django_user_model):
    user = django_user_model.objects.create_user("pablo", password="x", is_staff=True)
    user.groups.add(editorial_group("Publisher"))
    return user


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def publisher_client(client, publisher):
    client.force_login(publisher)
    return client


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory):
    """STATIC_ROOT as a production release builds it with collectstatic, once per test run."""
    static_root = tmp_path_factory.mktemp("staticfiles")
    environment = production_environment(
        STATIC_ROOT=str(static_root),
        # collectstatic needs no database, but the production settings ask for one.
        DATABASE_URL=f"sqlite:///{static_root.parent / 'unused.sqlite3'}",
    )
    manage("collectstatic", "--noinput", "--verbosity", "0", env=environment)
    return static_root
