"""The benchmark: the production server and its baselines under wrk, in one run, and the goals.

    make bench                                            # SQLite, the full synthetic dataset
    make bench BENCH_ARGS="--database postgres"           # a fresh PostgreSQL database
    .venv/bin/python -m bench.run --small --duration 3    # a quick look

It builds a fresh database with `generate_dataset`, starts four Gunicorn servers (bench/targets.py
says which) with config/gunicorn.conf.py and the same number of workers, loads each target with
wrk, and writes bench/results/<time>-<database>.json and .md, and latest.md. bench/README.md says
how to read them. It exits with 1 when something failed (a server, a request, wrk), and never
because a goal was missed: the results say which are.
"""

import argparse
import datetime
import json
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import environ
import psycopg
from psycopg import sql

from bench import report, servers, wrk
from bench.servers import BASE_DIR, Server, ServerFailed

DATA_DIR = BASE_DIR / "bench" / "data"
RESULTS_DIR = BASE_DIR / "bench" / "results"
SQLITE_PATH = DATA_DIR / "puente-bench.sqlite3"
POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/puente_bench"
# generate_dataset's sizes for --small; the full run takes its defaults.
SMALL_DATASET = {
    "articles": 100,
    "commitments": 1000,
    "actors": 40,
    "people": 60,
    "events": 30,
    "projects": 50,
}
# What the shell may set that would change what the servers use.
SHELL_SETTINGS = {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "DEBUG", "AWS_STORAGE_BUCKET_NAME"}
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# The services that answer the app besides its workers, by the command name of their processes.
SERVICES = {"postgresql": "postgres", "redis": "redis-server"}
# Where each server's readiness is asked: every server answers it.
READY_PATH = "/bench/trivial/"


class SetupFailed(Exception):
    """The database or the static files could not be prepared."""


def arguments(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.split("\n", 1)[0]
    )
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BENCH_DATABASE_URL", POSTGRES_URL),
        help="the PostgreSQL database to create (dropped first if it exists) "
        f"with --database postgres (default: $BENCH_DATABASE_URL or {POSTGRES_URL})",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("BENCH_REDIS_URL", ""),
        help="Redis for the page cache and the throttles, as REDIS_URL (default: "
        "$BENCH_REDIS_URL; without it, each worker's own memory)",
    )
    parser.add_argument("--small", action="store_true", help="a small dataset, for a quick run")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--workers", type=int, default=2, help="Gunicorn workers per server")
    parser.add_argument("--connections", type=int, default=8, help="wrk's open connections")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per target")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of load before each")
    parser.add_argument("--rounds", type=int, default=1, help="runs of every target, in turn")
    parser.add_argument(
        "--fixed-cost-rounds",
        type=int,
        default=3,
        help="runs of the baselines and the targets that cost about as little (at least --rounds)",
    )
    parser.add_argument(
        "--port", type=int, default=8600, help="the first of four consecutive loopback ports"
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="TEXT",
        help="measure only the targets whose name holds TEXT (repeatable)",
    )
    parser.add_argument(
        "--keep-database", action="store_true", help="keep the database after the run"
    )
    parser.add_argument("--output", type=Path, default=RESULTS_DIR)
    options = parser.parse_args(argv)
    for name in ("workers", "connections", "duration", "rounds", "fixed_cost_rounds"):
        if getattr(options, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1.")
    return options


class SQLiteDatabase:
    name = "sqlite"

    def __init__(self, path):
        self.path = path
        self.url = f"sqlite:///{path}"

    def create(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.drop()

    def analyze(self):
        """Nothing: Django never runs SQLite's ANALYZE, so a deployed database has no statistics."""

    def drop(self):
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)


class PostgresDatabase:
    name = "postgresql"

    def __init__(self, url):
        self.url = url
        self.config = environ.Env.db_url_config(url)

    def connect(self, dbname):
        return psycopg.connect(
            host=self.config["HOST"],
            port=self.config["PORT"] or 5432,
            user=self.config["USER"],
            password=self.config["PASSWORD"] or None,
            dbname=dbname,
            autocommit=True,
        )

    def create(self):
        with self.connect("postgres") as server:
            name = sql.Identifier(self.config["NAME"])
            server.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
            server.execute(sql.SQL("CREATE DATABASE {}").format(name))

    def analyze(self):
        """Statistics and visibility maps, as autovacuum would have them for a working site."""
        with self.connect(self.config["NAME"]) as connection:
            connection.execute("VACUUM ANALYZE")

    def drop(self):
        with self.connect("postgres") as server:
            name = sql.Identifier(self.config["NAME"])
            server.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


class Benchmark:
    def __init__(self, options):
        self.options = options
        self.database = (
            PostgresDatabase(options.database_url)
            if options.database == "postgres"
            else SQLiteDatabase(SQLITE_PATH)
        )
        self.static_root = Path(tempfile.mkdtemp(prefix="puente-bench-static-"))
        self.log_dir = DATA_DIR / "logs"
        self.servers = {}
        self.errors = []
        self.load_averages = []

    def app_environment(self, **variables):
        """The production settings of `make serve`, with the benchmark's views and no throttle."""
        env = {key: value for key, value in os.environ.items() if key not in SHELL_SETTINGS}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.production",
            SECRET_KEY="bench-only-" + "x" * 50,
            ALLOWED_HOSTS="127.0.0.1,localhost",
            SECURE_SSL_REDIRECT="False",
            DATABASE_URL=self.database.url,
            STATIC_ROOT=str(self.static_root),
            BENCH_VIEWS="True",
            # The throttles still count every API request, and never refuse one.
            API_THROTTLE_ANON="1000000/second",
            API_THROTTLE_USER="1000000/second",
            PAGE_CACHE_SECONDS="0",
            WEB_CONCURRENCY=str(self.options.workers),
            # Workers are not replaced during the run: a new one would start cold in the middle
            # of a measurement, and take its peak memory with the old one.
            GUNICORN_CMD_ARGS="--max-requests 0",
        )
        if self.options.redis_url:
            env["REDIS_URL"] = self.options.redis_url
        env.update(variables)
        return env

    def run(self):
        started_at = utc_now()
        self.prepare()
        probed = self.probe()
        targets = self.runnable(probed["targets"])
        self.start_servers({target["server"] for target in targets})
        boot_rss = {name: server.rss_mb() for name, server in self.servers.items()}
        rounds = {target["name"]: [] for target in targets}
        schedule = rounds_of(
            targets, rounds=self.options.rounds, fixed_cost_rounds=self.options.fixed_cost_rounds
        )
        for round_number, round_targets in enumerate(schedule, start=1):
            for target in round_targets:
                measured = self.measure(target)
                rounds[target["name"]].append(measured)
                print(
                    f"round {round_number} | {target['name']}: {measured['rps']:.1f} req/s, "
                    f"p50 {report.number(measured['latency_ms']['p50'])} ms, "
                    f"{measured['errors']} errors",
                    flush=True,
                )
        rest_rss = {}
        for name, server in self.servers.items():
            self.settle(server, "at the end")
            rest_rss[name] = server.rss_mb()
        results = {
            "started_at": started_at,
            "finished_at": utc_now(),
            "database": self.database.name,
            "settings": {
                "workers": self.options.workers,
                "connections": self.options.connections,
                "duration": self.options.duration,
                "warmup": self.options.warmup,
                "rounds": self.options.rounds,
                "fixed_cost_rounds": len(schedule),
                "dataset": {"seed": self.options.seed, **probed["dataset"]},
                "page_cache": "Redis" if self.options.redis_url else "each worker's memory",
            },
            "machine": machine(),
            "load_average": {
                "before": self.load_averages[0],
                "after": os.getloadavg()[0],
                "highest": max(self.load_averages),
            },
            "targets": [summary(target, rounds[target["name"]]) for target in targets],
            "servers": {
                name: {
                    "boot_rss_mb": list(boot_rss[name].values()),
                    "rest_rss_mb": list(rest_rss[name].values()),
                }
                for name in self.servers
            },
            "page_sizes": probed["page_sizes"],
            "errors": self.errors,
        }
        results["goals"] = report.judge(results)
        return results

    def prepare(self):
        """A fresh database with the synthetic dataset, and the static files of a release."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.load_averages.append(os.getloadavg()[0])
        print(f"Creating the {self.database.name} database and the dataset.", flush=True)
        self.database.create()
        env = self.app_environment()
        dataset = [f"--seed={self.options.seed}"]
        if self.options.small:
            dataset += [f"--{name}={count}" for name, count in SMALL_DATASET.items()]
        manage(["migrate", "--noinput"], env)
        print(manage(["generate_dataset", *dataset], env).strip(), flush=True)
        self.database.analyze()
        manage(["collectstatic", "--noinput", "--verbosity", "0"], env)

    def probe(self):
        """The targets, with each one's answer and queries, from bench/probe.py."""
        print("Counting the queries of each target.", flush=True)
        result = subprocess.run(
            [sys.executable, "-m", "bench.probe", "127.0.0.1"],
            cwd=BASE_DIR,
            env=self.app_environment(),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise SetupFailed(f"bench/probe.py failed:\n{result.stderr[-3000:]}")
        return json.loads(result.stdout)

    def runnable(self, targets):
        """The targets asked for that answer as expected; the others are errors."""
        chosen = []
        for target in targets:
            if self.options.only and not any(text in target["name"] for text in self.options.only):
                continue
            if (
                target["server"] in ("app", "cached")
                and target["status"] != target["expect_status"]
            ):
                self.errors.append(
                    f"{target['name']}: {target['path']} answered {target['status']}, "
                    f"not {target['expect_status']}; not measured."
                )
                continue
            if target["primed"] and target["x_cache"] != "hit":
                self.errors.append(
                    f"{target['name']}: a repeated request was not a cache hit; not measured."
                )
                continue
            chosen.append(target)
        return chosen

    def start_servers(self, names):
        """The servers that the targets need, each on its own port."""
        configurations = {
            "raw": ("bench.raw", self.app_environment()),
            "django": (
                "bench.bare_wsgi",
                self.app_environment(DJANGO_SETTINGS_MODULE="bench.bare_settings"),
            ),
            "app": ("config.wsgi", self.app_environment()),
            # Answers are kept for a day, so that none expires during the run: the conditional
            # requests of the 304 target would then be answered by the view, and none of them
            # could store the answer again.
            "cached": ("config.wsgi", self.app_environment(PAGE_CACHE_SECONDS="86400")),
        }
        for offset, (name, (app, env)) in enumerate(configurations.items()):
            if name not in names:
                continue
            server = Server(
                name,
                app=app,
                env=env,
                port=self.options.port + offset,
                log_path=self.log_dir / f"{name}.log",
            )
            self.servers[name] = server
            print(f"Starting the {name} server on {server.url}.", flush=True)
            server.start(READY_PATH)

    def measure(self, target):
        """One run of wrk on the target, with the memory of the server's workers around it."""
        server = self.servers[target["server"]]
        url = server.url + target["path"]
        headers = []
        if target["primed"]:
            # Asked once, so that the page cache keeps the answer.
            status, answer_headers = server.get(target["path"], timeout=wrk.TIMEOUT_SECONDS)
            if status != 200:
                raise ServerFailed(f"{target['name']}: {target['path']} answered {status}.")
            if target["revalidate"]:
                headers.append(f"If-None-Match: {answer_headers['ETag']}")
        load = {
            "url": url,
            "connections": self.options.workers if target["slow"] else self.options.connections,
            "headers": headers,
            "expect_status": target["expect_status"],
            "expect_header": target["expect_header"],
            "unique_parameter": target["unique_parameter"],
        }
        # The slow answers are not warmed up: the workers are warm from the targets before,
        # and the memory they take is what is measured.
        if self.options.warmup and not target["slow"]:
            wrk.run(duration=self.options.warmup, **load)
        self.settle(server, f"before {target['name']}")
        workers = server.workers()
        rss_before = server.rss_mb()
        server.reset_peaks()
        load_average = os.getloadavg()[0]
        cpu_before = cpu_ticks_by_part(workers)
        measured = wrk.run(duration=self.duration(target), **load)
        cpu_after = cpu_ticks_by_part(server.workers())
        peaks = server.peak_mb()
        self.load_averages += [load_average, os.getloadavg()[0]]
        settled = server.settle()
        restarted = sorted(set(workers) - set(server.workers()))
        if restarted:
            self.errors.append(
                f"{target['name']}: {len(restarted)} worker(s) of the {server.name} server were "
                f"replaced (timeout or crash); see {server.log_path}."
            )
        if restarted or not settled:
            # Requests that wrk gave up on may still wait in the server's queue, and would run
            # into the next target.
            self.errors.append(
                f"{target['name']}: the {server.name} server was restarted, as requests were "
                "left over after the load."
            )
            server.stop()
            server.start(READY_PATH)
        if not measured["requests"]:
            self.errors.append(
                f"{target['name']}: no request was answered in {self.duration(target)} s."
            )
        if measured["errors"]:
            self.errors.append(
                f"{target['name']}: {measured['errors']} of {measured['requests']} requests "
                f"failed ({measured['error_kinds']})."
            )
        growth = [peaks[pid] - rss_before[pid] for pid in peaks if pid in rss_before]
        return {
            **measured,
            "rss_before_mb": max(rss_before.values(), default=None),
            "peak_rss_mb": max(peaks.values(), default=None),
            "memory_growth_mb": round(max(growth), 1) if growth else None,
            "restarts": len(restarted),
            "load_average": load_average,
            "cpu_us_per_request": cpu_per_request(cpu_before, cpu_after, measured["requests"]),
        }

    def duration(self, target):
        """Seconds of load; a slow target gets as long as a worker may take for one request."""
        if target["slow"]:
            return max(self.options.duration, wrk.TIMEOUT_SECONDS)
        return self.options.duration

    def settle(self, server, when):
        if not server.settle():
            self.errors.append(
                f"The {server.name} server's workers were still busy {when}, "
                f"{servers.SETTLE_SECONDS} s after the load."
            )

    def clean_up(self):
        for server in self.servers.values():
            server.stop()
        shutil.rmtree(self.static_root, ignore_errors=True)
        if not self.options.keep_database:
            self.database.drop()


def cpu_ticks_by_part(workers):
    """The CPU clock ticks so far of the server's workers, of the services' processes and of wrk
    (this process's children, once they have ended), each process's apart."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "workers": servers.cpu_ticks(workers),
        **{
            part: servers.cpu_ticks(servers.processes_named(command))
            for part, command in SERVICES.items()
        },
        "wrk": {"children": (children.ru_utime + children.ru_stime) * CLOCK_TICKS},
    }


def cpu_per_request(before, after, requests):
    """The microseconds of CPU time of each part per request answered between the two readings.

    A process started in between, such as the PostgreSQL backend of a new connection or a
    replaced worker, counts all its time.
    """
    if not requests:
        return None
    return {
        part: round(
            sum(ticks - before[part].get(pid, 0) for pid, ticks in after[part].items())
            / CLOCK_TICKS
            * 1_000_000
            / requests,
            1,
        )
        for part in after
    }


def manage(arguments, env):
    result = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SetupFailed(f"manage.py {' '.join(arguments)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def rounds_of(targets, *, rounds, fixed_cost_rounds):
    """The targets of each round, in turn: all of them in the first `rounds`, then the fixed-cost
    ones alone until `fixed_cost_rounds`. Their ratios to the baselines sit near their goals'
    lines, and one run of ten seconds moves them by up to a tenth on a busy machine; two more
    runs of these six targets take about two minutes."""
    return [
        [target for target in targets if number <= rounds or target["fixed_cost"]]
        for number in range(1, max(rounds, fixed_cost_rounds) + 1)
    ]


def summary(target, rounds):
    """A target's figures over the rounds: medians of the timings, the worst of the rest."""

    def median(values):
        values = [value for value in values if value is not None]
        return statistics.median(values) if values else None

    def worst(values):
        return max((value for value in values if value is not None), default=None)

    return {
        "name": target["name"],
        "server": target["server"],
        "path": target["path"],
        # Counted for the app's servers only.
        "status": target.get("status"),
        "queries": target.get("queries"),
        "rps": median(each["rps"] for each in rounds),
        "latency_ms": {
            name: median(each["latency_ms"][name] for each in rounds)
            for name in rounds[0]["latency_ms"]
        },
        "requests": sum(each["requests"] for each in rounds),
        "errors": sum(each["errors"] for each in rounds),
        "restarts": sum(each["restarts"] for each in rounds),
        "rss_before_mb": worst(each["rss_before_mb"] for each in rounds),
        "peak_rss_mb": worst(each["peak_rss_mb"] for each in rounds),
        "memory_growth_mb": worst(each["memory_growth_mb"] for each in rounds),
        "load_average": [each["load_average"] for each in rounds],
        "cpu_us_per_request": median_cpu_per_request(rounds),
        "rounds": rounds,
    }


def median_cpu_per_request(rounds):
    """Each part's median CPU time per request, over the rounds that answered any request."""
    measured = [each["cpu_us_per_request"] for each in rounds if each["cpu_us_per_request"]]
    if not measured:
        return None
    return {part: statistics.median(each[part] for each in measured) for part in measured[0]}


def machine():
    def output(command):
        return subprocess.run(
            command, cwd=BASE_DIR, capture_output=True, text=True, check=False
        ).stdout.strip()

    changed = output(["git", "status", "--porcelain", "--untracked-files=no"])
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        # wrk prints its version first, then its usage.
        "wrk": output([wrk.executable(), "--version"]).split("\n", 1)[0],
        "commit": output(["git", "rev-parse", "--short", "HEAD"]) + ("+changes" if changed else ""),
    }


def utc_now():
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stop_on_signal(signum, frame):
    # SIGTERM ends the run as Ctrl-C does, through the clean-up.
    raise KeyboardInterrupt


def main(argv=None):
    options = arguments(argv)
    try:
        wrk.executable()
    except wrk.WrkFailed as error:
        print(error, file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, stop_on_signal)
    benchmark = Benchmark(options)
    try:
        results = benchmark.run()
    except KeyboardInterrupt:
        print("Interrupted; the servers are stopped.", file=sys.stderr)
        return 130
    except (SetupFailed, ServerFailed, wrk.WrkFailed) as error:
        print(f"The benchmark failed: {error}", file=sys.stderr)
        return 1
    finally:
        benchmark.clean_up()
    written = report.write(results, options.output)
    print(f"\n{written.read_text()}\nWritten to {written} and {written.with_suffix('.json')}.")
    if results["errors"]:
        print("Errors:\n" + "\n".join(results["errors"]), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
