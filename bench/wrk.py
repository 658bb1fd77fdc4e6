"""wrk, the load generator: its command line, and its figures as bench/report.lua prints them."""

import json
import os
import shutil
import subprocess
from pathlib import Path

REPORT_SCRIPT = Path(__file__).with_name("report.lua")
RESULT_MARKER = "BENCH_RESULT "
INSTALL_HINT = "wrk is not installed; install it with: apt-get install -y wrk"
# As Gunicorn's worker timeout (config/gunicorn.conf.py): an answer slower than that is an error.
TIMEOUT_SECONDS = 30


class WrkFailed(Exception):
    """wrk could not run, or printed no figures."""


def executable():
    found = shutil.which("wrk")
    if found is None:
        raise WrkFailed(INSTALL_HINT)
    return found


def command(url, *, connections, duration, headers=()):
    """One wrk thread: wrk shares the machine's cores with the servers it measures."""
    arguments = [
        executable(),
        "--threads",
        "1",
        "--connections",
        str(connections),
        "--duration",
        f"{duration}s",
        "--timeout",
        f"{TIMEOUT_SECONDS}s",
        "--script",
        str(REPORT_SCRIPT),
    ]
    for header in headers:
        arguments += ["--header", header]
    return [*arguments, url]


def run(
    url,
    *,
    connections,
    duration,
    headers=(),
    expect_status=None,
    expect_header="",
    unique_parameter="",
):
    """Load the URL for `duration` seconds; its figures (see `parse`). With `unique_parameter`,
    each request adds it to the URL with a value of its own."""
    env = {
        **os.environ,
        "BENCH_EXPECT_HEADER": expect_header,
        "BENCH_UNIQUE_PARAMETER": unique_parameter,
    }
    if expect_status is not None:
        env["BENCH_EXPECT_STATUS"] = str(expect_status)
    result = subprocess.run(
        command(url, connections=connections, duration=duration, headers=headers),
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        raise WrkFailed(f"wrk failed on {url}: {result.stderr.strip() or result.stdout.strip()}")
    return parse(result.stdout)


def parse(output):
    """Requests a second, latency percentiles in ms and errors, from wrk's output.

    Errors are every request that did not get the expected answer: a socket error (connect,
    read, write, timeout), a status other than 2xx or 3xx, or an answer without the expected
    status or header. A run in which no request finished has no latencies (None).
    """
    lines = [line for line in output.splitlines() if line.startswith(RESULT_MARKER)]
    if len(lines) != 1:
        raise WrkFailed(f"wrk printed no result line ({RESULT_MARKER.strip()}):\n{output}")
    raw = json.loads(lines[0].removeprefix(RESULT_MARKER))
    requests = raw["requests"]
    errors = raw["errors"]
    latency = {
        name: raw["latency_us"][name] / 1000 if requests else None
        for name in ("p50", "p95", "p99", "mean", "max")
    }
    return {
        "requests": requests,
        "seconds": raw["duration_us"] / 1_000_000,
        "rps": requests / (raw["duration_us"] / 1_000_000),
        "latency_ms": latency,
        # When answers are checked, every non-2xx/3xx answer is unexpected too: count it once.
        "errors": sum(errors[kind] for kind in ("connect", "read", "write", "timeout"))
        + max(errors["status"], errors["unexpected"]),
        "error_kinds": errors,
        "bytes": raw["bytes"],
    }
