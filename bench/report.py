"""The goals of a run, judged from its own figures, and its results as JSON and Markdown.

Every goal is a ratio of two figures of the same run, or a count or size within it: timings on a
shared machine move with its load, but the app and its baselines move together.
"""

import dataclasses
import json
from pathlib import Path

BARE_DJANGO = "bare Django"
HANDWRITTEN = "handwritten API list (page size 20)"
CSV_EXPORT = "API CSV export, every commitment"
MEGABYTE = 1024 * 1024
# Where a request's CPU time goes, in bench/run.py's names.
CPU_PARTS = ("workers", "postgresql", "redis", "wrk")


@dataclasses.dataclass(frozen=True)
class Throughput:
    """Requests a second of a target, at least `share` of its baseline's."""

    goal: str
    target: str
    baseline: str
    share: float

    def judge(self, results):
        targets = {target["name"]: target for target in results["targets"]}
        needed = f"≥ {self.share} of {self.baseline}"
        if self.target not in targets or not targets.get(self.baseline, {}).get("rps"):
            return self.goal, None, needed, "not measured"
        ratio = targets[self.target]["rps"] / targets[self.baseline]["rps"]
        return self.goal, round(ratio, 3), needed, ratio >= self.share


@dataclasses.dataclass(frozen=True)
class FlatQueryCounts:
    """The lists' queries do not grow from the smallest page size to the largest."""

    goal: str = "Query counts do not grow with page size"

    def judge(self, results):
        counts = results["page_sizes"]
        met = all(pair[-1] <= pair[0] for pair in counts.values())
        return self.goal, counts, "the same at page size 20 and 100", met


@dataclasses.dataclass(frozen=True)
class ExportMemory:
    """A worker's peak during the CSV export, at most `megabytes` above its memory before it."""

    megabytes: float
    goal: str = "CSV export of every commitment keeps worker memory flat"

    def judge(self, results):
        export = next((t for t in results["targets"] if t["name"] == CSV_EXPORT), None)
        if export is None or export.get("memory_growth_mb") is None:
            return self.goal, None, f"≤ {self.megabytes} MB above idle", "not measured"
        growth = export["memory_growth_mb"]
        return self.goal, growth, f"≤ {self.megabytes} MB above idle", growth <= self.megabytes


@dataclasses.dataclass(frozen=True)
class RestingMemory:
    """Every app worker's memory once the load is over, below `megabytes`."""

    megabytes: float
    goal: str = "Worker memory at rest"

    def judge(self, results):
        resting = [
            size
            for name in ("app", "cached")
            for size in results["servers"].get(name, {}).get("rest_rss_mb", [])
        ]
        if not resting:
            return self.goal, None, f"< {self.megabytes} MB", "not measured"
        return self.goal, max(resting), f"< {self.megabytes} MB", max(resting) < self.megabytes


GOALS = [
    Throughput(
        "Full middleware stack on a trivial view",
        "trivial view, full middleware",
        BARE_DJANGO,
        0.6,
    ),
    Throughput("API list (page size 20)", "API list (page size 20)", HANDWRITTEN, 0.7),
    Throughput("Anonymous cache hit", "cache hit: commitment detail", BARE_DJANGO, 0.5),
    Throughput("Anonymous 304", "304: API detail", BARE_DJANGO, 0.5),
    Throughput("Uncached commitment detail", "commitment detail", BARE_DJANGO, 0.15),
    Throughput("Uncached commitment list", "commitment list, two filters", BARE_DJANGO, 0.15),
    FlatQueryCounts(),
    ExportMemory(20),
    RestingMemory(150),
]


def judge(results):
    """Each goal: what was measured, what it needs, and whether it is met (or "not measured")."""
    return [
        dict(zip(("goal", "measured", "needed", "met"), goal.judge(results), strict=True))
        for goal in GOALS
    ]


def write(results, directory):
    """The run's JSON and Markdown, named after its start and database; then latest.md anew."""
    directory.mkdir(parents=True, exist_ok=True)
    stem = f"{results['started_at'].replace(':', '').replace('-', '')}-{results['database']}"
    (directory / f"{stem}.json").write_text(json.dumps(results, indent=2) + "\n")
    (directory / f"{stem}.md").write_text(markdown(results))
    write_latest(directory)
    return directory / f"{stem}.md"


def write_latest(directory):
    """latest.md: the newest run on each database."""
    newest = {}
    for path in sorted(Path(directory).glob("*.json")):
        results = json.loads(path.read_text())
        if "goals" in results:
            newest[results["database"]] = results
    sections = [markdown(results) for _, results in sorted(newest.items())]
    (Path(directory) / "latest.md").write_text("\n".join(sections))


def rounds_text(settings):
    text = f"{settings['rounds']} round(s)"
    # Runs before the fixed-cost rounds measured every target in every round.
    fixed_cost_rounds = settings.get("fixed_cost_rounds", settings["rounds"])
    if fixed_cost_rounds > settings["rounds"]:
        text += f", {fixed_cost_rounds} for the baselines and the fixed-cost targets"
    return text


def markdown(results):
    settings = results["settings"]
    load = results["load_average"]
    lines = [
        f"# {results['database']}, {results['started_at']}",
        "",
        f"{settings['workers']} Gunicorn workers per server; wrk, 1 thread, "
        f"{settings['connections']} connections, {settings['duration']} s per target after "
        f"{settings['warmup']} s of warm-up, {rounds_text(settings)} (medians); "
        f"{dataset_text(settings['dataset'])}; page cache in {settings['page_cache']}. "
        f"{results['machine']['cpus']} CPUs, load average {load['before']:.1f} before and "
        f"{load['after']:.1f} after (highest {load['highest']:.1f}); commit "
        f"{results['machine']['commit']}.",
        "",
        "| target | server | requests/s | p50 ms | p95 ms | p99 ms | errors | queries "
        "| peak MB/worker |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for target in results["targets"]:
        latency = target["latency_ms"]
        lines.append(
            f"| {target['name']} | {target['server']} | {requests_per_second(target['rps'])} "
            f"| {number(latency['p50'])} | {number(latency['p95'])} | {number(latency['p99'])} "
            f"| {target['errors']} | {number(target['queries'], 0)} "
            f"| {number(target['peak_rss_mb'], 0)} |"
        )
    lines += [
        "",
        "CPU time per request answered (µs): the server's workers, every PostgreSQL and Redis "
        "process of the machine, and wrk.",
        "",
        "| target | workers | PostgreSQL | Redis | wrk |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for target in results["targets"]:
        cpu = target.get("cpu_us_per_request") or {}
        lines.append(
            f"| {target['name']} | "
            + " | ".join(number(cpu.get(part), 0) for part in CPU_PARTS)
            + " |"
        )
    lines += ["", "| goal | measured | needed | met |", "| --- | --- | --- | --- |"]
    for goal in results["goals"]:
        met = {True: "yes", False: "**no**"}.get(goal["met"], goal["met"])
        lines.append(
            f"| {goal['goal']} | {measured_text(goal['measured'])} | {goal['needed']} | {met} |"
        )
    servers = results["servers"]
    lines += [
        "",
        "Worker memory (RSS, MB) after start-up and at rest after the run: "
        + "; ".join(
            f"{name} {'/'.join(map(str, server['boot_rss_mb']))} → "
            f"{'/'.join(map(str, server['rest_rss_mb']))}"
            for name, server in servers.items()
        )
        + ".",
    ]
    if results["errors"]:
        lines += ["", "Errors:", "", *(f"- {error}" for error in results["errors"])]
    return "\n".join(lines) + "\n"


def dataset_text(dataset):
    return (
        f"synthetic dataset of seed {dataset['seed']}: {dataset['articles']:,} articles, "
        f"{dataset['commitments']:,} commitments ({dataset['published_commitments']:,} published)"
    )


def measured_text(measured):
    if isinstance(measured, dict):
        return ", ".join(f"{name} {' → '.join(map(str, pair))}" for name, pair in measured.items())
    return "–" if measured is None else str(measured)


def requests_per_second(rps):
    # The CSV export answers a few times a minute.
    return f"{rps:.1f}" if rps < 10 else f"{rps:.0f}"


def number(value, digits=1):
    return "–" if value is None else f"{value:.{digits}f}"
