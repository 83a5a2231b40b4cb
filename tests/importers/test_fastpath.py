"""importers.fastpath: the vectorised checks agree with the per-value ones, and on PostgreSQL the
set-based import reports and stores exactly what the per-row path does."""

import random

import pandas as pd
import pytest
from django.db import connection
from stdnum import exceptions as stdnum_errors
from stdnum.cn import uscc as stdnum_uscc

from importers import fastpath
from importers.models import JobStatus
from importers.services import import_file
from registry.models import AuditEvent, Certification, Firm, Region, Role, RoleAssignment
from registry.names import normalize_name
from registry.services.staged import StagedRecognitions
from tests.factories import bad_check_digit, make_uscc
from tests.importers.test_bulk import snapshot

postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="the fast path is PostgreSQL's")


def stdnum_accepts_as_is(text):
    try:
        return stdnum_uscc.validate(text) == text
    except stdnum_errors.ValidationError:
        return False


def test_vectorised_check_digit_agrees_with_stdnum():
    rng = random.Random(4)
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXYZIOSV-abc９１ "
    codes = [make_uscc(rng.choice(["320583", "110105", "440305"]), serial=rng.randrange(10 ** 6)) for _ in range(300)]
    codes += [bad_check_digit(c) for c in codes[:100]]
    for code in codes[:300]:
        i = rng.randrange(18)
        codes.append(code[:i] + rng.choice(alphabet) + code[i + 1:])  # one character changed
    codes += [c.lower() for c in codes[:20]] + [c[:17] for c in codes[:20]] + [c + "0" for c in codes[:20]]
    codes += ["", "９１３２０５８３ＭＡ１ＸＸＸＸＸＸＸ", "91320583MA1Q0J8P0Z", "A1320583MA1Q0J8P0X"]
    expected = [stdnum_accepts_as_is(c) for c in codes]
    assert 250 < sum(expected) < len(codes) - 300  # both kinds are well represented
    assert fastpath.valid_uscc(pd.Series(codes)).tolist() == expected


def test_name_keys_agree_with_normalize_name():
    names = pd.Series(["昆山甲科技有限公司", "昆山甲科技有限责任公司", "ＡＢＣ（苏州）有限公司", "abc(苏州)有限公司",
                       "Acme 苏州 有限公司", "【昆山】乙公司", "苏州責任有限公司", "丙\u200b公司", "丁公司ß"])
    assert fastpath.normalize_names(names).tolist() == [normalize_name(n) for n in names]


# --- PostgreSQL: fast path against the per-row path ---------------------------------------------

X, Y, Z = (make_uscc("320583", serial=n) for n in (9101, 9102, 9103))
HEADER = "序号,企业名称,统一社会信用代码,所在地区,证书编号,发证日期\n"


def write(tmp_path, name, lines):
    path = tmp_path / name
    path.write_text("2024年第一批高新技术企业名单\n" + HEADER + "".join(lines), encoding="utf-8")
    return path


def report(job):
    return (
        {k: getattr(job, k) for k in ("total", "created", "updated", "unchanged", "needs_review", "errors",
                                       "duplicates", "skipped", "firms_created")},
        sorted((e.line, e.field, e.message, e.code) for e in job.row_errors.all()),
        sorted((r.line, r.reason, r.message) for r in job.review_items.all()),
    )


def audit_trail():
    """Every audit row's action, model, firm (by USCC) and `changes`: both paths write the same history."""
    uscc = dict(Firm.objects.values_list("id", "uscc"))
    return sorted((e.action, e.model, uscc.get(e.firm_id), str(sorted(e.changes.items()))) for e in AuditEvent.objects.all())


def reset_registry():
    Certification.objects.all().delete()
    Firm.objects.all().delete()
    AuditEvent.objects.all().delete()


def both_ways(tmp_path, files, **options):
    """Import the files in order per row, then (registry emptied) through the fast path."""
    results = {}
    for mode in ("per_row", "fast"):
        reset_registry()
        jobs = [import_file(write(tmp_path, f"{mode}{i}.csv", lines), kind="recognitions",
                            options={"tier": "hnte", **options}, per_row=mode == "per_row") for i, lines in enumerate(files)]
        results[mode] = [report(job) for job in jobs], snapshot(), audit_trail()
    return results


MIXED = [
    f"1,昆山甲科技有限公司,{X},昆山市,GR2024001,2024-01-10\n",
    f"2,昆山乙科技有限公司,{Y},昆山市,GR2024002,2024年3月5日\n",
    f"3,昆山乙科技有限公司,{Y},昆山市,GR2024002,2024-03-05\n",          # duplicate of line 4
    f"4,昆山丙科技有限公司,{bad_check_digit(Z)},昆山市,GR2024003,2024-01-10\n",  # review
    f"5,昆山丁科技有限公司,{make_uscc('320583', serial=9104)},火星市,GR2024004,2024-01-10\n",  # unknown region
    f"6,  昆山戊科技有限公司 ,{make_uscc('320583', serial=9105).lower()},昆山市,GR2024005,45300\n",  # per row, valid
    f"7,昆山己科技有限公司,{make_uscc('320583', serial=9107)},昆山市,GR2024006,2024-02-30\n",  # no such date
    "\n",
    f"8,昆山庚科技有限公司,{make_uscc('320583', serial=9106)},昆山市,,2019-01-10\n",  # expired
    f"9,昆山甲科技有限公司,{X},昆山市,GR2021001,2021-01-05\n",          # X again: renewal links
    "注：名单按地区排列\n",
]


@postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize("frame_rows", [3, fastpath.FRAME_ROWS])
def test_fast_path_gives_the_per_row_report_and_registry(tmp_path, monkeypatch, frame_rows):
    monkeypatch.setattr(fastpath, "FRAME_ROWS", frame_rows)  # 3: rows of every kind fall in several frames
    used = []
    monkeypatch.setattr(fastpath, "run_table", lambda run, table, real=fastpath.run_table: (used.append(1), real(run, table)))
    corrected = [line.replace("GR2024001,2024-01-10", "GR2024001,2024-01-11") for line in MIXED]
    results = both_ways(tmp_path, [MIXED, MIXED, corrected])
    assert used == [1, 1, 1]
    fast, per_row = results["fast"][2], results["per_row"][2]
    assert fast == per_row, f"audit: only fast {sorted(set(fast) - set(per_row))}; only per row {sorted(set(per_row) - set(fast))}"
    assert results["fast"] == results["per_row"]
    (first, again, fixed), _, _ = results["fast"]
    assert first[0] == {"total": 9, "created": 5, "updated": 0, "unchanged": 0, "needs_review": 1, "errors": 3,
                        "duplicates": 1, "skipped": 2, "firms_created": 4}
    assert [e[:2] for e in first[1]] == [(5, ""), (7, "region"), (9, "issued_on")]
    assert again[0]["unchanged"] == 5 and again[0]["created"] == again[0]["updated"] == 0
    assert fixed[0]["updated"] == 1 and fixed[0]["unchanged"] == 4


@postgres_only
@pytest.mark.django_db
def test_fast_path_matches_the_bulk_comparison_files(tmp_path, monkeypatch):
    """tests/importers/test_bulk.py's three files (renewals, conflicts, corrections) on the fast path."""
    from tests.importers import test_bulk

    per_row = test_bulk.run_both(tmp_path, per_row=True)
    reset_registry()
    used = []
    monkeypatch.setattr(fastpath, "run_table", lambda run, table, real=fastpath.run_table: (used.append(1), real(run, table)))
    fast = test_bulk.run_both(tmp_path, per_row=False)
    assert used == [1, 1, 1]
    assert fast == per_row


@postgres_only
@pytest.mark.django_db
def test_rows_whose_order_matters_fall_back_to_file_order(tmp_path, monkeypatch):
    fallbacks = []
    real = fastpath.run_table

    def run_table(run, table):
        try:
            real(run, table)
        except fastpath.OrderSensitive:
            fallbacks.append(run.job.file_name)
            raise

    monkeypatch.setattr(fastpath, "run_table", run_table)
    first = [f"1,昆山甲科技有限公司,{X},昆山市,GR2024001,2024-01-10\n"]
    by_name = [f"1,昆山乙科技有限公司,{Y},昆山市,GR2024002,2024-01-10\n",
               f"2,昆山乙科技有限公司,,昆山市,GR2024003,2024-02-10\n",   # by name: the firm line 3 creates
               f"3,昆山甲科技有限公司,{X},昆山市,GR2024001,2024-02-10\n"]
    padded = [f"1, 昆山甲科技有限公司 ,{X.lower()},昆山市,GR2024001,2024-03-10\n",  # per row, then staged:
              f"2,昆山甲科技有限公司,{X},昆山市,GR2024001,2024-04-10\n"]          # a duplicate of it
    results = both_ways(tmp_path, [first, by_name, padded])
    assert results["fast"] == results["per_row"]
    assert fallbacks == ["fast1.csv", "fast2.csv"]
    (_, named, twice), (certs, *_), _ = results["fast"]
    assert named[0]["created"] == 2 and named[0]["updated"] == 1
    assert (twice[0]["updated"], twice[0]["duplicates"]) == (1, 1)
    assert [c[3].isoformat() for c in certs if c[0] == X] == ["2024-03-10"]


@postgres_only
@pytest.mark.django_db
def test_fast_path_dry_run_idempotency_and_failure(tmp_path, monkeypatch):
    path = write(tmp_path, "list.csv", MIXED)
    dry = import_file(path, kind="recognitions", options={"tier": "hnte"}, dry_run=True)
    assert Firm.objects.count() == Certification.objects.count() == AuditEvent.objects.count() == 0
    real = import_file(path, kind="recognitions", options={"tier": "hnte"})
    assert report(dry)[:2] == report(real)[:2]
    audit = AuditEvent.objects.count()
    assert audit == 4 + 5  # 4 firms created, 5 recognitions recorded
    again = import_file(path, kind="recognitions", options={"tier": "hnte"})
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    assert AuditEvent.objects.count() == audit
    before = snapshot()

    def broken(self, *args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(StagedRecognitions, "refresh_stages", broken)  # the pipeline fails half-way
    failed = import_file(write(tmp_path, "fixed.csv", [line.replace("2024-01-10", "2024-01-12") for line in MIXED]),
                         kind="recognitions", options={"tier": "hnte"})
    assert failed.status == JobStatus.FAILED and "disk full" in failed.message
    assert snapshot() == before


@postgres_only
@pytest.mark.django_db
def test_fast_path_keeps_officers_in_their_regions(tmp_path):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("ks", password="x")
    RoleAssignment.objects.create(user=user, role=Role.OFFICER).regions.set(Region.objects.filter(code="320583"))
    known = make_uscc("320583", serial=9120)
    lines = [
        f"1,苏州甲科技有限公司,{known},姑苏区,GR1,2024-01-10\n",    # new firm outside Kunshan: refused
        f"2,苏州甲科技有限公司,{known},昆山市,GR2,2024-01-11\n",    # same firm, in Kunshan: created
        f"3,苏州甲科技有限公司,{known},姑苏区,GR3,2024-01-12\n",    # the firm is in Kunshan now: fine
        f"4,苏州乙科技有限公司,{make_uscc('320508', serial=9121)},姑苏区,GR4,2024-01-10\n",  # refused
    ]
    results = {}
    for mode in ("per_row", "fast"):
        reset_registry()
        job = import_file(write(tmp_path, f"{mode}.csv", lines), kind="recognitions", user=user,
                          options={"tier": "hnte"}, per_row=mode == "per_row")
        results[mode] = report(job), snapshot()
    assert results["fast"] == results["per_row"]
    assert [e[0] for e in results["fast"][0][1] if e[3] != "warning"] == [3, 6]
    # line 5 imports (the firm is in Kunshan) but its 姑苏区 disagrees with its USCC's 昆山市: said, both named
    assert [(e[0], "320508" in e[2] and "320583" in e[2]) for e in results["fast"][0][1] if e[3] == "warning"] == \
        [(5, True)]


@postgres_only
@pytest.mark.django_db
def test_audit_of_recorded_recognitions_with_every_detail_and_a_non_iso_datestyle(tmp_path):
    """The fast path writes a recorded recognition's audit `changes` as JSON text: dates as their text
    (ISO forced for the job, whatever the session's DateStyle), the list's constant details serialised
    once. Same history as per row, with an authority needing JSON escapes, a batch and its year."""
    options = {"tier": "hnte", "authority": '江苏省"科技"厅\\高新处', "batch": "2024年第一批", "level": "provincial"}
    plain = [MIXED[0], MIXED[8], f"10,昆山辛科技有限公司,{make_uscc('320583', serial=9108)},昆山市,GR2024009,2024-06-30\n"]
    trails = {}
    for mode in ("per_row", "fast"):
        reset_registry()
        if mode == "fast":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL DateStyle = 'SQL, DMY'")  # a date would print as 10/01/2024
                cursor.execute("SELECT DATE '2024-01-10'::text")
                assert cursor.fetchone()[0] == "10/01/2024"
        job = import_file(write(tmp_path, f"{mode}.csv", plain), kind="recognitions", options=options,
                          per_row=mode == "per_row")
        assert (job.status, job.created) == ("succeeded", 3)
        trails[mode] = audit_trail()
    assert trails["fast"] == trails["per_row"]
    recorded = [e.changes for e in AuditEvent.objects.filter(action="record", model="certification")]
    first = next(c for c in recorded if c["certificate_no"] == "GR2024001")
    assert first["issued_on"] == "2024-01-10" and first["valid_until"] == "2027-01-09"
    assert (first["authority"], first["batch"], first["batch_year"], first["level"]) == (
        options["authority"], "2024年第一批", 2024, "provincial")
