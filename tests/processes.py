"""The production settings in other processes, as `make serve` and a deployment run them."""

import os
import subprocess
import sys

from django.conf import settings

# What the shell running the tests may set that would change what a production process uses.
_SHELL_SETTINGS = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "AWS_STORAGE_BUCKET_NAME"}


def production_environment(**variables):
    """The environment of a production process on this machine: loopback hosts, plain HTTP."""
    env = {key: value for key, value in os.environ.items() if key not in _SHELL_SETTINGS}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY="a-production-key-for-the-tests-only-" + "x" * 20,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="False",
    )
    env.update(variables)
    return env


def manage(*arguments, env):
    """Run a manage.py command to its end; its output, or the test fails with its errors."""
    result = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"manage.py {' '.join(arguments)} failed:\n{result.stderr}"
    return result.stdout
