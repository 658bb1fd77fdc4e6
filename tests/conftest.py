import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.management import call_command


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
def seed(db):
    """The seed content exactly as `make run` loads it."""
    call_command("loaddata", "seed", verbosity=0)


@pytest.fixture
def editor(django_user_model):
    """A staff user in the Editor group that the data migration creates."""
    user = django_user_model.objects.create_user("edna", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Editor"))
    return user


@pytest.fixture
def publisher(django_user_model):
    user = django_user_model.objects.create_user("pablo", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name="Publisher"))
    return user


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def publisher_client(client, publisher):
    client.force_login(publisher)
    return client
