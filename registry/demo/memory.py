"""How much memory a long command takes, phase by phase: private and file-backed apart.

``ru_maxrss`` (what ``cultivar.console`` reports as ``peak_rss_mb``) is one number for the whole
process so far: it mixes the process's own memory (RssAnon: heap, Rust allocations) with pages of
files it maps (RssFile: libraries, and the index files tantivy reads through memory maps, which
are page cache the kernel may reclaim), and it misses child processes (search_reindex --workers).
``MemorySampler`` samples both parts of this process AND every process it started (from
/proc/<pid>/task/*/children), every 0.2 s, and keeps each part's peak per phase. Summing RssFile
over processes counts pages they share twice: an upper bound. Linux only; elsewhere all zeros.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Hashable

PARTS = ("RssAnon", "RssFile")
TOTAL = "total"  # RssAnon + RssFile of one sample: the peak that must be flat is this, not a sum of peaks
INTERVAL = 0.2  # seconds between samples: a spike shorter than this can be missed


def process_memory(pid: int | str = "self") -> dict[str, int]:
    """RssAnon and RssFile of one process, in kB (zeros if it is gone or /proc is missing)."""
    now = dict.fromkeys(PARTS, 0)
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                name, _, value = line.partition(":")
                if name in now:
                    now[name] = int(value.split()[0])
    except (OSError, ValueError):
        pass
    return now


def descendants(pid: int) -> list[int]:
    """Every living process started by ``pid``, its children's children too."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{parent}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{parent}/task/{task}/children") as children:
                    kids = [int(k) for k in children.read().split()]
            except (OSError, ValueError):
                continue
            found += kids
            todo += kids
    return found


def tree_memory(pid: int | None = None) -> dict[str, int]:
    """RssAnon and RssFile, in kB, of ``pid`` (this process) plus all its descendants."""
    pid = os.getpid() if pid is None else pid
    total = process_memory(pid)
    for child in descendants(pid):
        for name, value in process_memory(child).items():
            total[name] += value
    return total


class MemorySampler(threading.Thread):
    """Peak RssAnon / RssFile / their sum (kB) of this process and its children, sampled every 0.2 s,
    per key.

    ``key()`` names what is running now (e.g. the index of the current phase); without it every
    sample goes to one key, None. ``peak`` is the peak over all keys."""

    def __init__(self, key: Callable[[], Hashable] | None = None, interval: float = INTERVAL):
        super().__init__(daemon=True, name="memory-sampler")
        self.key = key or (lambda: None)
        self.interval = interval
        self.peaks: dict[Hashable, dict[str, int]] = {}
        self.stopped = threading.Event()
        self._lock = threading.Lock()

    current = staticmethod(tree_memory)

    @property
    def peak(self) -> dict[str, int]:
        with self._lock:
            return {name: max((p[name] for p in self.peaks.values()), default=0) for name in (*PARTS, TOTAL)}

    def sample(self) -> None:
        now, key = tree_memory(), self.key()
        with self._lock:
            peak = self.peaks.setdefault(key, dict.fromkeys((*PARTS, TOTAL), 0))
            for name in PARTS:
                peak[name] = max(peak[name], now[name])
            peak[TOTAL] = max(peak[TOTAL], sum(now[name] for name in PARTS))

    def run(self):
        while not self.stopped.wait(self.interval):
            self.sample()

    def stop(self) -> str:
        self.stopped.set()
        self.sample()
        if self.is_alive():
            self.join()
        peak = self.peak
        return (f"this process and its children: private {peak['RssAnon'] / 1024:,.0f} MB, "
                f"file-backed {peak['RssFile'] / 1024:,.0f} MB")

    def __enter__(self):
        self.sample()
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def phase_peaks(self, names: list[str]) -> list[dict]:
        """Per phase (key = its index in ``names``): peak private, file-backed and total (both at
        one sample) memory in MB."""
        return [{"phase": name, "peak_private_mb": round(peak["RssAnon"] / 1024),
                 "peak_file_backed_mb": round(peak["RssFile"] / 1024), "peak_total_mb": round(peak[TOTAL] / 1024)}
                for index, name in enumerate(names) if (peak := self.peaks.get(index))]


@contextlib.contextmanager
def phase_memory(out):
    """Sample memory per phase of ``out`` (a ``cultivar.console.CommandConsole``) inside the block:
    the running phase is the one after those ``out.phases`` holds, and every phase is also sampled
    as it starts and ends, so one shorter than the sampling interval still has its figures.
    Yields the sampler; ``sampler.phase_peaks([p.name for p in out.phases])`` afterwards."""
    sampler = MemorySampler(key=lambda: len(out.phases))
    plain = out.phase

    @contextlib.contextmanager
    def sampled(*args, **kwargs):
        with plain(*args, **kwargs) as phase:
            sampler.sample()
            yield phase
            sampler.sample()

    out.phase = sampled
    try:
        with sampler:
            yield sampler
    finally:
        del out.phase  # the class's method again
