"""Run every benchmark, judge each figure against its yardstick, rewrite BENCHMARKS.md and charts.

One command for anyone to rerun the service's promises (about 5 minutes on the quiet 2-core
machine on 2026-11-30; well under 15 when it is loaded):

    bench/run_all            # full size: rewrites BENCHMARKS.md and docs/benchmarks.png
    bench/run_all --tiny     # seconds per benchmark: checks that each one still runs

Each benchmark runs as its own process (so one's memory or a crash cannot colour another's)
and appends its figures as JSON lines; the generated part of BENCHMARKS.md sits between two
markers, so the hand-written notes below it survive a rerun.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.figures import Figure, read

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- bench/run_all: begin -->", "<!-- bench/run_all: end -->"


@dataclass(frozen=True)
class Benchmark:
    title: str
    module: str
    full: tuple[str, ...]
    tiny: tuple[str, ...]
    minutes: float

    def command(self, tiny: bool) -> list[str]:
        return [sys.executable, "-m", self.module, *(self.tiny if tiny else self.full)]


BENCHMARKS = (
    Benchmark(
        "Forms end to end (gunicorn, PostgreSQL, rq workers, SMTP)",
        "bench.forms_e2e",
        ("--requests", "300", "--clients", "4", "--workers", "1", "2"),
        ("--requests", "4", "--clients", "2", "--workers", "1", "--trivial-jobs", "20"),
        3,
    ),
    Benchmark(
        "License sync API (gunicorn 2 workers, 8 keep-alive clients)",
        "bench.sync_api",
        ("--licenses", "200", "--clients", "8", "--seconds", "10", "--workers", "2"),
        ("--licenses", "3", "--clients", "1", "--seconds", "1", "--workers", "1"),
        1.5,
    ),
    Benchmark(
        "Inbound email beside django-helpdesk 2.6.1 (../shared/peer-bench, SQLite)",
        "bench.email_peer",
        ("--mails", "500"),
        ("--mails", "10"),
        6,
    ),
    Benchmark(
        "Inbound email, ingested and end to end, 5 KB and 200 KB (Dovecot, SQLite, PostgreSQL)",
        "bench.email_ingest",
        ("--messages", "500", "--large", "50", "--workers", "2"),
        ("--messages", "4", "--large", "1", "--workers", "1"),
        3,
    ),
    Benchmark(
        "Staff queue and search at 100,000 tickets (PostgreSQL, server time)",
        "bench.staff_queue",
        ("--tickets", "100000", "--rounds", "40"),
        ("--tickets", "60", "--rounds", "2"),
        4,
    ),
    Benchmark(
        "Workflow engine (PostgreSQL)",
        "bench.workflow_transitions",
        ("--tickets", "500", "--threads", "1", "2"),
        ("--tickets", "5", "--threads", "1", "--commits", "20"),
        1,
    ),
    Benchmark(
        "Workflow migration: preview and apply in batches with progress (PostgreSQL)",
        "bench.workflow_migration",
        ("--tickets", "1000"),
        ("--tickets", "5", "--commits", "20"),
        2,
    ),
)


def machine() -> list[str]:
    """What the figures were measured on, so a reader can compare runs."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    versions = {
        "PostgreSQL": _version(["psql", "--version"]),
        "Redis": _version(["redis-server", "--version"]),
        "Python": platform.python_version(),
    }
    return [
        f"- Machine: {os.cpu_count()} CPUs ({cpu}), {memory:.0f} GiB; {platform.platform()}",
        "- Versions: " + ", ".join(f"{name} {version}" for name, version in versions.items()),
        f"- ticketbridge commit {commit}, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC",
    ]


def _version(command: list[str]) -> str:
    try:
        words = subprocess.run(command, capture_output=True, text=True).stdout.split()
    except OSError:
        return "not installed"
    return next((w.removeprefix("v=") for w in words if w[:1].isdigit() or w.startswith("v=")), "?")


def run(benchmarks: Sequence[Benchmark], tiny: bool, results: Path, logs: Path) -> list[str]:
    """Run each benchmark; the names of those that failed (their log says why)."""
    failed = []
    for number, benchmark in enumerate(benchmarks, 1):
        budget = "seconds" if tiny else f"about {benchmark.minutes:g} min"
        print(f"[{number}/{len(benchmarks)}] {benchmark.title} ({budget}) …", flush=True)
        started = time.monotonic()
        log = logs / f"{benchmark.module}.log"
        with log.open("wb") as out:
            done = subprocess.run(
                [*benchmark.command(tiny), "--json", str(results)],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        took = time.monotonic() - started
        if done.returncode:
            failed.append(benchmark.title)
            print(f"      failed after {took:.0f}s; see {log}:", flush=True)
            print("      " + "\n      ".join(log.read_text().splitlines()[-5:]), flush=True)
        else:
            print(f"      done in {took:.0f}s", flush=True)
    return failed


def table(figures: Sequence[Figure]) -> list[str]:
    lines = ["| figure | value | yardstick | ratio | target | met |", "|---|---|---|---|---|---|"]
    for figure in figures:
        ratio = figure.ratio(figures)
        met = figure.meets(figures)
        if figure.target is None:
            target = ""
        elif figure.yardstick:
            target = f"≥ {figure.target:g}×"
        else:
            target = f"{'≥' if figure.higher_is_better else '≤'} {figure.target:g} {figure.unit}"
        lines.append(
            f"| {figure.name} | {figure.value:,.1f} {figure.unit} | {figure.yardstick or ''} | "
            f"{'' if ratio is None else f'{ratio:.2f}×'} | {target} | "
            f"{'' if met is None else ('yes' if met else '**no**')} |"
        )
    return lines


def report(figures: Sequence[Figure], failed: Sequence[str], command: str) -> str:
    lines = [
        BEGIN,
        "## Latest run of `bench/run_all`",
        "",
        f"    {command}",
        "",
        *machine(),
        "",
        "Every target is a ratio to a yardstick measured in the same run (this machine's speed",
        "drifts two- to threefold between days), or an absolute bound for latency and memory.",
        "![Each figure against its target](docs/benchmarks.png)",
        "",
    ]
    for benchmark in dict.fromkeys(f.benchmark for f in figures):
        lines += [f"### {benchmark}", "", *table([f for f in figures if f.benchmark == benchmark])]
        lines.append("")
    lines += [f"**Failed to run:** {name}" for name in failed]
    return "\n".join([*lines, END])


def rewrite(path: Path, section: str) -> None:
    """Replace the generated section, keeping the hand-written notes around it."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        title, _, notes = text.partition("\n")
        text = f"{title}\n\n{section}\n{notes}"
    path.write_text(text, encoding="utf-8")


def chart(figures: Sequence[Figure], path: Path) -> None:
    """Each targeted figure as a share of its target: right of the line passes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = []
    for figure in figures:
        met = figure.meets(figures)
        if met is None or figure.target is None:
            continue
        measured = figure.ratio(figures) if figure.yardstick else figure.value
        assert measured is not None
        share = measured / figure.target if figure.higher_is_better else figure.target / measured
        label = textwrap.fill(f"{figure.benchmark}: {figure.name}", 64)
        rows.append((label, share, met))
    if not rows:
        return
    fig, axis = plt.subplots(figsize=(12, 0.5 * len(rows) + 1.2))
    labels, shares, met = zip(*rows, strict=True)
    axis.barh(labels, shares, color=["#2e7d32" if m else "#c62828" for m in met])
    axis.axvline(1.0, color="black", linewidth=1)
    axis.set_xscale("log")
    axis.tick_params(axis="y", labelsize=8)
    axis.set_xlabel("measured ÷ target (log scale; ≥ 1 meets the target)")
    axis.invert_yaxis()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="seconds each: does everything run?")
    parser.add_argument("--only", nargs="+", help="module names to run, e.g. bench.sync_api")
    parser.add_argument("--output", type=Path, default=ROOT, help="folder for BENCHMARKS.md")
    args = parser.parse_args(argv)
    chosen = [b for b in BENCHMARKS if not args.only or b.module in args.only]
    with tempfile.TemporaryDirectory(prefix="tb-run-all-") as folder:
        results = Path(folder) / "figures.jsonl"
        failed = run(chosen, args.tiny, results, Path(folder))
        figures = read(results)
        command = "bench/run_all" + (" --tiny" if args.tiny else "")
        rewrite(args.output / "BENCHMARKS.md", report(figures, failed, command))
        chart(figures, args.output / "docs" / "benchmarks.png")
    print(f"wrote {args.output / 'BENCHMARKS.md'} ({len(figures)} figures)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
