"""Command output, on a terminal (FORCE_COLOR: rich's switch) and piped: phases, full width, --quiet, --json."""

import datetime
import io
import json
import logging
import re

import pytest
from django.core.management import call_command

from cultivar.console import CommandConsole

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 23)
ANSI = re.compile(r"\x1b\[")


def seed(**options):
    out = io.StringIO()
    call_command("seed_demo", firms=60, seed=2, today=TODAY, no_index=True, stdout=out, **options)
    return out.getvalue()


def test_piped_output_is_plain_and_lists_every_phase(monkeypatch):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)
    text = seed()
    assert not ANSI.search(text)
    for phase in ("firms: 60 firms in", "pipeline tables: done in"):
        assert phase in text
    summary = next(line for line in text.splitlines() if line.startswith("Generated"))
    assert summary.endswith(f"(seed 2, as of {TODAY}).")  # one line, longer than 80 columns, not cut
    assert len(summary) > 80


def test_piped_tables_fold_instead_of_cutting(monkeypatch, settings, tmp_path):
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", "60")  # narrower than the table: cells fold, nothing is cut
    settings.DEBUG, settings.VAR_DIR = True, tmp_path
    out = io.StringIO()
    call_command("demo_setup", stdout=out)
    text = out.getvalue()
    assert "…" not in text
    saved = (tmp_path / "demo-logins.txt").read_text(encoding="utf-8").splitlines()[1:]
    token = next(line.split("\t")[2] for line in saved if line.startswith("demo-officer\t"))
    # A folded cell continues on the next lines of its column; the pieces still spell the whole region.
    cells = [line.split("│") for line in text.splitlines() if line.startswith("│")]
    regions_column = "".join(cell[3].strip() for cell in cells)
    assert "320571苏州工业园区、320583昆山市" in regions_column.replace(" ", "")
    assert f"API token of demo-officer: {token}" in text  # the key on one line, whole, to copy


def test_terminal_output_draws_bars_and_keeps_the_lines(monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "100")
    text = seed()
    assert ANSI.search(text)  # the live bar was drawn (and cleared: it is transient)
    plain = ANSI.sub("", text)
    assert "firms: 60 firms in" in plain and "pipeline tables: done in" in plain


def test_quiet_prints_nothing():
    assert seed(quiet=True) == ""


def test_json_is_one_document_with_counts_and_phases():
    document = json.loads(seed(json_summary=True))
    assert document["firms"] == 60 and document["certifications"] > 0
    phases = {p["phase"]: p for p in document["phases"]}
    assert set(phases) == {"firms", "pipeline tables"}
    assert phases["firms"]["count"] == 60 and phases["firms"]["per_second"] > 0


def test_log_lines_go_above_the_bar_and_handlers_come_back(monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    root = logging.getLogger()
    plain = logging.StreamHandler(io.StringIO())
    root.addHandler(plain)
    try:
        before = list(root.handlers)
        stream = io.StringIO()
        console = CommandConsole(stream)
        with console.phase("work", total=10, unit="rows") as phase:
            logging.getLogger("cultivar.test").warning("a task said something")
            phase.advance(10)
        assert "a task said something" in ANSI.sub("", stream.getvalue())
        assert "a task said something" not in plain.stream.getvalue()  # not written across the bar
        assert root.handlers == before
    finally:
        root.removeHandler(plain)


def test_other_long_commands_take_json(monkeypatch):
    out = io.StringIO()
    call_command("load_reference_data", json_summary=True, stdout=out)
    assert json.loads(out.getvalue())["regions"] > 100
    out = io.StringIO()
    call_command("analytics_rebuild", on=TODAY, json_summary=True, stdout=out)
    document = json.loads(out.getvalue())
    assert document["pipeline"]["complete"] and document["candidates"]["complete"]
    out = io.StringIO()
    call_command("expire_recognitions", today=TODAY, json_summary=True, stdout=out)
    assert json.loads(out.getvalue())["expired"] == 0


@pytest.mark.parametrize("terminal", [False, True])
def test_import_list_progress_then_a_whole_summary(monkeypatch, terminal):
    from pathlib import Path

    if terminal:
        monkeypatch.setenv("FORCE_COLOR", "1")
        monkeypatch.setenv("COLUMNS", "100")
    else:
        monkeypatch.delenv("FORCE_COLOR", raising=False)
        monkeypatch.delenv("COLUMNS", raising=False)
    data = Path(__file__).parent / "data" / "bad_rows_example.csv"
    out = io.StringIO()
    with pytest.raises(SystemExit):
        call_command("import_list", str(data), "--kind", "recognitions", "--tier", "hnte", "--issued-on", "2024-12-01",
                     "--dry-run", stdout=out)
    text = out.getvalue()
    assert bool(ANSI.search(text)) == terminal
    plain = ANSI.sub("", text)
    assert re.search(r"job \d+ bad_rows_example\.csv: 7 rows in [\d.]+ s", plain)  # the phase, with its count
    if not terminal:
        assert "…" not in plain  # the table is wider than 80 columns and still whole
        assert max(len(line) for line in plain.splitlines()) > 80
