"""The targets of the database, and each one's database queries, asked in the app's own settings.

bench/run.py runs it with the app server's environment and reads the JSON it prints:

    python -m bench.probe HOST

Queries are counted with Django's test client and CaptureQueriesContext, one request at a time in
this process, after a first request that warms up what a worker keeps between requests; not in the
servers under load, where counting would cost time of its own. Transaction control (BEGIN,
COMMIT, savepoints) is left out, so the counts of SQLite and PostgreSQL compare.
"""

import dataclasses
import json
import sys

import django
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")
# The page cache of the `cached` server, in this process.
CACHED_SECONDS = 300


def read(response):
    """The whole body: a streamed answer runs its queries as it is read."""
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def database_queries(captured):
    return [query for query in captured if not query["sql"].upper().startswith(TRANSACTION_CONTROL)]


def probe(client, target):
    """The target's status, X-Cache header and number of queries, after a first request (for a
    slow one, only to revalidate)."""
    if target.revalidate or not target.slow:
        first = client.get(target.path)
        read(first)
    headers = {"headers": {"If-None-Match": first["ETag"]}} if target.revalidate else {}
    path = target.path
    if target.unique_parameter:
        path += f"{'&' if '?' in path else '?'}{target.unique_parameter}=probe"
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path, **headers)
        read(response)
    return {
        "status": response.status_code,
        "x_cache": response.get("X-Cache"),
        "queries": len(database_queries(captured)),
    }


def probe_all(host):
    """Every target, with what the app answers it; the lists' queries at each page size."""
    # The app's models load once Django is set up.
    from bench.targets import Target, page_size_pairs, resolve_targets

    client = Client(headers={"Host": host})
    targets = []
    for target in resolve_targets():
        found = dataclasses.asdict(target)
        if target.server == "app":
            found.update(probe(client, target))
        elif target.server == "cached":
            with override_settings(PAGE_CACHE_SECONDS=CACHED_SECONDS):
                found.update(probe(client, target))
        targets.append(found)
    page_sizes = {
        name: [probe(client, Target(name, path))["queries"] for path in paths]
        for name, paths in page_size_pairs().items()
    }
    return {"targets": targets, "page_sizes": page_sizes, "dataset": dataset()}


def dataset():
    from policy.models import Article, Commitment

    return {
        "articles": Article.objects.count(),
        "commitments": Commitment.objects.count(),
        "published_commitments": Commitment.objects.published().count(),
    }


if __name__ == "__main__":
    django.setup()
    json.dump(probe_all(sys.argv[1]), sys.stdout)
