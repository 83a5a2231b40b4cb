"""Import jobs end to end: every sample with the README's hand-checked counts, bad input,
idempotency, dry runs, the review list and officer scope."""

import datetime
import io
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, connections

from importers.models import ImportJob, ImportReviewItem, JobStatus, ReviewStatus
from importers.services import ImportRefused, accept_review_item, create_job, import_file, reject_review_item, run_job
from registry.models import AuditEvent, Certification, Firm, IndicatorYear, PolicyTarget, Region, Role, RoleAssignment

pytestmark = pytest.mark.django_db

HNTE = {"tier": "hnte", "issued_on": "2024-12-01", "batch": "2024 第一批", "authority": "江苏省科技厅"}


def counts(job):
    return {k: getattr(job, k) for k in ("total", "created", "updated", "unchanged", "needs_review", "errors", "duplicates")}


def errors_by_line(job):
    out = {}
    for e in job.row_errors.all():
        out.setdefault(e.line, []).append((e.field, e.message))
    return out


@pytest.fixture
def master(data_dir):
    job = import_file(data_dir / "firms_master.csv", kind="firms")
    assert job.status == JobStatus.SUCCEEDED
    return job


def make_user(username, role, regions=()):
    user = get_user_model().objects.create_user(username, password="x")
    assignment = RoleAssignment.objects.create(user=user, role=role)
    assignment.regions.set(Region.objects.filter(code__in=regions))
    return user


# --- the samples --------------------------------------------------------------------------------


def test_firms_master_imports_120_firms_and_again_changes_nothing(data_dir, master):
    assert counts(master) == dict(total=120, created=120, updated=0, unchanged=0, needs_review=0, errors=0, duplicates=0)
    assert Firm.objects.count() == 120
    firm = Firm.objects.get(uscc="91320211DL8P3MR19U")
    assert firm.name == "无锡芯动生物科技有限公司" and firm.region_id == "320211" and str(firm.registered_capital) == "5000.00"
    audit_rows = AuditEvent.objects.count()
    again = import_file(data_dir / "firms_master.csv", kind="firms")
    assert counts(again) == dict(total=120, created=0, updated=0, unchanged=120, needs_review=0, errors=0, duplicates=0)
    assert AuditEvent.objects.count() == audit_rows


def test_hnte_list_gives_40_recognitions_with_no_errors(data_dir):
    job = import_file(data_dir / "hnte_2024_jiangsu_batch1.xlsx", kind="recognitions", options=HNTE)
    assert counts(job) == dict(total=40, created=40, updated=0, unchanged=0, needs_review=0, errors=0, duplicates=0)
    assert job.firms_created == 40  # the list is the authority that the firms exist
    certs = Certification.objects.filter(tier__code="hnte")
    assert certs.count() == 40
    cert = certs.get(certificate_no="GR202432000001")
    assert cert.valid_until == datetime.date(2027, 11, 30) and cert.batch_year == 2024
    assert cert.source_name == "hnte_2024_jiangsu_batch1.xlsx" and cert.source_row == 4
    assert cert.source_checksum == job.checksum and cert.import_job_id == job.pk
    assert Firm.objects.filter(current_stage__code="hnte").count() == 40


def test_same_list_twice_is_unchanged_and_a_corrected_file_updates_only_what_changed(data_dir, tmp_path):
    import_file(data_dir / "tech_sme_2025_kunshan.csv", kind="recognitions",
                options={"tier": "tech_sme", "issued_on": "2025-04-01"})
    again = import_file(data_dir / "tech_sme_2025_kunshan.csv", kind="recognitions",
                        options={"tier": "tech_sme", "issued_on": "2025-04-01"})
    assert counts(again) == dict(total=50, created=0, updated=0, unchanged=50, needs_review=0, errors=0, duplicates=0)
    assert Certification.objects.count() == 50
    # Correct one registration number's issue date by adding a column: only that row changes.
    text = (data_dir / "tech_sme_2025_kunshan.csv").read_bytes().decode("gb18030").splitlines()
    header, rows = text[0], text[1:]
    lines = [header + ",入库日期"] + [r + (",2025-05-06" if i == 0 else ",2025-04-01") for i, r in enumerate(rows)]
    corrected = tmp_path / "tech_sme_corrected.csv"
    corrected.write_bytes("\n".join(lines).encode("gb18030"))
    job = import_file(corrected, kind="recognitions", options={"tier": "tech_sme"})
    assert counts(job) == dict(total=50, created=0, updated=1, unchanged=49, needs_review=0, errors=0, duplicates=0)


def test_srdi_names_only_match_the_firms_already_in_the_registry(data_dir, master):
    job = import_file(data_dir / "srdi_little_giant_batch6.csv", kind="recognitions",
                      options={"tier": "srdi_little_giant", "issued_on": "2024-08-01"})
    assert counts(job) == dict(total=12, created=12, updated=0, unchanged=0, needs_review=0, errors=0, duplicates=0)
    assert job.firms_created == 0 and Firm.objects.count() == 120


def test_srdi_without_the_master_keeps_unknown_names_as_pending_rows(data_dir):
    # issue 12: an unknown name is not a failed row but one an officer resolves later
    job = import_file(data_dir / "srdi_little_giant_batch6.csv", kind="recognitions",
                      options={"tier": "srdi_little_giant", "issued_on": "2024-08-01"})
    assert (job.errors, job.pending, job.status) == (0, 12, JobStatus.PARTIAL)
    first = job.pending_rows.order_by("line").first()
    assert (first.line, first.name) == (2, "宜兴汇川光电科技股份有限公司")


def test_indicators_60_firms_by_2_years(data_dir, master):
    job = import_file(data_dir / "indicators_2023_2024.xlsx", kind="indicators")
    assert counts(job) == dict(total=120, created=120, updated=0, unchanged=0, needs_review=0, errors=0, duplicates=0)
    assert IndicatorYear.objects.values("firm").distinct().count() == 60
    assert set(IndicatorYear.objects.values_list("year", flat=True)) == {2023, 2024}
    row = IndicatorYear.objects.get(firm__uscc="913202825TH2HUCCPE", year=2024)
    assert str(row.revenue) == "3380.80" and row.revenue_growth == pytest.approx(3380.8 / 1968.8 - 1, abs=1e-6)
    again = import_file(data_dir / "indicators_2023_2024.xlsx", kind="indicators")
    assert again.unchanged == 120 and again.created == again.updated == 0


def test_gazelle_every_sheet_with_chinese_dates(data_dir):
    job = import_file(data_dir / "gazelle_suzhou_2024.xlsx", kind="recognitions", options={"tier": "gazelle_municipal"})
    assert counts(job) == dict(total=16, created=16, updated=0, unchanged=0, needs_review=0, errors=0, duplicates=0)
    assert set(Certification.objects.values_list("issued_on", flat=True)) == {datetime.date(2024, 11, 5)}
    # One sheet per district: the firm's region comes from the sheet name.
    assert Firm.objects.filter(region_id="320583").count() == 3


def test_policy_targets_import_as_is(data_dir):
    job = import_file(data_dir / "policy_targets.csv", kind="targets")
    assert counts(job) == dict(total=26, created=26, updated=0, unchanged=0, needs_review=0, errors=0, duplicates=0)
    assert PolicyTarget.objects.filter(kind="stock").count() == 14
    assert PolicyTarget.objects.filter(kind="flow").count() == 12
    assert PolicyTarget.objects.filter(tier__isnull=True).count() == 14
    flow = PolicyTarget.objects.get(region_id="320214", stage__code="unicorn", kind="flow")
    assert (flow.start_year, flow.year, flow.target) == (2025, 2029, 50)
    assert import_file(data_dir / "policy_targets.csv", kind="targets").unchanged == 26


def test_bad_rows_report_with_file_line_numbers(data_dir, master):
    job = import_file(data_dir / "bad_rows_example.csv", kind="recognitions", options={"tier": "hnte"})
    # rows 1, 4, 8 (lines 2, 5, 9) import; row 2 (line 3) review; 3 and 7 (lines 4, 8) errors;
    # row 5 (line 6) duplicate; row 6 (line 7) blank and skipped.
    assert counts(job) == dict(total=7, created=3, updated=0, unchanged=0, needs_review=1, errors=3, duplicates=1)
    assert job.skipped == 1
    errors = errors_by_line(job)
    assert set(errors) == {4, 6, 8}
    assert errors[4] == [("region", "Unknown region “火星市” (not a district, city or park name we know).")]
    assert "Duplicate of line 2" in errors[6][0][1]
    assert {f for f, _ in errors[8]} == {"uscc", "issued_on"}
    assert any("9132058" in m for _, m in errors[8]) and any("2024/13/40" in m for _, m in errors[8])
    review = job.review_items.get()
    assert (review.line, review.reason, review.status) == (3, "checksum", "pending")
    issued = set(Certification.objects.values_list("source_row", "issued_on"))
    assert issued == {(2, datetime.date(2024, 3, 5)), (5, datetime.date(2024, 3, 5)), (9, datetime.date(2024, 3, 5))}


def test_bad_check_digit_is_accepted_only_by_an_administrator_with_a_reason(data_dir):
    job = import_file(data_dir / "bad_rows_example.csv", kind="recognitions", options={"tier": "hnte"})
    item = job.review_items.get()
    officer = make_user("officer", Role.OFFICER, ["320200"])
    with pytest.raises(ImportRefused, match="administrator"):
        accept_review_item(item, officer, override_reason="checked the paper certificate")
    admin = get_user_model().objects.create_superuser("boss", password="x")
    with pytest.raises(ImportRefused, match="override reason"):
        accept_review_item(item, admin)
    assert accept_review_item(item, admin, override_reason="checked the paper certificate") == "created"
    firm = Firm.objects.get(uscc="913202116J81J37T60")
    assert firm.uscc_override_reason == "checked the paper certificate" and firm.uscc_override_by == admin
    item.refresh_from_db()
    assert item.status == ReviewStatus.ACCEPTED and item.decided_by == admin
    assert Certification.objects.filter(firm=firm, tier__code="hnte").count() == 1


def test_fuzzy_name_goes_to_review_and_is_never_merged(master, tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("序号,企业名称\n1,无锡芯动生物科技股份有限公司\n2,昆山从未出现过的某某公司\n", encoding="utf-8")
    job = import_file(path, kind="recognitions", options={"tier": "srdi_little_giant", "issued_on": "2024-08-01"})
    assert job.needs_review == 1 and job.pending == 1 and job.errors == 0 and job.created == 0
    item = job.review_items.get()
    assert item.reason == "fuzzy_name" and item.candidate_firm.uscc == "91320211DL8P3MR19U" and item.score >= 85
    assert Certification.objects.count() == 0
    officer = make_user("wx", Role.OFFICER, ["320200"])
    assert accept_review_item(item, officer) == "created"
    assert Certification.objects.get().firm.uscc == "91320211DL8P3MR19U"
    other = ImportReviewItem.objects.create(job=job, line=9, reason="fuzzy_name", message="x", values={})
    reject_review_item(other, officer, "different firm")
    other.refresh_from_db()
    assert other.status == ReviewStatus.REJECTED


def test_dry_run_reports_the_same_and_writes_nothing(data_dir, master):
    before = (Certification.objects.count(), Firm.objects.count(), AuditEvent.objects.count())
    dry = import_file(data_dir / "bad_rows_example.csv", kind="recognitions", options={"tier": "hnte"}, dry_run=True)
    assert (Certification.objects.count(), Firm.objects.count(), AuditEvent.objects.count()) == before
    assert dry.review_items.count() == 0
    real = import_file(data_dir / "bad_rows_example.csv", kind="recognitions", options={"tier": "hnte"})
    assert counts(dry) == counts(real)
    assert errors_by_line(dry) == errors_by_line(real)


def test_a_failed_import_leaves_the_registry_as_it_was(data_dir, monkeypatch):
    from registry.services import bulk

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(bulk, "bulk_record_certifications", explode)
    job = import_file(data_dir / "hnte_2024_jiangsu_batch1.xlsx", kind="recognitions", options=HNTE)
    assert job.status == JobStatus.FAILED and "disk full" in job.message
    assert Firm.objects.count() == 0 and Certification.objects.count() == 0


def test_officers_import_only_into_their_regions_and_analysts_not_at_all(data_dir):
    officer = make_user("ks", Role.OFFICER, ["320583"])
    job = import_file(data_dir / "gazelle_suzhou_2024.xlsx", kind="recognitions", user=officer,
                      options={"tier": "gazelle_municipal"})
    assert job.created == 3 and job.errors == 13
    assert all(e.code == "out_of_scope" for e in job.row_errors.all())
    analyst = make_user("an", Role.ANALYST)
    with pytest.raises(ImportRefused, match="officers and administrators"):
        create_job(data_dir / "policy_targets.csv", kind="targets", user=analyst)


# --- bad files -----------------------------------------------------------------------------------


def failed(path, kind="recognitions", **options):
    job = import_file(path, kind=kind, options=options or {"tier": "hnte", "issued_on": "2024-01-01"})
    assert job.status == JobStatus.FAILED
    return job.message


def test_wrong_encoding_is_refused(tmp_path):
    path = tmp_path / "utf16.csv"
    path.write_bytes("企业名称,统一社会信用代码\n某公司,91320211DL8P3MR19U\n".encode("utf-16"))
    assert "UTF-16" in failed(path) or "encoding" in failed(path).lower()


def test_missing_required_column_names_the_columns_found(tmp_path):
    path = tmp_path / "nocode.csv"
    path.write_text("序号,发证日期,所在地区\n1,2024-01-01,昆山市\n", encoding="utf-8")
    message = failed(path, kind="firms")
    assert "发证日期" in message and "所在地区" in message


def test_header_on_row_4_and_blank_rows(tmp_path, make_xlsx):
    path = make_xlsx({"名单": [
        ["2024年度高新技术企业名单"], [None], ["单位：家"],
        ["序号", "企业名称", "统一社会信用代码", "所在地区"],
        [1, "无锡芯动生物科技有限公司", "91320211DL8P3MR19U", "无锡市滨湖区"],
        [None, None, None, None],
        [2, "苏州鼎新医疗器械有限公司", "91320506Y1Q81FTUQE", "苏州市吴中区"],
    ]})
    job = import_file(path, kind="recognitions", options={"tier": "hnte", "issued_on": "2024-12-01"})
    assert job.created == 2 and job.errors == 0 and job.skipped == 1
    assert sorted(Certification.objects.values_list("source_row", flat=True)) == [5, 7]


def test_excel_serial_and_chinese_dates(tmp_path):
    path = tmp_path / "dates.csv"
    path.write_text("企业名称,统一社会信用代码,所在地区,发证日期\n"
                    "无锡芯动生物科技有限公司,91320211DL8P3MR19U,无锡市滨湖区,45356\n"
                    "苏州鼎新医疗器械有限公司,91320506Y1Q81FTUQE,苏州市吴中区,2024年3月5日\n", encoding="utf-8")
    job = import_file(path, kind="recognitions", options={"tier": "hnte"})
    assert job.created == 2
    assert set(Certification.objects.values_list("issued_on", flat=True)) == {datetime.date(2024, 3, 5)}


@pytest.mark.parametrize("content, phrase", [
    (b"%PDF-1.4 not a table", "PDF"),
    (b"", "empty"),
    (b"PK\x03\x04\x14\x00\x00\x00truncated", "XLSX"),
])
def test_not_a_table_empty_and_truncated_files(tmp_path, content, phrase):
    path = tmp_path / "upload.xlsx"
    path.write_bytes(content)
    assert phrase.lower() in failed(path).lower()


def test_truncated_real_xlsx(tmp_path, data_dir):
    data = (data_dir / "gazelle_suzhou_2024.xlsx").read_bytes()
    path = tmp_path / "cut.xlsx"
    path.write_bytes(data[: len(data) // 2])
    assert failed(path)


def test_oversized_upload_is_refused_with_the_limit_named(settings, data_dir):
    settings.IMPORT_MAX_UPLOAD_BYTES = 1000
    with pytest.raises(ImportRefused, match="1,000 bytes"):
        create_job(data_dir / "firms_master.csv", kind="firms")
    with pytest.raises(ImportRefused, match="IMPORT_MAX_UPLOAD_BYTES"):
        create_job(io.BytesIO(b"x" * 5000), kind="firms", file_name="big.csv")
    assert ImportJob.objects.count() == 0


def test_unknown_options_are_refused():
    with pytest.raises(ImportRefused, match="Unknown tier"):
        create_job(b"a,b\n", kind="recognitions", options={"tier": "nope"}, file_name="x.csv")
    with pytest.raises(ImportRefused, match="Unknown import kind"):
        create_job(b"a,b\n", kind="people", file_name="x.csv")


# --- the three doors -----------------------------------------------------------------------------


def test_command_prints_a_summary_and_exits_non_zero_on_review(data_dir, master, capsys):
    with pytest.raises(SystemExit) as exit_:
        call_command("import_list", str(data_dir / "bad_rows_example.csv"), "--kind", "recognitions", "--tier", "hnte",
                     "--no-progress")
    assert exit_.value.code == 1
    out = capsys.readouterr().out
    assert "line 4 region" in out and "review: line 3" in out
    call_command("import_list", str(data_dir / "policy_targets.csv"), "--kind", "targets", "--dry-run", "--no-progress")
    assert PolicyTarget.objects.count() == 0


def test_celery_task_runs_the_job_and_keeps_the_file(data_dir, settings):
    from importers.tasks import run_import

    job = create_job(data_dir / "policy_targets.csv", kind="targets")
    assert str(settings.VAR_DIR) in job.file_path and len(job.checksum) == 64
    assert run_import.delay(job.pk).get() == "succeeded"
    job.refresh_from_db()
    assert (job.status, job.processed, job.created) == ("succeeded", 26, 26)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="progress on a second connection is PostgreSQL's")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_progress_shows_outside_the_job_and_its_connection_is_closed_after(data_dir):
    """importJob reads the counts while the job's transaction is open; the side connection that writes
    them lives as long as the job (a leaked one kept the test database busy at teardown). Transactional:
    the other sessions must see the job row; serialized_rollback brings back the regions the migrations
    seeded, which the flush after a transactional test removes."""

    def sessions():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
            return cursor.fetchone()[0]

    seen = []

    def peek(run):  # another session's view of the job row, mid-run
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT processed FROM importers_importjob WHERE id = %s", [run.job.pk])
                seen.append(cursor.fetchone()[0])
        finally:
            other.close()

    before = sessions()
    job = import_file(data_dir / "firms_master.csv", kind="firms", progress=peek)
    assert job.status == JobStatus.SUCCEEDED and job.processed > 0
    assert seen and seen[-1] == job.processed
    deadline = time.monotonic() + 60  # a closed connection's server process ends a moment later; a cap, not a bound
    while sessions() != before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sessions() == before
