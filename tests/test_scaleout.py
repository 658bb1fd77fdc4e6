"""Two app servers at once, as behind a load balancer: two Gunicorn processes on their own
loopback ports share one PostgreSQL database and one Redis. An edit made through one is seen
through the other at once, and a bounded load spread over both ends without a single error.

PostgreSQL and Redis must answer: without them this test fails. SCALEOUT_DATABASE_URL names the
database it creates and drops (default postgres://postgres@127.0.0.1:5432/puente_scaleout),
SCALEOUT_REDIS_URL the Redis database it empties (default redis://127.0.0.1:6379/15), and
SCALEOUT_PORTS two free ports (default: any two the system gives).
"""

import contextlib
import json
import os
import re
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import environ
import psycopg
import pytest
import redis
from psycopg import sql

from tests.processes import manage
from tests.servers import API_DETAIL, PAGE, answer, gunicorn, load_paths, seeded_site

pytestmark = pytest.mark.scaleout

DATABASE_URL = os.environ.get(
    "SCALEOUT_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/puente_scaleout"
)
REDIS_URL = os.environ.get("SCALEOUT_REDIS_URL", "redis://127.0.0.1:6379/15")
LOAD_REQUESTS = 400
LOAD_THREADS = 8

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
    environment = seeded_site(
        database_url,
        redis_url,
        static_root=collected_static,
        media_root=tmp_path_factory.mktemp("media"),
    )
    api_key = manage("shell", "--verbosity", "0", "-c", NEW_PUBLISHER, env=environment)
    return environment, api_key.strip()


@pytest.fixture(scope="module")
def servers(site, tmp_path_factory):
    """Two Gunicorn servers, two workers each, stopped at the end whatever happens."""
    environment, _ = site
    logs = tmp_path_factory.mktemp("gunicorn")
    with contextlib.ExitStack() as stack:
        started = [
            stack.enter_context(gunicorn(environment, logs / f"{port}.log", port=port, ready=False))
            for port in free_ports()
        ]
        for server in started:
            server.wait_until_ready()
        yield started


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


def test_a_read_kept_by_one_server_is_a_hit_on_the_other_with_its_own_request_id(servers):
    """Through Gunicorn, as deployed: the WSGI application's front door (policy/wsgi.py)
    answers the hits and the 304s, each with its request ID."""
    server_a, server_b = servers
    # The name both are served under, behind the balancer.
    host = {"Host": "localhost"}
    path = "/es/focus-areas/"
    answer(server_a, path, headers=host)
    page, _ = answer(server_b, path, headers={**host, "X-Request-ID": "scaleout-hit"})
    api, _ = answer(server_a, API_DETAIL, headers=host)
    status, revalidated, body = server_b.fetch(
        API_DETAIL,
        headers={**host, "If-None-Match": api["ETag"], "X-Request-ID": "scaleout-304"},
    )

    assert (page["X-Cache"], page["X-Request-ID"]) == ("hit", "scaleout-hit")
    assert (status, revalidated["X-Cache"], body) == (304, "hit", b"")
    assert revalidated["X-Request-ID"] == "scaleout-304"
    assert revalidated["ETag"] == api["ETag"]


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
