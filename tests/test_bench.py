"""The benchmark harness's own logic (bench/): reading wrk, judging the goals, writing the results,
the baselines' views, and every target answering as expected on a small synthetic dataset.

No timing is checked here. wrk's output is read from a sample it printed; one test runs wrk
itself (`apt-get install -y wrk`), on bench/report.lua's own request function.
"""

import importlib
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.urls import clear_url_caches

import config.urls
import policy.cache
from bench import cpu, probe, raw, report, run, servers, targets, wrk
from policy.cache import PageStore

# What wrk printed with bench/report.lua, after a run of 2 s on a local server.
WRK_OUTPUT = """\
Running 2s test @ http://127.0.0.1:8790/
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.36ms    2.04ms  17.17ms   85.81%
    Req/Sec     0.97k   216.56     1.45k    75.00%
  1933 requests in 2.01s, 5.67MB read
Requests/sec:    963.13
Transfer/sec:      2.83MB
BENCH_RESULT {"requests": 1933, "duration_us": 2007001, "bytes": 5945908, "latency_us": \
{"p50": 1427, "p95": 6607, "p99": 9619, "mean": 2363.0, "max": 17166}, "errors": {"connect": 0, \
"read": 0, "write": 0, "timeout": 0, "status": 0, "unexpected": 0}}
"""
# The same with answers that were not the one asked for, and socket errors.
WRK_OUTPUT_WITH_ERRORS = """\
Running 2s test @ http://127.0.0.1:8790/nonexistent
  2598 requests in 2.08s, 1.29MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 2598
BENCH_RESULT {"requests": 2598, "duration_us": 2082775, "bytes": 1350960, "latency_us": \
{"p50": 1163, "p95": 7208, "p99": 83049, "mean": 3912.4, "max": 109190}, "errors": {"connect": 0, \
"read": 2, "write": 0, "timeout": 3, "status": 2598, "unexpected": 2598}}
"""
SMALL_DATASET = [
    "--articles=12",
    "--commitments=60",
    "--actors=10",
    "--publishers=2",
    "--people=10",
    "--keywords=8",
    "--events=5",
    "--projects=6",
]


def test_wrk_figures_are_read_from_the_result_line():
    figures = wrk.parse(WRK_OUTPUT)

    assert figures["requests"] == 1933
    assert figures["rps"] == pytest.approx(1933 / 2.007001)
    assert figures["latency_ms"] == {
        "p50": 1.427,
        "p95": 6.607,
        "p99": 9.619,
        "mean": 2.363,
        "max": 17.166,
    }
    assert figures["errors"] == 0


def test_a_failed_request_counts_once_whichever_way_wrk_counts_it():
    figures = wrk.parse(WRK_OUTPUT_WITH_ERRORS)

    # 2,598 answers were wrong (each both a status error and unexpected), 5 sockets failed.
    assert figures["errors"] == 2598 + 2 + 3


def test_answers_without_the_expected_header_are_errors():
    output = WRK_OUTPUT.replace('"unexpected": 0', '"unexpected": 7')

    assert wrk.parse(output)["errors"] == 7


def test_a_run_where_no_request_finished_has_no_latencies():
    output = WRK_OUTPUT.replace('"requests": 1933', '"requests": 0')

    figures = wrk.parse(output)

    assert figures["rps"] == 0
    assert figures["latency_ms"]["p99"] is None


def test_output_without_the_result_line_is_refused():
    with pytest.raises(wrk.WrkFailed, match="no result line"):
        wrk.parse(WRK_OUTPUT.split("BENCH_RESULT")[0])


def test_without_wrk_the_benchmark_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setattr(wrk.shutil, "which", lambda name: None)

    assert run.main(["--small"]) == 2
    assert "apt-get install -y wrk" in capsys.readouterr().err


def test_wrk_is_asked_for_the_exact_figures_and_the_headers():
    command = wrk.command(
        "http://127.0.0.1:1/x", connections=4, duration=3, headers=["If-None-Match: W/1"]
    )

    assert command[command.index("--script") + 1] == str(wrk.REPORT_SCRIPT)
    assert command[command.index("--connections") + 1] == "4"
    assert command[command.index("--header") + 1] == "If-None-Match: W/1"
    assert command[-1] == "http://127.0.0.1:1/x"


class RecordingHandler(BaseHTTPRequestHandler):
    """Answers every GET with a cache hit, and keeps the paths asked."""

    protocol_version = "HTTP/1.1"
    paths = []

    def do_GET(self):
        self.paths.append(self.path)
        self.send_response(200)
        self.send_header("X-Cache", "hit")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format, *args):
        pass


def test_wrk_gives_each_request_its_own_value_of_the_unique_parameter():
    server = ThreadingHTTPServer(("127.0.0.1", 0), RecordingHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    RecordingHandler.paths = paths = []
    try:
        figures = wrk.run(
            f"http://127.0.0.1:{server.server_port}/en/page/?kind=training",
            connections=2,
            duration=1,
            expect_header="X-Cache: hit",
            unique_parameter="fbclid",
        )
    finally:
        server.shutdown()
        server.server_close()

    assert figures["errors"] == 0
    assert figures["requests"] >= 10
    assert all(path.startswith("/en/page/?kind=training&fbclid=") for path in paths)
    assert len(set(paths)) == len(paths) >= figures["requests"]


@pytest.mark.parametrize("option", ["--workers", "--rounds", "--fixed-cost-rounds"])
def test_counts_below_one_are_refused(option, capsys):
    with pytest.raises(SystemExit):
        run.arguments([option, "0"])
    assert f"{option} must be at least 1." in capsys.readouterr().err


def test_the_fixed_cost_targets_are_measured_in_more_rounds_with_the_baselines():
    page, hit = {"name": "page", "fixed_cost": False}, {"name": "hit", "fixed_cost": True}

    assert run.rounds_of([page, hit], rounds=1, fixed_cost_rounds=3) == [[page, hit], [hit], [hit]]
    assert run.rounds_of([page, hit], rounds=2, fixed_cost_rounds=1) == [[page, hit], [page, hit]]
    assert run.arguments([]).fixed_cost_rounds == 3


def test_the_targets_judged_against_bare_django_near_its_cost_are_measured_in_more_rounds(
    small_dataset, bench_views
):
    fixed_cost = {target.name for target in targets.resolve_targets() if target.fixed_cost}
    # The trivial view, the hit and the 304 need half of bare Django or more; the uncached
    # pages, which cost fifty times as much, a fraction.
    judged = {
        goal.target
        for goal in report.GOALS
        if getattr(goal, "baseline", None) == report.BARE_DJANGO and goal.share >= 0.5
    }

    assert len(judged) == 3
    assert judged | {report.BARE_DJANGO, "raw WSGI"} <= fixed_cost
    assert not fixed_cost & {"commitment detail", "commitment list, two filters", "home"}


def measured(name, rps, **figures):
    return {"name": name, "rps": rps, **figures}


def results(**changes):
    """The figures of a run in which every goal is met, changed by `changes`."""
    figures = {
        "targets": [
            measured("bare Django", 1000),
            measured("trivial view, full middleware", 600),
            measured("handwritten API list (page size 20)", 100),
            measured("API list (page size 20)", 70),
            measured("cache hit: commitment detail", 500),
            measured("304: API detail", 500),
            measured("commitment detail", 150),
            measured("commitment list, two filters", 150),
            measured("API CSV export, every commitment", 1, memory_growth_mb=20),
        ],
        "page_sizes": {"API commitments": [7, 7], "API articles": [5, 5]},
        "servers": {"app": {"rest_rss_mb": [140.0, 149.9]}, "cached": {"rest_rss_mb": [120.0]}},
    }
    figures.update(changes)
    return figures


def goals(figures):
    return {goal["goal"]: goal for goal in report.judge(figures)}


def test_goals_met_exactly_at_their_thresholds():
    judged = goals(results())

    assert all(goal["met"] is True for goal in judged.values()), judged
    assert judged["Full middleware stack on a trivial view"]["measured"] == 0.6


def test_a_ratio_below_its_threshold_is_missed():
    figures = results()
    figures["targets"][1] = measured("trivial view, full middleware", 599)

    judged = goals(figures)

    assert judged["Full middleware stack on a trivial view"]["met"] is False
    assert judged["Full middleware stack on a trivial view"]["measured"] == 0.599
    assert judged["Uncached commitment detail"]["met"] is True


def test_query_counts_that_grow_with_the_page_size_miss_their_goal():
    judged = goals(results(page_sizes={"API commitments": [7, 7], "API articles": [5, 9]}))

    assert judged["Query counts do not grow with page size"]["met"] is False


def test_memory_goals_judge_the_export_growth_and_the_largest_resting_worker():
    figures = results(servers={"app": {"rest_rss_mb": [120.0]}, "cached": {"rest_rss_mb": [150]}})
    figures["targets"][-1]["memory_growth_mb"] = 20.1

    judged = goals(figures)

    assert judged["CSV export of every commitment keeps worker memory flat"]["met"] is False
    assert judged["Worker memory at rest"] == {
        "goal": "Worker memory at rest",
        "measured": 150,
        "needed": "< 150 MB",
        "met": False,
    }


def test_a_goal_whose_targets_were_not_measured_says_so():
    judged = goals(results(targets=[measured("bare Django", 0)], servers={}))

    assert judged["Anonymous cache hit"]["met"] == "not measured"
    assert judged["Worker memory at rest"]["met"] == "not measured"
    assert judged["CSV export of every commitment keeps worker memory flat"]["met"] == (
        "not measured"
    )


def test_rounds_give_the_median_timings_and_the_worst_of_the_rest():
    def one_round(rps, p99, errors, peak):
        return {
            "rps": rps,
            "requests": 10,
            "latency_ms": {"p50": 1.0, "p95": 2.0, "p99": p99, "mean": 1.0, "max": 9.0},
            "errors": errors,
            "restarts": 0,
            "rss_before_mb": 90.0,
            "peak_rss_mb": peak,
            "memory_growth_mb": peak - 90.0,
            "load_average": 1.0,
            "cpu_us_per_request": {"workers": 10_000 / rps, "postgresql": rps / 100},
        }

    target = {"name": "home", "server": "app", "path": "/en/", "status": 200, "queries": 7}
    rounds = [one_round(100, 5.0, 0, 95.0), one_round(300, 7.0, 1, 99.0)]
    rounds.append(one_round(200, 6.0, 0, 97.0))
    unanswered = {**one_round(1, 9.0, 0, 90.0), "cpu_us_per_request": None}

    found = run.summary(target, rounds)

    assert found["rps"] == 200
    assert found["latency_ms"]["p99"] == 6.0
    assert found["errors"] == 1
    assert found["peak_rss_mb"] == 99.0
    assert found["memory_growth_mb"] == 9.0
    assert found["cpu_us_per_request"] == {"workers": 50.0, "postgresql": 2.0}
    assert run.summary(target, [*rounds, unanswered])["cpu_us_per_request"] == {
        "workers": 50.0,
        "postgresql": 2.0,
    }
    assert run.summary(target, [unanswered])["cpu_us_per_request"] is None


def test_cpu_time_per_request_counts_each_part_and_whole_processes_started_meanwhile():
    ticks = run.CLOCK_TICKS
    before = {"workers": {1: 10 * ticks, 2: 10 * ticks}, "postgresql": {7: 5 * ticks}}
    # Worker 2 was replaced by worker 3; PostgreSQL started backend 8 for a new connection.
    after = {"workers": {1: 12 * ticks, 3: 1 * ticks}, "postgresql": {7: 5 * ticks, 8: ticks}}

    assert run.cpu_per_request(before, after, 1000) == {"workers": 3000.0, "postgresql": 1000.0}
    assert run.cpu_per_request(before, after, 0) is None


def test_cpu_time_is_read_for_the_workers_the_services_and_wrk():
    with_this_process = run.cpu_ticks_by_part([os.getpid()])

    assert set(with_this_process) == {"workers", "postgresql", "redis", "wrk"}
    assert with_this_process["workers"][os.getpid()] > 0
    # The services of the test machine are running.
    assert with_this_process["postgresql"]
    assert with_this_process["redis"]


def full_results(database, started_at, rps):
    figures = results()
    for target in figures["targets"]:
        target.update(
            server="app",
            rps=rps if target["name"] == "bare Django" else target["rps"],
            latency_ms={"p50": 1.0, "p95": 2.0, "p99": 3.0, "mean": 1.5, "max": 4.0},
            errors=0,
            queries=3,
            peak_rss_mb=120.0,
        )
        if target["name"] == "bare Django":
            target["cpu_us_per_request"] = {"workers": 250.0, "postgresql": 0.0, "wrk": 40.2}
    figures.update(
        started_at=started_at,
        database=database,
        settings={
            "workers": 2,
            "connections": 8,
            "duration": 10,
            "warmup": 2,
            "rounds": 1,
            "dataset": {
                "seed": 42,
                "articles": 1000,
                "commitments": 10000,
                "published_commitments": 8500,
            },
            "page_cache": "Redis",
        },
        machine={"cpus": 2, "commit": "abc1234"},
        load_average={"before": 1.0, "after": 2.0, "highest": 3.0},
        servers={"app": {"boot_rss_mb": [100.0, 101.0], "rest_rss_mb": [110.0, 111.0]}},
        errors=[],
    )
    figures["goals"] = report.judge(figures)
    return figures


def test_results_are_written_as_json_and_markdown_and_latest_shows_each_database(tmp_path):
    report.write(full_results("sqlite", "2026-11-28T10:00:00Z", 900), tmp_path)
    report.write(full_results("postgresql", "2026-11-28T11:00:00Z", 800), tmp_path)
    newest = report.write(full_results("sqlite", "2026-11-28T12:00:00Z", 1000), tmp_path)

    assert newest == tmp_path / "20261128T120000Z-sqlite.md"
    assert json.loads((tmp_path / "20261128T120000Z-sqlite.json").read_text())["database"] == (
        "sqlite"
    )
    table = newest.read_text()
    assert "| bare Django | app | 1000 | 1.0 | 2.0 | 3.0 | 0 | 3 | 120 |" in table
    assert "| API CSV export, every commitment | app | 1.0 |" in table
    assert "| bare Django | 250 | 0 | – | 40 |" in table
    assert "| trivial view, full middleware | – | – | – | – |" in table
    assert "| Full middleware stack on a trivial view | 0.6 | ≥ 0.6 of bare Django | yes |" in table
    assert "load average 1.0 before and 2.0 after (highest 3.0)" in table
    latest = (tmp_path / "latest.md").read_text()
    assert latest.index("# postgresql, 2026-11-28T11:00:00Z") < latest.index(
        "# sqlite, 2026-11-28T12:00:00Z"
    )
    assert "10:00:00Z" not in latest


def test_the_report_says_how_many_rounds_measured_the_fixed_cost_targets():
    figures = full_results("sqlite", "2026-11-28T12:00:00Z", 1000)
    # Results written before the fixed-cost rounds measured every target in every round.
    assert "1 round(s) (medians)" in report.markdown(figures)

    figures["settings"]["fixed_cost_rounds"] = 3
    assert "1 round(s), 3 for the baselines and the fixed-cost targets (medians)" in (
        report.markdown(figures)
    )


def test_a_missed_goal_is_shown_in_bold():
    figures = full_results("sqlite", "2026-11-28T12:00:00Z", 2000)

    assert "| Anonymous cache hit | 0.25 | ≥ 0.5 of bare Django | **no** |" in (
        report.markdown(figures)
    )


def test_worker_memory_and_cpu_time_are_read_from_proc():
    pid = os.getpid()

    assert 10 < servers.memory_mb(pid, "VmRSS") <= servers.memory_mb(pid, "VmHWM")
    assert servers.cpu_ticks([pid])[pid] > 0
    # A process that is gone counts for nothing.
    assert servers.cpu_ticks([2**22 + 1]) == {}
    assert servers.memory_mb(2**22 + 1, "VmRSS") is None


def test_processes_are_found_by_their_command_name():
    command = Path(f"/proc/{os.getpid()}/comm").read_text().strip()

    assert os.getpid() in servers.processes_named(command)
    assert servers.processes_named("no-such-command") == []


def test_the_raw_baseline_answers_the_trivial_views_json():
    started = []

    body = b"".join(raw.application({}, lambda status, headers: started.append(status)))

    assert started == ["200 OK"]
    assert json.loads(body) == {"status": "ok", "service": "puente"}


def test_the_bare_django_baseline_answers_the_same_with_no_app_and_no_middleware():
    # Through the WSGI application its server runs.
    script = (
        "from bench.bare_wsgi import application; from bench.cpu import wsgi_environ;"
        "from django.conf import settings; started = [];"
        "body = b''.join(application(wsgi_environ('/bench/trivial/', {}),"
        " lambda status, headers: started.append(status)));"
        "print(settings.MIDDLEWARE, settings.INSTALLED_APPS, started, body.decode())"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=django_settings.BASE_DIR,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "bench.bare_settings"},
        capture_output=True,
        text=True,
        check=True,
    )

    assert result.stdout.strip() == '[] [] [\'200 OK\'] {"status": "ok", "service": "puente"}'


@pytest.fixture
def bench_views(settings):
    """The app's URLs with BENCH_VIEWS on, as the benchmark's app server has them."""
    settings.BENCH_VIEWS = True
    importlib.reload(config.urls)
    clear_url_caches()
    yield
    settings.BENCH_VIEWS = False
    importlib.reload(config.urls)
    clear_url_caches()


@pytest.fixture
def small_dataset(db):
    call_command("generate_dataset", *SMALL_DATASET, verbosity=0)


@pytest.mark.django_db
def test_the_benchmark_views_exist_only_with_bench_views(client):
    assert client.get("/bench/trivial/").status_code == 404


@pytest.mark.django_db
def test_the_trivial_view_answers_under_the_full_middleware_stack(client, bench_views):
    response = client.get("/bench/trivial/")

    assert response.json() == {"status": "ok", "service": "puente"}
    # The app's middleware ran on it.
    assert "X-Request-ID" in response
    assert "Content-Security-Policy" in response


@pytest.mark.django_db
def test_the_layout_view_renders_the_site_layout_without_a_query(
    client, bench_views, django_assert_num_queries
):
    with django_assert_num_queries(0):
        response = client.get("/bench/layout/")

    assert response.status_code == 200
    page = response.content.decode()
    assert '<header class="site-header">' in page
    assert '<footer class="site-footer">' in page
    assert '<main id="main" class="page" tabindex="-1">' in page


def without_page_links(body):
    return {key: value for key, value in body.items() if key not in ("next", "previous")}


@pytest.mark.parametrize("query", ["?page_size=5", "?page_size=5&page=2", "", "?page_size=500"])
def test_the_handwritten_list_answers_what_the_api_answers(
    client, small_dataset, bench_views, query
):
    api = client.get(f"/api/v1/commitments/{query}").json()
    handwritten = client.get(f"/bench/handwritten/commitments/{query}").json()

    assert handwritten["results"], "the dataset has published commitments"
    assert without_page_links(handwritten) == without_page_links(api)
    for link in ("next", "previous"):
        expected = api[link] and api[link].replace("/api/v1/", "/bench/handwritten/")
        assert handwritten[link] == expected


def test_the_handwritten_list_answers_404_past_its_last_page(client, small_dataset, bench_views):
    assert client.get("/bench/handwritten/commitments/?page=99").status_code == 404


@pytest.fixture
def page_cache(monkeypatch):
    """An empty page cache, which the probe turns on for the cached server's targets."""
    monkeypatch.setattr(policy.cache, "pages", PageStore())
    caches["pages"].clear()


def test_every_target_answers_as_the_benchmark_expects(small_dataset, bench_views, page_cache):
    probed = probe.probe_all("127.0.0.1")

    names = [target["name"] for target in probed["targets"]]
    assert names == [target.name for target in targets.resolve_targets()]
    assert {target["server"] for target in probed["targets"]} == set(targets.SERVERS)
    for target in probed["targets"]:
        if target["server"] in ("app", "cached"):
            assert target["status"] == target["expect_status"], target
            assert target["queries"] >= 0
        if target["primed"]:
            assert target["x_cache"] == "hit", target
    # Each list counted at both page sizes.
    assert set(probed["page_sizes"]) == {"API commitments", "API articles", "API focus areas"}
    assert all(len(pair) == 2 and pair[0] > 0 for pair in probed["page_sizes"].values())
    assert probed["dataset"]["articles"] == 12
    assert 0 < probed["dataset"]["published_commitments"] < probed["dataset"]["commitments"] == 60


def test_queries_are_counted_without_transaction_control():
    captured = [{"sql": "BEGIN"}, {"sql": 'SELECT 1 FROM "x"'}, {"sql": "RELEASE SAVEPOINT s1"}]

    assert probe.database_queries(captured) == [{"sql": 'SELECT 1 FROM "x"'}]


@pytest.fixture
def connections_left_open():
    """Requests through the WSGI handler leave the database connections alone, as in Django's
    test client: closing them would touch a database the test may not use."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def test_the_cpu_measure_answers_each_path_with_its_status_and_time(
    monkeypatch, capsys, connections_left_open
):
    # The handler of the test's settings, if config/wsgi.py is not imported yet:
    # get_wsgi_application would set Django up again, and with it the logging, onto pytest's
    # captured output.
    monkeypatch.setattr("django.core.wsgi.get_wsgi_application", WSGIHandler)

    cpu.main(["/healthz", "/healthz", "--requests", "2"])

    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert all(line.startswith("/healthz: 200 OK, ") for line in lines)
    assert all(line.endswith(" ms of CPU per request") for line in lines)


def test_the_cpu_measure_sends_the_headers_it_is_given():
    environ = cpu.wsgi_environ("/en/?q=port", dict([cpu.parse_header('If-None-Match: W/"a"')]))

    assert (environ["PATH_INFO"], environ["QUERY_STRING"]) == ("/en/", "q=port")
    assert environ["HTTP_IF_NONE_MATCH"] == 'W/"a"'


def test_the_cpu_measure_refuses_a_header_without_a_name(capsys):
    with pytest.raises(SystemExit):
        cpu.main(["/healthz", "--header", "no colon here"])

    assert "is not 'Name: value'" in capsys.readouterr().err
