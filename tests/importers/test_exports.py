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


def make_role_user(username, role):
    user = get_user_model().objects.create_user(username, password="x")
    RoleAssignment.objects.create(user=user, role=role)
    return user


@pytest.mark.urls("tests.importers.upload_urls")
def test_an_investor_gets_no_candidate_list_as_graphql_refuses_it(registry):
    """Candidates show internal figures (score, revenue gaps): GraphQL's `candidates` refuses investors, so does this."""
    investor = make_role_user("vc", Role.INVESTOR)
    client = Client()
    client.force_login(investor)
    response = client.get("/exports/candidates.csv?stage=srdi")
    assert response.status_code == 403
    assert response.content.decode() == "The candidates export is not available to the investor role."
    assert client.get("/exports/firms.csv").status_code == 200  # firm profiles are public to investors
    analyst = make_role_user("an", Role.ANALYST)
    client.force_login(analyst)
    assert client.get("/exports/candidates.csv?stage=srdi").status_code == 200


def test_unmet_criteria_are_sentences_not_python_dicts(registry):
    admin = get_user_model().objects.create_superuser("boss", password="x")
    rows = list(csv.reader(io.StringIO(export("candidates", admin, "csv", stage="gazelle").decode("utf-8-sig"))))
    unmet = [r[5] for r in rows[1:] if r[3] == "否"]
    assert unmet and all(cell for cell in unmet)
    assert not any("{" in cell or "'criterion'" in cell or "'text'" in cell for cell in unmet), unmet[:3]
    from registry.eligibility.candidates import find_candidates
    first = find_candidates("gazelle", user=admin, first=100).items
    expected = {c.firm.uscc: "\n".join(u["text"] for u in c.unmet) for c in first if not c.eligible}
    assert {r[0]: r[5] for r in rows[1:] if r[0] in expected} == expected


def csv_rows(response):
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


@pytest.mark.urls("tests.importers.upload_urls")
def test_exports_come_in_pages_and_say_so(registry, settings):
    settings.EXPORT_PAGE_ROWS = 10
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("boss", password="x"))
    seen = []
    for page in range(1, 6):
        response = client.get(f"/exports/firms.csv?page={page}")
        assert response.status_code == 200
        assert (response["X-Page"], response["X-Page-Count"], response["X-Total-Count"]) == (str(page), "5", "41")
        assert f"-page{page}of5.csv" in response["Content-Disposition"]
        assert ("Link" in response) == (page < 5)
        rows = csv_rows(response)
        assert rows[0][0].startswith("统一社会信用代码")
        seen += [r[0] for r in rows[1:]]
    assert response.get("Link") is None
    assert len(seen) == 41 and len(set(seen)) == 41  # every firm once: nothing cut, nothing twice
    assert client.get("/exports/firms.csv").get("Link") == '</exports/firms.csv?page=2>; rel="next"'
    too_far = client.get("/exports/firms.csv?page=6")
    assert too_far.status_code == 400 and "has 5 page(s) of up to 10 rows" in too_far.content.decode()


@pytest.mark.urls("tests.importers.upload_urls")
def test_exports_accept_api_tokens_like_graphql(registry):
    from registry.models import ApiToken

    _, key = ApiToken.issue(officer(["320583"]), name="script")
    for keyword in ("Bearer", "Token"):
        response = Client().get("/exports/firms.csv", HTTP_AUTHORIZATION=f"{keyword} {key}")
        assert response.status_code == 200
        assert {r[2] for r in csv_rows(response)[1:]} == {"320583"}
    refused = Client().get("/exports/firms.csv", HTTP_AUTHORIZATION="Bearer not-a-key")
    assert refused.status_code == 401 and refused.content.decode() == "Invalid or revoked API token."
