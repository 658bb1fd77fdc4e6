"""Servers of a test's own, on free loopback ports, and a steady load on them.

PostgreSQL and Redis servers that a test may stop and start without harming anyone else's,
and the production app server, Gunicorn, started as `make serve` starts it.
"""

import contextlib
import http.client
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

from tests.processes import manage, production_environment

# What PostgreSQL's programs are run as: initdb and postgres refuse to run as root.
AS_POSTGRES = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

# The slow tests' servers are the same whichever database the test run uses: they run once in
# CI, in its PostgreSQL leg.
once_in_ci = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="The same on either database: CI runs it once, in the PostgreSQL leg.",
)


# A record of the seed, on the site and in the API.
COMMITMENT = "credit-line-66-billion-yuan"
PAGE = f"/en/commitments/{COMMITMENT}/"
API_DETAIL = f"/api/v1/commitments/{COMMITMENT}/"
STARTUP_SECONDS = 30
GUNICORN_CONFIG = "config/gunicorn.conf.py"
STATIC_REFERENCE = re.compile(rb'(?:src|href)="(/static/[^"]+)"')


def free_port():
    """A port nothing listens on now, from the system's own range."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PostgreSQLCluster:
    """A PostgreSQL server of the test's own, which it may stop and start at will."""

    directory: Path
    port: int

    @property
    def programs(self):
        if directory := os.environ.get("POSTGRESQL_BIN_DIR"):
            return Path(directory)
        installed = list(Path("/usr/lib/postgresql").glob("*/bin"))
        assert installed, (
            "PostgreSQL's programs are not in /usr/lib/postgresql/*/bin: "
            "POSTGRESQL_BIN_DIR names the folder of initdb and pg_ctl."
        )
        return max(installed, key=lambda programs: int(programs.parent.name))

    def run(self, program, *arguments):
        result = subprocess.run(
            [*AS_POSTGRES, str(self.programs / program), *arguments],
            capture_output=True,
            text=True,
            check=False,
        )
        log = self.directory / "server.log"
        server_log = log.read_text() if log.exists() else ""
        assert result.returncode == 0, f"{program} failed:\n{result.stderr}\n{server_log}"

    @property
    def data(self):
        return str(self.directory / "data")

    def create(self):
        # Without syncing to disk, here and in the server: the data is thrown away at the end.
        self.run(
            "initdb",
            *("--pgdata", self.data, "--username", "postgres", "--auth", "trust"),
            *("--encoding", "UTF8", "--locale", "C", "--no-sync"),
        )

    def start(self):
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.directory} -c fsync=off"
        )
        log = str(self.directory / "server.log")
        self.run(
            "pg_ctl", "--pgdata", self.data, "--log", log, "--options", options, "--wait", "start"
        )

    def stop(self):
        # Fast: open sessions are ended at once, as when the server goes down under the site.
        self.run("pg_ctl", "--pgdata", self.data, "--mode", "fast", "stop")

    def url(self, database):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"


@contextlib.contextmanager
def postgresql_cluster():
    """A new PostgreSQL cluster, running, removed at the end with its files."""
    # Not under pytest's temporary folder, which only root may enter.
    directory = Path(tempfile.mkdtemp(prefix="puente-postgresql-"))
    if AS_POSTGRES:
        shutil.chown(directory, "postgres")
    cluster = PostgreSQLCluster(directory, free_port())
    try:
        cluster.create()
        cluster.start()
        yield cluster
    finally:
        with contextlib.suppress(AssertionError):
            cluster.stop()
        shutil.rmtree(directory)


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen | None = None

    def start(self):
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--loglevel", "warning"),
            ],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    return
            time.sleep(0.1)
        pytest.fail(f"redis-server did not answer on port {self.port}")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"


@contextlib.contextmanager
def redis_server():
    """A new redis-server without persistence, running, stopped at the end."""
    server = RedisServer(free_port())
    server.start()
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.stop()


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


@contextlib.contextmanager
def gunicorn(environment, log, *, port=None, ready=True):
    """Gunicorn with two workers on `port` or a free one, stopped at the end whatever happens;
    with `ready`, once /readyz answers 200."""
    server = start_server(port or free_port(), environment, log)
    try:
        if ready:
            server.wait_until_ready()
        yield server
    finally:
        server.process.terminate()
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


def seeded_site(database_url, redis_url, *, static_root, media_root):
    """The production environment of a loaded server on that database and Redis, migrated and
    with the seed: the load comes from one address, so the API's rate limits are lifted, and no
    worker is replaced after so many requests, so that any restart is the test's finding."""
    environment = production_environment(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        STATIC_ROOT=str(static_root),
        MEDIA_ROOT=str(media_root),
        API_THROTTLE_ANON="100000/minute",
        API_THROTTLE_USER="100000/minute",
        GUNICORN_CMD_ARGS="--max-requests 0",
        LOG_LEVEL="WARNING",
    )
    manage("migrate", "--noinput", env=environment)
    manage("load_seed", env=environment)
    return environment


# A publisher signed in; the shell prints the session cookie's value.
NEW_SESSION = """
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
user = get_user_model().objects.create_user("signed-in-publisher", is_staff=True)
user.groups.add(Group.objects.get(name="Publisher"))
client = Client()
client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
print(client.cookies["sessionid"].value)
"""


def signed_in_publisher(environment):
    """The session cookie of a new publisher, signed in to the site of `environment`."""
    return manage("shell", "--verbosity", "0", "-c", NEW_SESSION, env=environment).strip()


def worker_pids(server):
    """The process IDs of the server's workers now."""
    pid = server.process.pid
    return set(Path(f"/proc/{pid}/task/{pid}/children").read_text().split())


@dataclass(frozen=True)
class Answer:
    path: str
    started: float
    finished: float
    # None when no HTTP answer came: the connection failed, or timed out.
    status: int | None
    headers: Message
    # Kept for the answers other than 200 and 304 only, to read what went wrong.
    body: bytes
    error: str | None = None

    @property
    def seconds(self):
        return self.finished - self.started


class BackgroundLoad:
    """Threads that ask the server for the paths in turn until stopped; every answer is kept.

    `headers` go with every request, such as a signed-in user's session cookie. With
    `revalidate_every=n`, every nth request of a path whose ETag is known sends it in
    If-None-Match, as a browser or a client with a cache does, and should get a 304.
    """

    def __init__(self, server, paths, *, threads=4, headers=None, revalidate_every=0):
        self.server = server
        self.headers = headers or {}
        self.paths = itertools.cycle(paths)
        self.revalidate_every = revalidate_every
        self.answers = []
        self.etags = {}
        self.turn = itertools.count(1)
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def run(self):
        while not self.stopping.is_set():
            with self.lock:
                path, turn = next(self.paths), next(self.turn)
                etag = self.etags.get(path)
            revalidate = etag and self.revalidate_every and turn % self.revalidate_every == 0
            headers = {**self.headers, "If-None-Match": etag} if revalidate else self.headers
            answer = self.ask(path, headers)
            with self.lock:
                self.answers.append(answer)
                if answer.status == 200 and answer.headers.get("ETag"):
                    self.etags[path] = answer.headers["ETag"]

    def ask(self, path, headers):
        started = time.monotonic()
        try:
            status, response_headers, body = self.server.fetch(path, headers=headers)
        except OSError as error:
            return Answer(path, started, time.monotonic(), None, Message(), b"", repr(error))
        kept = b"" if status in (200, 304) else body
        return Answer(path, started, time.monotonic(), status, response_headers, kept)

    def answers_between(self, start, end):
        """The answers to the requests sent after `start` that came back before `end`."""
        with self.lock:
            return [each for each in self.answers if each.started >= start and each.finished <= end]
