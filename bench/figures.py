"""What a benchmark reports: figures, each judged against a yardstick measured in the same run.

This machine's speed drifts two- to threefold from one day to the next, so a figure alone
says little; its ratio to something simple measured minutes apart on the same machine says
what the code costs. Each benchmark script writes its figures as JSON (`--json FILE`);
`bench/run_all` gathers them into BENCHMARKS.md and the charts.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import psutil


@dataclass(frozen=True)
class Figure:
    """One measured number. `target` is a ratio to the yardstick when `yardstick` names one,
    else an absolute bound; `higher_is_better` says which side of it passes."""

    benchmark: str
    name: str
    value: float
    unit: str
    yardstick: str | None = None
    target: float | None = None
    higher_is_better: bool = True
    note: str = ""

    def ratio(self, figures: Sequence[Figure]) -> float | None:
        if self.yardstick is None:
            return None
        base = next((f for f in figures if f.name == self.yardstick), None)
        return self.value / base.value if base and base.value else None

    def meets(self, figures: Sequence[Figure]) -> bool | None:
        """Whether the target holds; None when there is none (or its yardstick is missing)."""
        if self.target is None:
            return None
        measured = self.ratio(figures) if self.yardstick else self.value
        if measured is None:
            return None
        return measured >= self.target if self.higher_is_better else measured <= self.target


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile; benchmark samples are hundreds to thousands of values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(fraction * len(ordered) + 0.5)))
    return ordered[rank - 1]


def write(path: str | None, figures: Sequence[Figure]) -> None:
    """Print the figures; with a path, also append them as JSON lines for run_all."""
    for figure in figures:
        print(f"  {figure.benchmark}: {figure.name} = {figure.value:,.2f} {figure.unit}")
    if path:
        with Path(path).open("a", encoding="utf-8") as out:
            for figure in figures:
                out.write(json.dumps(asdict(figure)) + "\n")


def read(path: Path) -> list[Figure]:
    if not path.exists():
        return []
    return [Figure(**json.loads(line)) for line in path.read_text().splitlines() if line]


@dataclass
class PeakMemory:
    """The highest resident memory seen, per process, across a tree of processes, and the
    highest the whole tree held at one moment (`tree`, its processes' RSS summed)."""

    peaks: dict[str, float] = field(default_factory=dict)
    tree: float = 0.0

    def largest(self) -> float:
        return max(self.peaks.values(), default=0.0)


@contextmanager
def watch_memory(roots: Sequence[int], interval: float = 0.1) -> Iterator[PeakMemory]:
    """Sample the RSS of `roots` and all their descendants every `interval` seconds until
    the block ends (MB)."""
    peak = PeakMemory()
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            total = 0.0
            for root in roots:
                try:
                    parent = psutil.Process(root)
                    tree = [parent, *parent.children(recursive=True)]
                except psutil.Error:
                    continue
                for process in tree:
                    try:
                        label = f"{process.pid} {' '.join(process.cmdline()[1:4])}"
                        rss = process.memory_info().rss / 2**20
                    except psutil.Error:
                        continue
                    peak.peaks[label] = max(peak.peaks.get(label, 0.0), rss)
                    total += rss
            peak.tree = max(peak.tree, total)
            time.sleep(interval)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join()
