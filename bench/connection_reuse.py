"""How each Gunicorn worker should get its PostgreSQL connection, measured with wrk.

Three ways, each through `gunicorn --config config/gunicorn.conf.py` on the production settings:
- a new connection for every request (CONN_MAX_AGE=0, Django's default);
- a persistent connection per worker (CONN_MAX_AGE=60, with CONN_HEALTH_CHECKS);
- psycopg's connection pool (OPTIONS["pool"], bench/pool_settings.py; needs psycopg-pool).

The page cache is off (PAGE_CACHE_SECONDS=0), so that every request reaches the database, as a
cache miss, a signed-in editor or an API client with a token does. The variants take turns,
round after round, so that a change in the machine's load hits them all alike; the table gives
the median of the rounds.

    .venv/bin/python bench/connection_reuse.py \\
        --database-url postgres://postgres@127.0.0.1:5432/puente_bench --port 8620

The database is created (dropped first if it exists), migrated, seeded, and dropped at the end.
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import environ
import psycopg
from psycopg import sql

BASE_DIR = Path(__file__).resolve().parent.parent
WRK = shutil.which("wrk")
VARIANTS = {
    "new connection per request (CONN_MAX_AGE=0)": {"DB_CONN_MAX_AGE": "0"},
    "persistent connection (CONN_MAX_AGE=60, health checks)": {"DB_CONN_MAX_AGE": "60"},
    "psycopg pool (min 1, max 2 per worker)": {"DJANGO_SETTINGS_MODULE": "bench.pool_settings"},
}
PATHS = {
    "commitment page": "/en/commitments/credit-line-66-billion-yuan/",
    "API list": "/api/v1/commitments/",
    # One query and one cache round trip: the connection is most of the work.
    "readiness check": "/readyz",
}


def arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/puente_bench")
    parser.add_argument("--port", type=int, default=8620)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=2, help="wrk's open connections")
    parser.add_argument("--duration", type=int, default=10, help="seconds of each wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    return parser.parse_args()


def server_connection(database_url):
    config = environ.Env.db_url_config(database_url)
    connection = psycopg.connect(
        host=config["HOST"],
        port=config["PORT"] or 5432,
        user=config["USER"],
        password=config["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    return connection, config["NAME"]


def sessions_opened(server, name):
    """How many connections the database has accepted since the server started."""
    return server.execute(
        "SELECT sessions FROM pg_stat_database WHERE datname = %s", [name]
    ).fetchone()[0]


def connection_cost(database_url, times=200):
    """Median ms of a query on a new connection, and of the same query on an open one."""
    config = environ.Env.db_url_config(database_url)
    parameters = {
        "host": config["HOST"],
        "port": config["PORT"] or 5432,
        "user": config["USER"],
        "password": config["PASSWORD"] or None,
        "dbname": config["NAME"],
    }
    new, reused = [], []
    with psycopg.connect(**parameters) as open_connection:
        for _ in range(times):
            started = time.perf_counter()
            with psycopg.connect(**parameters) as connection:
                connection.execute("SELECT 1")
            new.append(time.perf_counter() - started)
            started = time.perf_counter()
            open_connection.execute("SELECT 1")
            reused.append(time.perf_counter() - started)
    return statistics.median(new) * 1000, statistics.median(reused) * 1000


def run(command, env):
    subprocess.run(command, cwd=BASE_DIR, env=env, check=True, stdout=subprocess.DEVNULL)


def start_gunicorn(env, port):
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "config/gunicorn.conf.py", "config.wsgi"],
        cwd=BASE_DIR,
        env={**env, "BIND": f"127.0.0.1:{port}"},
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2):
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"Gunicorn did not start on port {port}.")


def wrk(url, *, connections, duration):
    """Requests a second, median and 99th percentile latency in ms, and non-2xx/3xx answers."""
    output = subprocess.run(
        [WRK, "--latency", "-t", "1", "-c", str(connections), "-d", f"{duration}s", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),
        "p50": milliseconds(re.search(r"50%\s+([\d.]+\w+)", output)[1]),
        "p99": milliseconds(re.search(r"99%\s+([\d.]+\w+)", output)[1]),
        "errors": int(errors[1]) if errors else 0,
    }


def milliseconds(value):
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1, "s": 1000}[unit]


def main():
    options = arguments()
    if WRK is None:
        raise SystemExit("wrk is not installed: apt-get install wrk")
    server, name = server_connection(options.database_url)
    database = sql.Identifier(name)
    server.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
    server.execute(sql.SQL("CREATE DATABASE {}").format(database))
    static_root = tempfile.mkdtemp(prefix="bench-static-")
    env = {
        **{key: value for key, value in os.environ.items() if key != "REDIS_URL"},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": "bench-only-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "False",
        "DATABASE_URL": options.database_url,
        "STATIC_ROOT": static_root,
        "PAGE_CACHE_SECONDS": "0",
        "API_THROTTLE_ANON": "1000000/minute",
        "LOG_LEVEL": "WARNING",
        "WEB_CONCURRENCY": str(options.workers),
    }
    results = {(variant, page): [] for variant in VARIANTS for page in PATHS}
    try:
        run([sys.executable, "manage.py", "collectstatic", "--noinput"], env)
        run([sys.executable, "manage.py", "migrate", "--noinput"], env)
        run([sys.executable, "manage.py", "load_seed"], env)
        new, reused = connection_cost(options.database_url)
        print(f"SELECT 1 on a new connection: {new:.2f} ms; on an open one: {reused:.2f} ms")
        for round_number in range(1, options.rounds + 1):
            for variant, overrides in VARIANTS.items():
                process = start_gunicorn({**env, **overrides}, options.port)
                try:
                    for page, path in PATHS.items():
                        url = f"http://127.0.0.1:{options.port}{path}"
                        # A short warm-up: each worker imports and renders once.
                        wrk(url, connections=options.connections, duration=1)
                        before = sessions_opened(server, name)
                        result = wrk(
                            url, connections=options.connections, duration=options.duration
                        )
                        opened = sessions_opened(server, name) - before
                        result["connections"] = opened / (result["rps"] * options.duration)
                        results[variant, page].append(result)
                        print(f"round {round_number} {variant} {page}: {result}", flush=True)
                finally:
                    process.terminate()
                    process.wait()
    finally:
        server.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(database))
        shutil.rmtree(static_root, ignore_errors=True)
    print_table(results, options)


def print_table(results, options):
    print()
    print(
        f"{options.workers} sync workers, wrk -t1 -c{options.connections} "
        f"-d{options.duration}s, median of {options.rounds} rounds\n"
    )
    print("| variant | page | requests/s | p50 ms | p99 ms | errors | connections/request |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for (variant, page), runs in results.items():
        median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        print(
            f"| {variant} | {page} | {median['rps']:.0f} | {median['p50']:.1f} "
            f"| {median['p99']:.1f} | {sum(run['errors'] for run in runs)} "
            f"| {median['connections']:.3f} |"
        )


if __name__ == "__main__":
    main()
