"""Two app servers at once, as behind a load balancer: two Gunicorn processes on their own
loopback ports share one PostgreSQL database and one Redis. An edit made through one is seen
through the other at once, and a bounded load spread over both ends without a single error.

PostgreSQL and Redis must answer: without them this test fails. SCALEOUT_DATABASE_URL names the
database it creates and drops (default postgres://postgres@127.0.0.1:5432/puente_scaleout),
SCALEOUT_REDIS_URL the Redis database it empties (default redis://127.0.0.1:6379/15), and
SCALEOUT_PORTS two free ports (default: any two the system gives).
"""

import contextlib
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import environ
import psycopg
import pytest
import redis
from django.conf import settings
from psycopg import sql

from tests.processes import manage, production_environment

pytestmark = pytest.mark.scaleout

DATABASE_URL = os.environ.get(
    "SCALEOUT_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/puente_scaleout"
)
REDIS_URL = os.environ.get("SCALEOUT_REDIS_URL", "redis://127.0.0.1:6379/15")
COMMITMENT = "credit-line-66-billion-yuan"
PAGE = f"/en/commitments/{COMMITMENT}/"
API_DETAIL = f"/api/v1/commitments/{COMMITMENT}/"
LOAD_REQUESTS = 400
LOAD_THREADS = 8
STARTUP_SECONDS = 30
GUNICORN_CONFIG = "config/gunicorn.conf.py"
STATIC_REFERENCE = re.compile(rb'(?:src|href)="(/static/[^"]+)"')

# A publisher with an API key; the shell prints the key.
NEW_PUBLISHER = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token
user = get_user_model().objects.create_user("scaleout-publisher", is_staff=True)
user.groups.add(Group.objects.get(name="Publisher"))
print(Token.objects.create(user=user).key)
"""


@pytest.fixture(scope="module")
def database_url():
    """A new, empty PostgreSQL database, dropped afterwards."""
    config = environ.Env.db_url_config(DATABASE_URL)
    server = psycopg.connect(
        host=config["HOST"],
        port=config["PORT"] or 5432,
        user=config["USER"],
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    name = sql.Identifier(config["NAME"])
    server.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
    server.execute(sql.SQL("CREATE DATABASE {}").format(name))
    try:
        yield DATABASE_URL
    finally:
        server.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(name))
        server.close()


@pytest.fixture(scope="module")
def redis_url():
    """An empty Redis database, emptied again afterwards."""
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()


def free_ports():
    if ports := os.environ.get("SCALEOUT_PORTS"):
        return [int(port) for port in ports.split(",")]
    with socket.socket() as first, socket.socket() as second:
        first.bind(("127.0.0.1", 0))
        second.bind(("127.0.0.1", 0))
        return [first.getsockname()[1], second.getsockname()[1]]


@pytest.fixture(scope="module")
def site(database_url, redis_url, collected_static, tmp_path_factory):
    """The environment of both servers, with the seed loaded and a publisher's API token."""
    environment = production_environment(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        STATIC_ROOT=str(collected_static),
        MEDIA_ROOT=str(tmp_path_factory.mktemp("media")),
        # The load comes from one address, where the anonymous limit is for each client.
        API_THROTTLE_ANON="10000/minute",
        LOG_LEVEL="WARNING",
    )
    manage("migrate", "--noinput", env=environment)
    manage("load_seed", env=environment)
    api_key = manage("shell", "--verbosity", "0", "-c", NEW_PUBLISHER, env=environment)
    return environment, api_key.strip()


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    log: Path

    def fetch(self, path, *, method="GET", headers=None, body=None):
        """Status, headers and body of one request on a connection of its own."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = dict(headers or {})
        if body is not None:
            body = json.dumps(body)
            headers["Content-Type"] = "application/json"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.headers, response.read()
        finally:
            connection.close()

    def wait_until_ready(self):
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            assert self.process.poll() is None, f"Gunicorn exited:\n{self.output()}"
            with contextlib.suppress(OSError):
                if self.fetch("/readyz")[0] == 200:
                    return
            time.sleep(0.2)
        pytest.fail(f"Gunicorn was not ready in {STARTUP_SECONDS} s:\n{self.output()}")

    def output(self):
        return f"--- port {self.port} ---\n{self.log.read_text()}"


def start_server(port, environment, log):
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--config", GUNICORN_CONFIG, "config.wsgi"],
            cwd=settings.BASE_DIR,
            env={**environment, "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2"},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    return Server(port, process, log)


@pytest.fixture(scope="module")
def servers(site, tmp_path_factory):
    """Two Gunicorn servers, two workers each, stopped at the end whatever happens."""
    environment, _ = site
    logs = tmp_path_factory.mktemp("gunicorn")
    started = []
    try:
        for port in free_ports():
            started.append(start_server(port, environment, logs / f"{port}.log"))
        for server in started:
            server.wait_until_ready()
        yield started
    finally:
        for server in started:
            server.process.terminate()
        for server in started:
            try:
                server.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()


def answer(server, path, **request):
    """The body of a 200, or the test fails with the servers' logs."""
    status, headers, body = server.fetch(path, **request)
    assert status == 200, f"{request.get('method', 'GET')} {path}: {status}\n{server.output()}"
    return headers, body


def title_on_page(server):
    _, page = answer(server, PAGE)
    return re.search(rb"<h1[^>]*>(.*?)</h1>", page, re.DOTALL)[1].decode().strip()


def title_in_api(server):
    _, body = answer(server, API_DETAIL)
    return json.loads(body)["title"]


def test_an_edit_through_one_server_is_seen_through_the_other_at_once(servers, site):
    server_a, server_b = servers
    _, api_key = site
    original = title_in_api(server_a)
    # Both servers have served, and could have cached, the page and the record.
    for server in servers:
        for _ in range(2):
            assert title_on_page(server) == original
            assert title_in_api(server) == original

    new_title = f"Credit line of 66 billion yuan, edited {uuid.uuid4().hex[:8]}"
    authorization = {"Authorization": f"Token {api_key}"}
    headers, _ = answer(server_a, API_DETAIL, headers=authorization)
    answer(
        server_a,
        API_DETAIL,
        method="PATCH",
        headers={**authorization, "If-Match": headers["ETag"]},
        body={"title": new_title},
    )

    assert title_on_page(server_b) == new_title
    assert title_in_api(server_b) == new_title
    assert title_on_page(server_a) == new_title
    assert title_in_api(server_a) == new_title


def load_paths(server):
    """What visitors ask for: pages in several languages, API reads, and the static files."""
    _, home = answer(server, "/en/")
    static_files = sorted({path.decode() for path in STATIC_REFERENCE.findall(home)})
    assert static_files
    return [
        "/en/",
        "/es/",
        "/zh-hans/",
        "/en/commitments/",
        "/pt-br/commitments/?status=kept",
        PAGE,
        "/en/articles/",
        "/en/focus-areas/",
        "/en/countries/",
        "/en/search/?q=scholarships",
        "/api/v1/commitments/",
        "/api/v1/commitments/?country=BR",
        API_DETAIL,
        "/api/v1/articles/",
        "/api/v1/focus-areas/",
        "/api/v1/countries/",
        "/sitemap.xml",
        *static_files,
    ]


def test_a_load_spread_over_both_servers_ends_without_an_error(servers):
    paths = load_paths(servers[0])
    # Every path through both servers in turn; every fifth request revalidates what it has.
    jobs = [
        (servers[index % 2], paths[index // 2 % len(paths)], index % 5 == 0)
        for index in range(LOAD_REQUESTS)
    ]
    etags = {}

    def request(job):
        server, path, revalidate = job
        headers = {"If-None-Match": etags[path]} if revalidate and path in etags else {}
        status, response_headers, _ = server.fetch(path, headers=headers)
        if status == 200 and response_headers["ETag"]:
            etags[path] = response_headers["ETag"]
        return status, server.port, path

    started = time.monotonic()
    with ThreadPoolExecutor(LOAD_THREADS) as pool:
        results = list(pool.map(request, jobs))
    elapsed = time.monotonic() - started

    errors = [result for result in results if result[0] not in {200, 304}]
    logs = "\n".join(server.output() for server in servers)
    assert errors == [], logs
    assert {status for status, _, _ in results} == {200, 304}
    assert {port for _, port, _ in results} == {server.port for server in servers}
    assert elapsed < 60
    # Both servers keep their cache in the one Redis.
    assert redis.Redis.from_url(REDIS_URL).dbsize() > 0
