"""Exports: formula injection neutralised, role scope respected, CSV and XLSX readable."""

import csv
import io

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from importers.exports import export, safe_cell
from importers.services import import_file
from registry.models import Region, Role, RoleAssignment
from registry.services import upsert_firm
from tests.factories import make_uscc

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value, expected", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"), ("+1", "'+1"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("苏州智源", "苏州智源"), (None, ""), (12, 12),
])
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


@pytest.fixture
def registry(data_dir):
    import_file(data_dir / "hnte_2024_jiangsu_batch1.xlsx", kind="recognitions",
                options={"tier": "hnte", "issued_on": "2024-12-01"})
    upsert_firm(make_uscc("320583", serial=777), name="=cmd|' /C calc'!A0", region="320583")


def officer(regions):
    user = get_user_model().objects.create_user("ks", password="x")
    RoleAssignment.objects.create(user=user, role=Role.OFFICER).regions.set(Region.objects.filter(code__in=regions))
    return user


def test_csv_export_is_formula_safe_and_scoped(registry):
    admin = get_user_model().objects.create_superuser("boss", password="x")
    rows = list(csv.reader(io.StringIO(export("firms", admin, "csv").decode("utf-8-sig"))))
    assert len(rows) == 1 + 41
    assert ["'=cmd|' /C calc'!A0"] == [r[1] for r in rows if "calc" in r[1]]
    mine = list(csv.reader(io.StringIO(export("firms", officer(["320583"]), "csv").decode("utf-8-sig"))))
    assert {r[2] for r in mine[1:]} == {"320583"}
    certs = list(csv.reader(io.StringIO(export("recognitions", admin, "csv", stage="hnte").decode("utf-8-sig"))))
    assert len(certs) == 41 and certs[1][4] == "hnte"


def test_xlsx_export_and_command(registry, tmp_path):
    out = tmp_path / "firms.xlsx"
    call_command("export", "firms", "--format", "xlsx", "--out", str(out))
    ws = openpyxl.load_workbook(out).active
    values = [row[1] for row in ws.iter_rows(min_row=2, values_only=True)]
    assert "'=cmd|' /C calc'!A0" in values and len(values) == 41
    assert all(not (isinstance(v, str) and v.startswith("=")) for v in values)


@pytest.mark.urls("tests.importers.upload_urls")
def test_export_view_needs_a_signed_in_user_with_a_role(registry):
    client = Client()
    assert client.get("/exports/firms.csv").status_code == 302
    client.force_login(officer(["320583"]))
    response = client.get("/exports/recognitions.xlsx")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxml")
    assert client.get("/exports/people.csv").status_code == 400


def test_candidate_list_export_runs_on_the_candidate_finder(registry):
    admin = get_user_model().objects.create_superuser("boss", password="x")
    rows = list(csv.reader(io.StringIO(export("candidates", admin, "csv", stage="srdi").decode("utf-8-sig"))))
    assert rows[0][0].startswith("统一社会信用代码")
    with pytest.raises(ValueError, match="target stage"):
        export("candidates", admin, "csv")
