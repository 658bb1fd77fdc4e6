import pytest
from django.core.management import call_command


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploaded files go to a temporary folder, never into the project."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def seed(db):
    """The seed content exactly as `make run` loads it."""
    call_command("loaddata", "seed", verbosity=0)
