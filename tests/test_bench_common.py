"""bench/common.py: the agreement check stops a benchmark with a failing exit code on any mismatch."""

import subprocess
import sys
from pathlib import Path

import pytest

from bench.common import Table, measure, percentile, same

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("first, second", [
    ([(1, "a"), (2, "b")], [(1, "a"), (2, "c")]),          # same count, one cell differs
    ({1, 2, 3}, {1, 2, 4}),                                 # hit sets of equal size
    ({"data": {"firms": [{"id": "1"}]}}, {"data": {"firms": [{"id": "2"}]}}),
    ([1, 2], [1, 2, 3]),
])
def test_mismatch_exits_non_zero(first, second, capsys):
    with pytest.raises(SystemExit) as stopped:
        same("case", first, second)
    assert stopped.value.code == 1
    assert "DISAGREE case" in capsys.readouterr().err


def test_equal_results_pass_through():
    rows = [{"id": 1, "name": "甲"}]
    assert same("case", rows, [{"id": 1, "name": "甲"}]) == rows


def test_a_benchmark_process_exits_non_zero_on_mismatch():
    script = "import sys; sys.path.insert(0, %r); from bench.common import same; same('x', [1], [2])" % str(ROOT)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 1
    assert "x[0]" in done.stderr or "result[0]" in done.stderr


def test_percentile_and_measure():
    assert percentile([5, 1, 3, 2, 4], 50) == 3
    assert percentile(list(range(1, 101)), 95) == 95
    calls = []
    timings = measure({"a": lambda: calls.append("a") or 1, "b": lambda: calls.append("b") or 2}, runs=3)
    assert calls == ["a", "b"] * 4  # one warm-up, then interleaved
    assert len(timings["a"].wall) == 3 and timings["b"].result == 2


def test_table_aligns_columns():
    table = Table("shape", "ms")
    table.add("long name", 1.5)
    table.add("x", 12.25)
    lines = table.render().splitlines()
    assert lines[2].endswith(" 1.50") and lines[3].endswith("12.25")
    assert len({len(line) for line in lines}) == 1


def test_table_counts_chinese_characters_as_two_columns():
    table = Table("scope", "ms")
    table.add("昆山", 1.0)
    table.add("national", 2.0)
    lines = table.render().splitlines()
    assert lines[2].index("1.00") == lines[3].index("2.00") - 2  # "昆山" is 4 columns wide, 2 characters


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="Linux /proc only")
def test_memory_sampler_sees_private_memory_grow():
    """The build benchmarks report peak private (RssAnon) memory from this sampler."""
    from bench.common import MemorySampler

    sampler = MemorySampler()
    sampler.sample()
    before = sampler.peak["RssAnon"]
    block = bytearray(64 * 1024 * 1024)  # 64 MB, written so the pages are resident
    block[::4096] = b"x" * len(block[::4096])
    sampler.sample()
    del block
    assert sampler.peak["RssAnon"] - before >= 60 * 1024
    assert MemorySampler.current()["RssFile"] > 0  # the interpreter's own mapped files


def test_reset_peak_rss_starts_the_peak_afresh():
    from bench.common import peak_rss_mb, reset_peak_rss

    block = bytearray(300 * 1024 * 1024)
    block[::4096] = b"x" * len(block[::4096])  # touch every page: it counts in RSS
    del block
    held = peak_rss_mb()
    if not reset_peak_rss():
        pytest.skip("this system cannot reset the peak (/proc/self/clear_refs)")
    assert peak_rss_mb() < held - 200  # the 300 MB freed before the reset no longer count
