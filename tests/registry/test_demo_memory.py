"""seed_demo reports each phase's peak memory, private and file-backed apart, children included."""

import datetime
import io
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management import call_command

from registry.demo.memory import (
    MemorySampler,
    phase_memory,
)

TODAY = datetime.date(2026, 11, 23)
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


# Run in a fresh process, so that no other child of the test runner (a browser, a server) counts.
CHILD_PROBE = """
import subprocess, sys, time
from registry.demo.memory import MemorySampler, process_memory, tree_memory
holds = "b = bytearray(60_000_000); b[::4096] = b'x' * len(b[::4096]); print('ok', flush=True); input()"
child = subprocess.Popen([sys.executable, "-c", holds], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
assert child.stdout.readline().strip() == "ok"
own = process_memory()["RssAnon"]
with MemorySampler(interval=0.05) as sampler:
    time.sleep(0.2)
holding = tree_memory()["RssAnon"]
child.communicate("")
print(own, holding, sampler.peak["RssAnon"], tree_memory()["RssAnon"])
"""


@linux_only
def test_a_child_process_memory_counts():
    """A build done by a child process must not hide its memory: 60 MB held by a child shows."""
    probe = subprocess.run([sys.executable, "-c", CHILD_PROBE], check=False, capture_output=True, text=True,
                           cwd=Path(__file__).resolve().parents[2], timeout=60)
    assert probe.returncode == 0, probe.stderr
    own, holding, peak, after = map(int, probe.stdout.split())  # kB
    assert holding >= own + 55_000 and peak >= own + 55_000
    assert after < own + 55_000  # a finished child no longer counts


@linux_only
def test_peaks_are_kept_per_phase():
    phase = [0]
    with MemorySampler(key=lambda: phase[0], interval=0.05) as sampler:
        time.sleep(0.15)
        phase[0] = 1
        held = bytearray(80_000_000)
        held[::4096] = b"x" * len(held[::4096])  # touched, so resident
        time.sleep(0.15)
    del held
    first, second = sampler.phase_peaks(["small", "big"])
    assert (first["phase"], second["phase"]) == ("small", "big")
    assert second["peak_private_mb"] - first["peak_private_mb"] >= 70
    assert first["peak_file_backed_mb"] > 0 and second["peak_file_backed_mb"] > 0
    # The total is one sample's private + file-backed: above either part, never above their peaks' sum.
    for peaks in (first, second):
        assert max(peaks["peak_private_mb"], peaks["peak_file_backed_mb"]) < peaks["peak_total_mb"]
        assert peaks["peak_total_mb"] <= peaks["peak_private_mb"] + peaks["peak_file_backed_mb"] + 1
    assert second["peak_total_mb"] - first["peak_total_mb"] >= 70


@linux_only
@pytest.mark.django_db
def test_seed_demo_json_reports_every_phase_memory(settings, tmp_path):
    settings.SEARCH_BACKEND = "embedded"
    settings.SEARCH_EMBEDDED_PATH = tmp_path / "search"
    out = io.StringIO()
    call_command("seed_demo", firms=40, seed=1, today=TODAY, json_summary=True, stdout=out)
    summary = json.loads(out.getvalue())
    names = [p["phase"] for p in summary["phases"]]
    assert names == ["firms", "pipeline tables", "search index"]
    assert [m["phase"] for m in summary["phase_memory"]] == names
    for memory in summary["phase_memory"]:
        # Django and pandas alone are well over 50 MB private; libraries are mapped files.
        assert memory["peak_private_mb"] > 50 and memory["peak_file_backed_mb"] > 5
        assert memory["peak_total_mb"] > memory["peak_private_mb"] + 5


@linux_only
def test_a_phase_shorter_than_the_interval_still_has_its_figures():
    from cultivar.console import CommandConsole

    out = CommandConsole(io.StringIO(), json_summary=True)
    with phase_memory(out) as sampler:
        sampler.interval = 3600  # only the start and end samples
        with out.phase("short", unit=None):
            pass
        with out.phase("also short", unit=None):
            pass
    assert [m["phase"] for m in sampler.phase_peaks([p.name for p in out.phases])] == ["short", "also short"]
    assert "phase" not in vars(out)  # the console's own method again
