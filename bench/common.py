"""What every benchmark shares: timing, percentiles, the agreement check and a result table.

A benchmark's numbers mean something only if both sides returned the same result, so `same()`
compares the results themselves (rows, JSON, hit sets — never just counts), prints where they
first differ and exits non-zero. Timings are interleaved (a, b, a, b, …) so that load from other
processes on a shared machine hits every side alike; `machine()` says how loaded it was.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Peak private (RssAnon) and file-backed (RssFile) memory of this process and its children, sampled:
# the one sampler, shared with seed_demo's per-phase report.
from registry.demo.memory import MemorySampler  # noqa: F401


def peak_rss_mb() -> float:
    """This process's peak RSS in MB (ru_maxrss): since it started, or since reset_peak_rss()."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak_rss() -> bool:
    """Start the peak afresh, so the next reading is one step's own, not an earlier step's (e.g. a check
    that held 2,000,000 rows in Python). Linux: writing 5 to /proc/self/clear_refs resets the high-water
    mark that ru_maxrss reads. False where that cannot be done: the peak then counts from the start."""
    try:
        with open("/proc/self/clear_refs", "w") as control:
            control.write("5")
        return True
    except OSError:
        return False


def percentile(values, p):
    """The p-th percentile (nearest rank on the sorted values); NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@dataclass
class Timing:
    """Samples of one side, in milliseconds (wall and this process's CPU), and its last result."""

    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    result: Any = None

    @property
    def p50(self):
        return statistics.median(self.wall) if self.wall else float("nan")

    @property
    def p95(self):
        return percentile(self.wall, 95)

    @property
    def cpu_p50(self):
        return statistics.median(self.cpu) if self.cpu else float("nan")


def measure(sides: dict[str, Callable[[], Any]], runs: int, warmup: int = 1) -> dict[str, Timing]:
    """Time each side `runs` times after `warmup` untimed calls, interleaved across sides."""
    timings = {name: Timing() for name in sides}
    for _ in range(warmup):
        for name, fn in sides.items():
            timings[name].result = fn()
    for _ in range(runs):
        for name, fn in sides.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            timings[name].result = fn()
            timings[name].wall.append((time.perf_counter() - started) * 1000)
            timings[name].cpu.append((time.process_time() - started_cpu) * 1000)
    return timings


def ratio(ours: float, baseline: float) -> float:
    return ours / baseline if baseline else float("inf")


class Disagreement(SystemExit):
    """Raised by `same()`: a SystemExit with status 1, so a benchmark stops with a failing exit code."""

    def __init__(self, message: str):
        super().__init__(1)
        self.message = message

    def __str__(self):
        return self.message


def _first_difference(a, b, path="result"):
    """Where two nested values first differ, as a short readable line (None when equal)."""
    if type(a) is not type(b) and not (isinstance(a, (int, float)) and isinstance(b, (int, float))):
        return f"{path}: {type(a).__name__} {a!r:.200} vs {type(b).__name__} {b!r:.200}"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b), key=repr):
            if key not in a or key not in b:
                return f"{path}[{key!r}]: only on the {'first' if key in a else 'second'} side"
            found = _first_difference(a[key], b[key], f"{path}[{key!r}]")
            if found:
                return found
        return None
    if isinstance(a, (list, tuple)):
        for i, (x, y) in enumerate(zip(a, b)):
            found = _first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        if len(a) != len(b):
            return f"{path}: {len(a)} items vs {len(b)}"
        return None
    if isinstance(a, (set, frozenset)):
        if a != b:
            return (f"{path}: {len(a - b)} only on the first side (e.g. {sorted(a - b, key=repr)[:5]}), "
                    f"{len(b - a)} only on the second (e.g. {sorted(b - a, key=repr)[:5]})")
        return None
    return None if a == b else f"{path}: {a!r:.200} vs {b!r:.200}"


def same(label: str, first, second, names=("ours", "baseline")):
    """Both sides returned the same result, or print where they differ and exit with status 1.

    Compares with ==, so pass the results themselves (lists of rows, parsed JSON, sets of ids);
    returns the result for chaining."""
    if first == second:
        return first
    where = _first_difference(first, second) or "results differ"
    message = f"DISAGREE {label}: {names[0]} vs {names[1]}: {where}"
    print(message, file=sys.stderr, flush=True)
    raise Disagreement(message)


def machine() -> str:
    """How loaded the machine was: load averages against the cores (benchmarks share them)."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min) / {five:.1f} (5 min) on {os.cpu_count()} cores"


class Table:
    """Rows printed as aligned columns; numbers right-aligned, text left-aligned."""

    def __init__(self, *columns: str):
        self.columns = columns
        self.rows: list[list[str]] = []

    def add(self, *cells):
        self.rows.append([self._cell(c) for c in cells])

    @staticmethod
    def _cell(value):
        if isinstance(value, float):
            return f"{value:,.2f}"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    def render(self) -> str:
        widths = [max(_width(c), *(_width(r[i]) for r in self.rows)) if self.rows else _width(c)
                  for i, c in enumerate(self.columns)]

        def line(cells, numeric):
            padded = [" " * (w - _width(cell)) + cell if numeric[i] else cell + " " * (w - _width(cell))
                      for i, (cell, w) in enumerate(zip(cells, widths))]
            return "  ".join(padded).rstrip()

        numeric = [all(_looks_numeric(r[i]) for r in self.rows) and bool(self.rows) for i in range(len(self.columns))]
        out = [line(self.columns, numeric), "  ".join("-" * w for w in widths)]
        out += [line(r, numeric) for r in self.rows]
        return "\n".join(out)

    def print(self):
        print(self.render(), flush=True)


def _width(text: str) -> int:
    """Columns a terminal gives the text: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _looks_numeric(cell: str) -> bool:
    return cell.replace(",", "").replace(".", "").replace("×", "").replace("-", "").strip().isdigit()
