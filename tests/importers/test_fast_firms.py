"""The firm list's fast path (importers.fastpath.FastFirms + registry.services.staged.StagedFirms): its
vectorised plain forms agree with the per-value parsers, and on PostgreSQL it leaves exactly the
registry, audit trail and row report the per-row path does, on real-shaped files."""

import datetime
import random
import re
import shutil
from decimal import Decimal

import pandas as pd
import pytest
from django.db import connection  # (the skipif conditions read it too)

from importers import fastpath
from importers.cleaning import parse_amount, parse_date
from importers.services import import_file
from registry.models import AuditEvent, Firm, FirmAlias, Region, Role, RoleAssignment
from tests.factories import bad_check_digit, make_uscc

postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the fast path is PostgreSQL's")


def test_plain_amounts_are_what_parse_amount_prints():
    rng = random.Random(7)
    cells = ["0", "1", "10", "100", "0.5", "12.05", "12.5", "99999999999999", "100000000000000", "10.50", "010",
             "1.000", "0.05", "5.8000", "1e3", "12.345", "-5"]
    cells += [str(rng.randrange(0, 10 ** rng.randrange(1, 15))) for _ in range(300)]
    cells += [f"{rng.randrange(0, 10 ** 6)}.{rng.randrange(0, 100):0{rng.choice([1, 2])}d}" for _ in range(300)]
    plain = pd.Series(cells).str.fullmatch(fastpath._PLAIN_AMOUNT)
    assert 400 < plain.sum() < len(cells)
    for cell, is_plain in zip(cells, plain):
        if is_plain:  # the cell is its own parsed value, in 万元 人民币
            assert parse_amount(cell) == (Decimal(cell), "CNY") and str(parse_amount(cell)[0]) == cell, cell
            assert parse_amount(cell, "万元") == parse_amount(cell)


def test_plain_dates_are_what_parse_date_gives():
    rng = random.Random(8)
    cells = ["2024-02-29", "2023-02-29", "2024-13-01", "1999-12-31", "0001-01-01", "2024-1-05", "2024-04-31"]
    cells += [(datetime.date(1950, 1, 1) + datetime.timedelta(days=rng.randrange(40000))).isoformat() for _ in range(200)]
    s = pd.Series(cells)
    plain = s.str.fullmatch(fastpath._ISO_DATE).to_numpy(dtype=bool).copy()
    plain[plain] = pd.to_datetime(s[plain], format="%Y-%m-%d", errors="coerce").notna().to_numpy()
    assert plain.sum() == 203  # 2023-02-29, 2024-13-01, 2024-1-05 and 2024-04-31 are not
    for cell, is_plain in zip(cells, plain):
        if is_plain:
            assert parse_date(cell).isoformat() == cell


# --- PostgreSQL: the fast path against the per-row path ---------------------------------------------

HEADER = "统一社会信用代码,企业名称,成立日期,所在地区,主营产品,注册资本（万元）\n"
A, B, C, D, E, F = (make_uscc("320583", serial=9300 + n) for n in range(6))
G = make_uscc("320211", serial=9306)

MIXED = [
    f"{A},昆山甲精密有限公司,2015-03-02,昆山市,精密模具,100\n",
    f"{B},昆山乙电子有限公司,2016/11/11,昆山市,,20(万元人民币)\n",           # per row: a date and an amount in their forms
    f"{B},昆山乙电子有限公司,2016-11-11,昆山市,芯片,20\n",                    # a duplicate of the line above
    f"{C},  昆山丙材料有限公司 ,,昆山市,,\n",                                  # padded: staged all the same
    f"{bad_check_digit(D)},昆山丁科技有限公司,2019-01-01,昆山市,,5\n",       # review
    f"{make_uscc('320583', serial=9390)},昆山戊科技有限公司,2019-01-01,火星市,,5\n",  # unknown region
    f"{E},昆山己科技有限公司,2020-02-30,,,-3\n",                              # warnings: no such date, negative
    f"{F},{'长' * 201},2020-01-01,昆山市,,\n",                                  # over-long name
    f"{G},无锡庚生物有限公司,2018-05-06,,合成生物,12.345\n",                 # 3 decimals: refused by the model
    f"{make_uscc('320583', serial=9391)},昆山辛科技有限公司,2018-05-06,姑苏区,,1\n",  # clues disagree: a warning
    f"{make_uscc('320583', serial=9392).lower()},昆山壬科技有限公司,2018-05-06,昆山市,,1\n",  # lower case: per row
    "\n",
    f"{make_uscc('320583', serial=9393)},昆山癸科技有限公司,2011-01-01,昆山市,,1.5\n",
    f"{make_uscc('320583', serial=9394)},昆山子科技有限公司,2012-01-01,昆山市,\"激光\t雷达\\模组\",3\n",  # staged as is
    f"{make_uscc('320583', serial=9395)},昆山丑科技有限公司,2012-01-01,昆山\x1f市,,3\n",  # the key separator
    # quotes and a backslash: the audit's changes are built as JSON text (registry.services.staged)
    f"{make_uscc('320583', serial=9396)},\"昆山\"\"寅\"\"科技有限公司\",2013-01-01,昆山市,\"光\\\"\"模组\",2\n",
    "注：以上企业按地区排列\n",
]
CHANGED = [
    f"{A},昆山甲精密股份有限公司,2015-03-02,昆山市,精密模具,150\n",       # renamed, capital changed
    f"{B},昆山乙电子有限公司,2016-11-11,,芯片,20\n",                         # products added; region kept
    f"{C},昆山丙材料有限公司,2001-01-01,苏州工业园区,,100万美元\n",          # moved, founded, capital in USD
    f"{make_uscc('320583', serial=9393)},昆山癸科技有限公司,2011-01-01,昆山市,,1.50\n",  # the same amount
    f"{G},无锡庚生物有限公司,2018-05-06,,合成生物,12.34\n",                  # created: region from the USCC
    f"{A},昆山甲精密有限公司,2015-03-02,昆山市,精密模具,150\n",            # duplicate of the rename
]


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def report(job):
    return (
        {k: getattr(job, k) for k in ("status", "message", "total", "created", "updated", "unchanged", "needs_review", "errors",
                                       "duplicates", "skipped", "firms_created")},
        sorted((e.line, e.field, e.message, e.code) for e in job.row_errors.all()),
        sorted((r.line, r.reason, r.message) for r in job.review_items.all()),
        sorted(map(tuple, job.skipped_lines)),
    )


def registry_state():
    """Every firm column but ids and times, every audit row (by firm USCC), every alias."""
    skip = {"id", "created_at", "updated_at"}
    columns = [f.attname for f in Firm._meta.concrete_fields if f.attname not in skip]
    firms = sorted(tuple(str(v) for v in row) for row in Firm.objects.values_list(*columns))
    uscc = dict(Firm.objects.values_list("id", "uscc"))
    events = sorted((e.action, e.model, re.sub(r"\d+", "N", e.via), e.actor_id, uscc.get(e.firm_id), str(sorted(e.changes.items())))
                    for e in AuditEvent.objects.all())
    aliases = sorted(FirmAlias.objects.values_list("firm__uscc", "name", "name_normalized", "kind"))
    return firms, events, aliases


def assert_same(fast, per_row):
    """Equal, or a readable account of what differs (job by job, then table by table)."""
    for i, (a, b) in enumerate(zip(fast[0], per_row[0])):
        assert a == b, f"file {i}: fast {a} != per row {b}"
    for name, a, b in zip(("firms", "audit", "aliases"), fast[1], per_row[1]):
        assert a == b, f"{name}: only fast {sorted(set(a) - set(b))[:5]}; only per row {sorted(set(b) - set(a))[:5]}"


def reset_registry():
    AuditEvent.objects.all().delete()
    FirmAlias.objects.all().delete()
    Firm.objects.all().delete()


def both_ways(monkeypatch, files, user=None, **options):
    """Import the files in order per row, then (registry emptied) the fast way; (results, fast tables used)."""
    used = []
    real = fastpath.FastFirms.apply
    monkeypatch.setattr(fastpath.FastFirms, "apply", lambda self: (used.append(self.staged), real(self))[1])
    results = {}
    for mode in ("per_row", "fast"):
        reset_registry()
        jobs = [import_file(path, kind="firms", user=user, options=options, per_row=mode == "per_row")
                for path in files]
        results[mode] = [report(job) for job in jobs], registry_state()
    return results, used


@postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize("frame_rows", [4, fastpath.FRAME_ROWS])
def test_fast_firm_list_gives_the_per_row_registry_audit_and_report(tmp_path, monkeypatch, data_dir, frame_rows):
    monkeypatch.setattr(fastpath, "FRAME_ROWS", frame_rows)  # 4: plain and per-row rows mix in every frame
    monkeypatch.setattr(fastpath, "FIRST_FRAME_ROWS", 3 if frame_rows == 4 else fastpath.FIRST_FRAME_ROWS)
    files = [
        shutil.copy(data_dir / "firms_master.csv", tmp_path / "firms_master.csv"),
        shutil.copy(data_dir / "real_shapes" / "registry_extract_like.csv", tmp_path / "registry_extract_like.csv"),
        shutil.copy(data_dir / "formats" / "name_uscc_only.csv", tmp_path / "name_uscc_only.csv"),
        write(tmp_path, "mixed.csv", "2024年企业名录\n" + HEADER + "".join(MIXED)),
        write(tmp_path, "changed.csv", HEADER + "".join(CHANGED)),
        write(tmp_path, "changed_again.csv", HEADER + "".join(CHANGED)),
        shutil.copy(data_dir / "firms_master.csv", tmp_path / "firms_master_again.csv"),
    ]
    results, used = both_ways(monkeypatch, files)
    assert_same(results["fast"], results["per_row"])
    assert len(used) == len(files) and all(used)  # every file went the fast way, rows staged in each
    jobs, (firms, events, _) = results["fast"]
    master, extract, name_only, mixed, changed, again, master_again = jobs
    assert master[0]["created"] == 120 and master_again[0]["unchanged"] == 120
    assert extract[0]["created"] > 0 and name_only[0]["created"] > 0
    assert mixed[0] | {"skipped": 0} == {"status": "partial", "message": "", "total": 15, "created": 10, "updated": 0,
                                         "unchanged": 0, "needs_review": 1, "errors": 4, "duplicates": 1, "skipped": 0,
                                         "firms_created": 0}
    assert {e[3] for e in mixed[1]} == {"duplicate", "unknown_region", "invalid", "warning"}
    assert (changed[0]["created"], changed[0]["updated"], changed[0]["unchanged"], changed[0]["duplicates"]) == (1, 3, 1, 1)
    assert (again[0]["created"], again[0]["updated"], again[0]["unchanged"]) == (0, 0, 5)
    by_uscc = {f[0]: f for f in firms}
    assert "昆山甲精密股份有限公司" in by_uscc[A] and "['昆山甲精密有限公司']" in by_uscc[A]  # former name kept
    assert "320571" in by_uscc[C] and "USD" in by_uscc[C]
    assert "320211" in by_uscc[G] and "12.34" in by_uscc[G]
    assert sum(1 for e in events if e[0] == "update") == 3


@postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize("frame_rows", [1, fastpath.FRAME_ROWS])
def test_fast_firm_list_keeps_officers_in_their_regions(tmp_path, monkeypatch, frame_rows):
    """1 row a frame: every row is settled against rows of earlier frames (a refused row above the row that
    counts, a duplicate of a row written on an earlier frame)."""
    from django.contrib.auth import get_user_model

    monkeypatch.setattr(fastpath, "FRAME_ROWS", frame_rows)

    user = get_user_model().objects.create_user("ks", password="x")
    RoleAssignment.objects.create(user=user, role=Role.OFFICER).regions.set(Region.objects.filter(code="320583"))
    outside = make_uscc("320508", serial=9320)
    lines = [
        f"{A},昆山甲精密有限公司,2015-03-02,昆山市,,100\n",
        f"{outside},苏州甲科技有限公司,2015-03-02,姑苏区,,\n",     # a new firm outside Kunshan: refused
        f"{outside},苏州甲科技有限公司,2015-03-02,昆山市,,\n",     # the same firm, in Kunshan: counts
        f"{outside},苏州甲科技有限公司,2015-03-02,姑苏区,,\n",     # then a duplicate
        f"{B},昆山乙电子有限公司,2016-11-11,姑苏区,,\n",            # refused
    ]
    first = write(tmp_path, "scope.csv", HEADER + "".join(lines))
    moved = write(tmp_path, "moved.csv", HEADER + f"{A},昆山甲精密有限公司,2015-03-02,姑苏区,,100\n"   # refused
                  f"{A},昆山甲精密有限公司,2015-03-02,,,200\n")                                       # counts
    results, used = both_ways(monkeypatch, [first, moved], user=user)
    assert results["fast"] == results["per_row"] and len(used) == 2
    (scope, move), _ = results["fast"]
    assert [(e[0], e[3]) for e in scope[1] if e[3] != "warning"] == [(3, "out_of_scope"), (5, "duplicate"),
                                                                     (6, "out_of_scope")]
    assert [(e[0], e[3]) for e in move[1]] == [(2, "out_of_scope")] and move[0]["updated"] == 1


@postgres_only
@pytest.mark.django_db
def test_fast_firm_list_other_names_and_year_last_dates(tmp_path, monkeypatch, data_dir):
    """曾用名/别名 columns: the rows are staged and their names added per firm once written (again: nothing
    new). Year-last dates are read per chunk by the column's values: that list goes the chunked path.
    Both agree with per row."""
    names = shutil.copy(data_dir / "real_shapes" / "firms_with_other_names_like.csv", tmp_path / "names.csv")
    renamed = write(tmp_path, "renamed.csv", "统一社会信用代码,企业名称,所在地区,曾用名,别名\n"
                    "913205830000000X4B,昆山零一万物科技有限公司,昆山市,昆山零一科技有限公司,零一\n"
                    "913205830000000X5E,昆山月之暗面科技有限公司,昆山市,,\n")
    mdy = shutil.copy(data_dir / "formats" / "firms_mdy_dates.csv", tmp_path / "mdy.csv")
    results, used = both_ways(monkeypatch, [names, names, renamed, mdy])
    assert_same(results["fast"], results["per_row"])
    assert len(used) == 3 and all(used)  # not the year-last list
    (first, again, more, _), (_, events, aliases) = results["fast"]
    assert first[0]["created"] == again[0]["unchanged"] == more[0]["updated"] + more[0]["unchanged"] > 0
    assert more[0]["updated"] == 1  # only names added: updated
    assert {"零一万物", "Moonshot AI", "零一"} <= {a[1] for a in aliases}
    assert any(e[0] == "aliases" for e in events)


@postgres_only
@pytest.mark.django_db
def test_fast_firm_list_dry_run_writes_nothing_and_a_second_import_nothing_new(tmp_path, monkeypatch, data_dir):
    used = []
    real = fastpath.FastFirms.apply
    monkeypatch.setattr(fastpath.FastFirms, "apply", lambda self: (used.append(self.staged), real(self))[1])
    path = shutil.copy(data_dir / "firms_master.csv", tmp_path / "firms_master.csv")
    dry = import_file(path, kind="firms", dry_run=True)
    assert (dry.status, dry.created) == ("succeeded", 120) and not Firm.objects.exists() and not AuditEvent.objects.exists()
    first = import_file(path, kind="firms")
    state = registry_state()
    again = import_file(path, kind="firms")
    assert (first.created, again.created, again.updated, again.unchanged) == (120, 0, 0, 120)
    assert registry_state() == state  # not a firm, audit row or alias more
    assert used == [120, 120, 120]


@postgres_only
@pytest.mark.django_db
def test_a_firm_on_several_frames_is_written_once_as_per_row(tmp_path, monkeypatch):
    """Frames are written while later ones are read: a firm whose rows fall on frames 1, 3 and 4 is created
    from its first row and the others are duplicates (no scope: found by the USCC hashes of the frames
    above); a firm staged on frame 1 and left to the per-row path on frame 2 (an amount in another form)
    makes the job run again in file order. Both as per row; a second import writes nothing."""
    monkeypatch.setattr(fastpath, "FRAME_ROWS", 2)
    monkeypatch.setattr(fastpath, "FIRST_FRAME_ROWS", 1)  # frames of lines 2 | 3 | 4-5 | 6-7 | 8
    lines = [
        f"{A},昆山甲精密有限公司,2015-03-02,昆山市,精密模具,100\n",
        f"{B},昆山乙电子有限公司,2016-11-11,昆山市,,20\n",
        f"{C},昆山丙材料有限公司,2017-01-01,昆山市,,\n",
        f"{A},昆山甲精密股份有限公司,2015-03-02,昆山市,精密模具,200\n",   # frame 3: a duplicate of line 2
        f"{D},昆山丁科技有限公司,2019-01-01,昆山市,,5\n",
        f"{A},昆山甲精密有限公司,2015-03-02,昆山市,,\n",                   # frame 4: again
        f"{E},昆山己科技有限公司,2020-01-01,昆山市,,\n",
    ]
    repeats = write(tmp_path, "repeats.csv", HEADER + "".join(lines))
    mixed = write(tmp_path, "order.csv", HEADER + f"{F},昆山庚科技有限公司,2015-03-02,昆山市,,1\n"
                  f"{F.lower()},昆山庚科技有限公司,2015-03-02,昆山市,,2\n")       # per row: the job re-runs in order
    reruns, check_order = [], fastpath.FastFirms.check_order

    def check(self, cursor):
        try:
            check_order(self, cursor)
        except fastpath.OrderSensitive:
            reruns.append(self.staged)
            raise

    monkeypatch.setattr(fastpath.FastFirms, "check_order", check)
    results, used = both_ways(monkeypatch, [repeats, repeats, mixed])
    assert_same(results["fast"], results["per_row"])
    (first, again, order), (firms, _, _) = results["fast"]
    assert first[0]["created"] == 5 and first[0]["duplicates"] == 2 and again[0]["unchanged"] == 5
    assert [(e[0], e[3]) for e in first[1]] == [(5, "duplicate"), (7, "duplicate")]
    firm_a = {f[0]: f for f in firms}[A]
    assert "昆山甲精密有限公司" in firm_a and "昆山甲精密股份有限公司" not in firm_a and "320583" in firm_a
    assert order[0]["created"] == 1 and order[0]["duplicates"] == 1
    assert used == [7, 7, 1] and reruns == [1]  # the third list ran again in file order


@postgres_only
@pytest.mark.django_db
def test_new_firms_written_straight_equal_the_staged_ones(tmp_path, monkeypatch, data_dir):
    """Frames of firms new to the registry go straight into it (StagedFirms.create_new), the others (a
    known firm refused by the USCC's unique index, a repeated USCC) through the stage: the same firms
    (every column, ids in line order), audit rows and reports as when every frame is staged. Frames of
    2 rows mix both ways in one list, with a firm repeated on a later frame (a duplicate of a row
    written straight) and a list of known and new firms."""
    from registry.services.staged import StagedFirms

    monkeypatch.setattr(fastpath, "FRAME_ROWS", 2)
    monkeypatch.setattr(fastpath, "FIRST_FRAME_ROWS", 1)
    lines = [
        f"{A},昆山甲精密有限公司,2015-03-02,昆山市,精密模具,100\n",
        f"{B},昆山乙电子有限公司,2016-11-11,昆山市,,20\n",
        f"{C},昆山丙材料有限公司,2017-01-01,昆山市,,\n",
        f"{A},昆山甲精密股份有限公司,2015-03-02,昆山市,精密模具,200\n",   # a duplicate of line 2 (written straight)
        f"{D},昆山丁科技有限公司,2019-01-01,昆山市,,5\n",
        f"{E},昆山己科技有限公司,2020-01-01,昆山市,\"含,逗号\\反斜杠\",\n",
    ]
    files = [shutil.copy(data_dir / "firms_master.csv", tmp_path / "firms_master.csv"),
             write(tmp_path, "repeats.csv", HEADER + "".join(lines)),
             write(tmp_path, "changed.csv", HEADER + "".join(CHANGED))]
    straight = []  # (rows, written) of each frame tried straight
    real = StagedFirms.create_new

    def create_new(self, cursor, rows):
        straight.append((len(rows[0]), real(self, cursor, rows)))
        return straight[-1][1]

    monkeypatch.setattr(StagedFirms, "create_new", create_new)

    def run():
        reset_registry()
        jobs = [report(import_file(path, kind="firms")) for path in files]
        firms = list(Firm.objects.order_by("id").values_list("uscc", flat=True))
        uscc = dict(Firm.objects.values_list("id", "uscc"))
        events = [(uscc.get(firm), action, changes)
                  for firm, action, changes in AuditEvent.objects.order_by("id").values_list("firm_id", "action", "changes")]
        return jobs, registry_state(), firms, events

    mixed = run()
    assert sum(n for n, written in straight if written) >= 120 and mixed[0][1][0]["duplicates"] == 1
    assert not all(written for _, written in straight)  # a frame with a known firm: refused by the USCC index, staged
    used = len(straight)
    monkeypatch.setattr(StagedFirms, "create_new", lambda self, cursor, rows: False)  # as if a firm were known
    staged = run()
    assert len(straight) == used  # nothing went straight
    assert mixed == staged


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("where", ["writing", "staging", "reading"])
def test_a_failure_on_a_later_frame_leaves_the_registry_as_it_was(tmp_path, monkeypatch, data_dir, where):
    """Frames are written while the list is still read, all in the job's one transaction: a failure on the
    third frame (its write straight into the registry, its staged write, or reading it) after two frames
    were written leaves no firm and no audit row; the job says it failed. The same list then imports whole."""
    from registry.services.staged import StagedFirms

    monkeypatch.setattr(fastpath, "FRAME_ROWS", 40)
    monkeypatch.setattr(fastpath, "FIRST_FRAME_ROWS", 0)
    path = shutil.copy(data_dir / "firms_master.csv", tmp_path / "firms_master.csv")  # 120 rows: 3 frames
    calls = []
    if where in ("writing", "staging"):
        name = "create_new" if where == "writing" else "write"
        if where == "staging":  # every frame staged, as when the registry knows one of its firms
            monkeypatch.setattr(StagedFirms, "create_new", lambda self, cursor, rows: False)
        real = getattr(StagedFirms, name)

        def write_frame(self, cursor, *args, **bounds):
            calls.append(bounds)
            if len(calls) == 3:
                cursor.execute("SELECT 1 / 0")  # the database refuses the third frame's statement
            return real(self, cursor, *args, **bounds)

        monkeypatch.setattr(StagedFirms, name, write_frame)
    else:
        real = fastpath.FastFirms.clean

        def clean(self, lines, frame):
            calls.append(len(lines))
            if len(calls) == 3:
                assert Firm.objects.count() > 0  # the first frames are written already (the job's transaction)
                raise RuntimeError("the disk went away")
            return real(self, lines, frame)

        monkeypatch.setattr(fastpath.FastFirms, "clean", clean)
    job = import_file(path, kind="firms")
    assert len(calls) == 3 and job.status == "failed"
    assert "division by zero" in job.message if where != "reading" else "the disk went away" in job.message
    assert not Firm.objects.exists() and not AuditEvent.objects.filter(model="firm").exists()
    monkeypatch.undo()
    assert import_file(path, kind="firms").created == 120


def test_whole_column_checks_agree_with_cell_by_cell():
    """The joined-column searches (importers.fastpath._padded, _suspect, fullmatch_cells) give what the
    per-cell checks give: whitespace of every kind at either end, footnote starts, plain dates and amounts."""
    rng = random.Random(9)
    pieces = ["", " ", "\u3000", "\xa0", "\t", "注", "合计", "a", "昆山", "2024-01-05", "12.5", "0", "05", "\u200b", "1e3"]
    for _ in range(400):
        cells = ["".join(rng.choice(pieces) for _ in range(rng.randrange(0, 4))) for _ in range(rng.randrange(1, 6))]
        whole = fastpath._SEP.join(cells)
        assert fastpath._padded(whole) == any(c != c.strip() for c in cells), cells
        assert fastpath._suspect(whole) == any(c[:1] in fastpath._SUSPECT_START for c in cells), cells
        for pattern in (fastpath._ISO_DATE, fastpath._PLAIN_AMOUNT):
            series = pd.Series(cells)
            assert fastpath.fullmatch_cells(series, pattern).tolist() == series.str.fullmatch(pattern).tolist(), cells


def test_new_firm_changes_are_the_json_of_the_fields_a_row_gives():
    """The staged audit `changes` of new firms (registry.services.staged.new_firm_changes): one object per
    row with [default, value] for each field given, escapes where a value needs them, valid JSON."""
    import json

    import numpy as np

    from registry.services.staged import new_firm_changes

    def column(*values):
        return np.array(values, dtype=object)

    rows = new_firm_changes({
        "name": column("甲公司", 'A "引号" \\ 公司', "丙\t公司"),
        "founded_on": column("2015-03-02", None, None),
        "main_products": column(None, "芯片", None),
        "registered_capital": column("5.8", None, "4500"),
        "registered_capital_currency": column("CNY", None, "USD"),
        "region": column("320583", "110105", "320583"),
    })
    assert [json.loads(r) for r in rows] == [
        {"name": ["", "甲公司"], "founded_on": [None, "2015-03-02"], "registered_capital": [None, "5.8"],
         "registered_capital_currency": ["", "CNY"], "region": [None, "320583"]},
        {"name": ["", 'A "引号" \\ 公司'], "main_products": ["", "芯片"], "region": [None, "110105"]},
        {"name": ["", "丙\t公司"], "registered_capital": [None, "4500"], "registered_capital_currency": ["", "USD"],
         "region": [None, "320583"]},
    ]


@postgres_only
@pytest.mark.django_db
def test_copy_rows_read_back_by_postgresql_as_the_values():
    """staged.copy_rows (the text of every COPY the fast paths make): NULLs, empty text, tabs, newlines,
    backslashes, non-text cells and booleans come back from PostgreSQL as they went in."""
    from registry.services.staged import copy_rows

    frame = pd.DataFrame({
        "n": [1, 2, 3, 4],
        "t": ["纯文本", "", None, "制表\t换行\n回车\r反斜杠\\N"],
        "o": [datetime.date(2024, 1, 29), None, 12.5, "x"],  # not all text: each cell's str()
        "b": [True, False, True, False],
    })
    rows = copy_rows(frame, end="\t常量\n")
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE copy_rows_check (n integer, t text, o text, b boolean, c text)")
        with cursor.cursor.copy("COPY copy_rows_check (n, t, o, b, c) FROM STDIN") as copy:
            copy.write("".join(rows))
        cursor.execute("SELECT n, t, o, b, c FROM copy_rows_check ORDER BY n")
        back = cursor.fetchall()
    assert back == [(1, "纯文本", "2024-01-29", True, "常量"), (2, "", None, False, "常量"),
                    (3, None, "12.5", True, "常量"), (4, "制表\t换行\n回车\r反斜杠\\N", "x", False, "常量")]
