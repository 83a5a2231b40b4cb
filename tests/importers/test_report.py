"""Import reports (issue 12): every problem of every row, twins, remarks, skipped lines and sheets,
job status, the command's summary and row report file, the rejected-rows download."""

import csv
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from importers.exports import REASON_HEADER, rejected_rows
from importers.models import JobStatus
from importers.readers import open_source
from importers.services import import_file
from registry.models import Certification, Firm, Role, RoleAssignment

pytestmark = pytest.mark.django_db

HNTE = {"tier": "hnte"}


@pytest.fixture
def master(data_dir):
    import_file(data_dir / "firms_master.csv", kind="firms")


@pytest.fixture
def twins(data_dir, master):
    return import_file(data_dir / "real_shapes" / "remarks_and_twins_like.csv", kind="recognitions", options=HNTE)


def problems(job):
    out = {}
    for e in job.row_errors.all():
        out.setdefault(e.line, []).append((e.field, e.code))
    return out


def test_every_problem_of_a_row_is_reported(twins):
    # line 4: a short USCC and no issue date — both, not just the first
    assert sorted(problems(twins)[4]) == [("issued_on", "required"), ("uscc", "invalid")]


def test_a_valid_row_is_not_dropped_as_the_twin_of_a_rejected_copy(twins):
    # line 5 (火星市) is rejected; line 6, the same firm and recognition in 昆山市, is imported
    assert [code for _, code in problems(twins)[5]] == ["unknown_region"]
    assert 6 not in problems(twins)
    assert Firm.objects.get(uscc="913205830000000X38").region_id == "320583"
    # line 7 repeats line 2, which was imported: that one is a duplicate
    assert problems(twins)[7] == [("", "duplicate")] and twins.duplicates == 1


def test_a_remark_in_the_first_column_with_a_valid_uscc_is_a_row(twins):
    firm = Firm.objects.get(uscc="913205830000000X25")
    assert firm.name == "昆山启辰智能科技有限公司"
    assert Certification.objects.filter(firm=firm, tier__code="hnte").exists()


def test_skipped_lines_and_status(twins):
    assert twins.skipped_lines == [["", 8, "blank"], ["", 9, "footnote"]]
    assert (twins.total, twins.created, twins.errors, twins.status) == (6, 3, 3, JobStatus.PARTIAL)


def test_hidden_and_tableless_sheets_are_listed_with_reasons(make_xlsx, master):
    path = make_xlsx({
        "名单": [["统一社会信用代码", "企业名称", "发证日期"], ["91320583LXGQHM9P5N", "昆山合力新能源科技有限公司", "2024-12-01"]],
        "旧名单": [["统一社会信用代码", "企业名称", "发证日期"], ["91320583E7Y6F6M7WC", "昆山微纳半导体科技有限公司", "2024-12-01"]],
        "说明": [["本表由区科技局汇总"]],
    })
    import openpyxl

    wb = openpyxl.load_workbook(path)
    wb["旧名单"].sheet_state = "hidden"
    wb.save(path)
    job = import_file(path, kind="recognitions", options=HNTE)
    assert (job.status, job.created) == (JobStatus.SUCCEEDED, 1)
    reasons = dict(job.skipped_sheets)
    assert set(reasons) == {"旧名单", "说明"} and "hidden" in reasons["旧名单"]


def test_a_job_where_every_row_failed_is_failed(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("企业名称,统一社会信用代码,所在地区\n甲公司,9132058,昆山市\n乙公司,123,昆山市\n", encoding="utf-8")
    job = import_file(path, kind="firms")
    assert (job.status, job.errors, job.row_errors.count()) == (JobStatus.FAILED, 2, 2)
    assert "Every row" in job.message


def test_command_prints_every_count_the_first_problems_and_how_many_more(data_dir, master, tmp_path, capsys):
    rows = ["企业名称,统一社会信用代码,所在地区"] + [f"坏公司{i},91320583{i:04d},昆山市" for i in range(30)]
    path = tmp_path / "many_bad.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    report = tmp_path / "report.csv"
    with pytest.raises(SystemExit) as exit_:
        call_command("import_list", str(path), "--kind", "firms", "--no-progress", "--report", str(report))
    assert exit_.value.code == 2  # every row failed
    out = capsys.readouterr().out
    assert "… and 10 more" in out and f"Row report: {report}" in out
    assert "pending" in out and "firms created" in out  # every count is shown
    with open(report, encoding="utf-8-sig") as fh:
        lines = list(csv.reader(fh))
    assert len(lines) == 31 and lines[1][1:3] == ["2", "rejected"]


def test_rejected_rows_come_back_in_the_files_layout_with_reasons(data_dir, master):
    job = import_file(data_dir / "bad_rows_example.csv", kind="recognitions", options=HNTE)
    filename, body, content_type = rejected_rows(job)
    assert filename == "bad_rows_example-rejected.csv" and content_type.startswith("text/csv")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == ["序号", "企业名称", "统一社会信用代码", "所在地区", "发证日期", "原行号 line", REASON_HEADER]
    assert [r[5] for r in rows[1:]] == ["4", "6", "8"]  # unknown region, duplicate, short code
    assert "火星市" in rows[1][6]
    # fixed and imported again: the two extra columns are not read
    fixed = body.decode("utf-8-sig").replace("火星市", "无锡市滨湖区").encode("utf-8")
    again = import_file(fixed, kind="recognitions", file_name="fixed.csv", options=HNTE)
    assert again.created == 1 and again.errors == 1  # the short code still fails, now alone


def test_rejected_rows_download_is_for_the_importer_only(data_dir, master):
    user = get_user_model().objects.create_user("ks", password="x")
    RoleAssignment.objects.create(user=user, role=Role.ADMIN)
    other = get_user_model().objects.create_user("wx", password="x")
    RoleAssignment.objects.create(user=other, role=Role.ANALYST)
    job = import_file(data_dir / "bad_rows_example.csv", kind="recognitions", user=user, options=HNTE)
    client = Client()
    assert client.get(f"/imports/{job.pk}/rejected").status_code == 302
    client.force_login(other)
    assert client.get(f"/imports/{job.pk}/rejected").status_code == 404
    client.force_login(user)
    response = client.get(f"/imports/{job.pk}/rejected")
    assert response.status_code == 200 and "bad_rows_example-rejected.csv" in response["Content-Disposition"]


def test_rejected_rows_of_a_workbook_keep_their_sheets(make_xlsx, master):
    path = make_xlsx({"昆山": [["企业名称", "统一社会信用代码", "发证日期"], ["甲", "9132058", "2024-12-01"]],
                      "江阴": [["企业名称", "统一社会信用代码", "发证日期"], ["乙", "91320281L8BWJ7PF8D", "2024/13/40"]]})
    job = import_file(path, kind="recognitions", options=HNTE)
    filename, body, _ = rejected_rows(job)
    assert filename == "book-rejected.xlsx"
    out = io.BytesIO(body)
    out.name = "x.xlsx"
    tables = list(open_source(out).tables(required=[("uscc", "name")]))
    assert [t.sheet for t in tables] == ["昆山", "江阴"]
