"""Settings come from the environment, with safe local defaults."""

import os
import subprocess
import sys

from django.conf import settings


def load_settings(module, **environment):
    env = {key: value for key, value in os.environ.items() if key not in {"SECRET_KEY", "DEBUG"}}
    env.update(environment, DJANGO_SETTINGS_MODULE=module)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('loaded')"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_local_settings_without_debug_require_a_secret_key():
    result = load_settings("config.settings.local", DEBUG="False")
    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr


def test_local_settings_with_debug_generate_a_secret_key():
    result = load_settings("config.settings.local", DEBUG="True")
    assert result.returncode == 0, result.stderr
    assert (settings.BASE_DIR / ".local-secret-key").read_text().strip()


def test_production_settings_require_a_secret_key():
    result = load_settings("config.settings.production", ALLOWED_HOSTS="example.org")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_settings_load_with_their_environment():
    result = load_settings(
        "config.settings.production", SECRET_KEY="x" * 50, ALLOWED_HOSTS="example.org"
    )
    assert result.returncode == 0, result.stderr
