"""Settings come from the environment, with safe local defaults."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management.utils import get_random_secret_key

# What a deployment sets, which each test gives its process itself, and the lifting of Django's
# async guard by test_browser.py, which the deployment checks refuse.
CLEARED_ENVIRONMENT = {
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "DATABASE_URL",
    "DB_PREPARE_THRESHOLD",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_PRELOAD",
    "CSRF_TRUSTED_ORIGINS",
}


def run_with_settings(module, *command, **environment):
    env = {key: value for key, value in os.environ.items() if key not in CLEARED_ENVIRONMENT}
    env.update(environment, DJANGO_SETTINGS_MODULE=module)
    return subprocess.run(
        [sys.executable, *command],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def load_settings(module, **environment):
    return run_with_settings(
        module, "-c", "import django; django.setup(); print('loaded')", **environment
    )


@pytest.fixture
def production_environment(tmp_path):
    return {
        "SECRET_KEY": get_random_secret_key(),
        "ALLOWED_HOSTS": "example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }


def test_local_settings_without_debug_require_a_secret_key():
    result = load_settings("config.settings.local", DEBUG="False")
    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr


def test_local_settings_with_debug_generate_a_secret_key():
    result = load_settings("config.settings.local", DEBUG="True")
    assert result.returncode == 0, result.stderr
    assert (settings.BASE_DIR / ".local-secret-key").read_text().strip()


def test_production_settings_name_every_missing_variable_in_one_message():
    result = load_settings("config.settings.production")
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        "django.core.exceptions.ImproperlyConfigured: The production settings need these "
        "environment variables: SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL."
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"])
def test_production_settings_name_the_one_variable_missing(production_environment, missing):
    production_environment[missing] = ""
    result = load_settings("config.settings.production", **production_environment)
    assert result.returncode != 0
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .endswith(f"need these environment variables: {missing}.")
    )


def test_production_settings_load_with_their_environment(production_environment):
    result = load_settings("config.settings.production", **production_environment)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "loaded"


def test_a_secret_key_starting_with_a_dollar_sign_is_taken_as_it_is(production_environment):
    secret_key = "$" + get_random_secret_key()[1:]
    result = run_with_settings(
        "config.settings.production",
        "-c",
        "from django.conf import settings; print(settings.SECRET_KEY)",
        **production_environment | {"SECRET_KEY": secret_key},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == secret_key


def test_production_settings_refuse_a_malformed_proxy_header(production_environment):
    result = load_settings(
        "config.settings.production",
        **production_environment,
        SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto",
    )
    assert result.returncode != 0
    assert "such as HTTP_X_FORWARDED_PROTO,https" in result.stderr


# Only the preload warning is silenced, and only while preload is not chosen (production.py).
@pytest.mark.parametrize(
    ("extra_environment", "silenced"),
    [
        ({}, 1),
        (
            {
                "SECURE_HSTS_PRELOAD": "True",
                "SECURE_PROXY_SSL_HEADER": "HTTP_X_FORWARDED_PROTO,https",
            },
            0,
        ),
    ],
)
def test_production_settings_pass_the_deployment_checks(
    production_environment, extra_environment, silenced
):
    result = run_with_settings(
        "config.settings.production",
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **production_environment,
        **extra_environment,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == f"System check identified no issues ({silenced} silenced)."


def test_deployment_checks_fail_when_https_is_not_enforced(production_environment):
    result = run_with_settings(
        "config.settings.production",
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **production_environment,
        SECURE_SSL_REDIRECT="False",
        SECURE_HSTS_SECONDS="0",
    )
    assert result.returncode != 0
    assert "security.W004" in result.stderr
    assert "security.W008" in result.stderr


@pytest.mark.parametrize(
    ("threshold", "expected"), [(None, 5), ("20", 20), ("", None)], ids=["default", "set", "off"]
)
def test_postgresql_binds_parameters_on_the_server_and_prepares_repeated_queries(
    production_environment, threshold, expected
):
    environment = production_environment | {
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/puente"
    }
    if threshold is not None:
        environment["DB_PREPARE_THRESHOLD"] = threshold
    result = run_with_settings(
        "config.settings.production",
        "-c",
        "from django.conf import settings; options = settings.DATABASES['default']['OPTIONS'];"
        "print(options['server_side_binding'], options['prepare_threshold'])",
        **environment,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", str(expected)]
