"""名单导入 page: upload with options and dry run, the report, import for real, the review queue,
the rejected-rows download; roles, other users' jobs, CSRF, form errors."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from importers.models import ImportJob, ImportReviewItem, ReviewReason, ReviewStatus
from registry.models import Certification, Firm, Role
from tests.factories import make_uscc
from tests.web.pages_data import BH, KS, client_for, pages_registry  # noqa: F401

pytestmark = pytest.mark.django_db
NEW_USCC = make_uscc(KS, serial=800001)


def small_list():
    return ("序号,企业名称,统一社会信用代码,所在地区,发证日期\n"
            f"1,昆山新材一号有限公司,{NEW_USCC},昆山市,2025-06-01\n"
            f"2,坏代码公司,{make_uscc(KS, serial=800002)[:-1]}Z,昆山市,2025-06-01\n"
            f"3,无锡外区公司,{make_uscc(BH, serial=800003)},无锡市滨湖区,2025-06-01\n"
            "4,昆山碳化硅材料有限公,,昆山市,2025-06-01\n").encode()


def upload(client, dry_run=True, **fields):
    data = {"kind": "recognitions", "stage": "tech_sme", "tier": "tech_sme",
            "file": SimpleUploadedFile("科小名单.csv", small_list(), content_type="text/csv"), **fields}
    if dry_run:
        data["dry_run"] = "on"
    return client.post(reverse("web:imports"), data)


def test_dry_run_report_then_import_for_real(pages_registry):
    officer, _ = client_for(Role.OFFICER, [KS])
    response = upload(officer)
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert job.dry_run and job.options == {"stage": "tech_sme", "tier": "tech_sme"}
    page = officer.get(response["Location"])
    body = page.content.decode()
    assert page.status_code == 200 and 'data-status="partial"' in body  # rows were rejected
    assert "out_of_scope" in body and "malformed" in body  # every problem, with its line
    assert not Firm.objects.filter(uscc=NEW_USCC).exists()  # a dry run writes nothing

    real = officer.post(reverse("web:import_job_rerun", args=[job.pk]))
    assert real.status_code == 302
    new = ImportJob.objects.exclude(pk=job.pk).get()
    assert not new.dry_run and new.created == 1
    assert Certification.objects.filter(firm__uscc=NEW_USCC, stage__code="tech_sme").count() == 1


def test_report_is_paged(pages_registry, monkeypatch):
    monkeypatch.setattr("web.views.imports.REPORT_PAGE", 1)
    officer, _ = client_for(Role.OFFICER, [KS])
    job_url = upload(officer)["Location"]
    first, second = officer.get(job_url), officer.get(job_url + "?page=2")
    assert [e.line for e in first.context["errors_page"]] != [e.line for e in second.context["errors_page"]]
    assert first.context["errors_page"].paginator.count == 2


def test_progress_panel_polls_while_running(pages_registry):
    officer, user = client_for(Role.OFFICER, [KS])
    from importers.services import create_job

    job = create_job(small_list(), kind="recognitions", user=user, options={"stage": "tech_sme", "tier": "tech_sme"},
                     file_name="x.csv")
    body = officer.get(reverse("web:import_job_progress", args=[job.pk])).content.decode()
    assert 'hx-trigger="every 1s"' in body
    from importers.services import run_job

    run_job(job)
    done = officer.get(reverse("web:import_job_progress", args=[job.pk]), {"was": "running"})
    assert "every 1s" not in done.content.decode() and done["HX-Refresh"] == "true"


def test_form_errors_name_the_field(pages_registry):
    officer, _ = client_for(Role.OFFICER, [KS])
    response = officer.post(reverse("web:imports"), {"kind": "recognitions"})
    assert response.status_code == 400 and 'data-field="file"' in response.content.decode()
    response = upload(officer, kind="nonsense")
    assert response.status_code == 400 and 'data-field="kind"' in response.content.decode()
    response = upload(officer, stage="hnte", tier="tech_sme")  # the importer's own option check
    assert response.status_code == 400 and 'data-field="tier"' in response.content.decode()
    response = upload(officer, issued_on="2025-13-45")
    assert response.status_code == 400 and 'data-field="issued_on"' in response.content.decode()
    assert not ImportJob.objects.exists()


def test_only_importing_roles_and_only_own_jobs(pages_registry):
    officer, _ = client_for(Role.OFFICER, [KS])
    job_url = upload(officer)["Location"]
    for role in (Role.ANALYST, Role.INVESTOR):
        other, _ = client_for(role)
        assert other.get(reverse("web:imports")).status_code == 403
        assert other.get(job_url).status_code == 403
    colleague, _ = client_for(Role.OFFICER, [KS], username="colleague")
    assert colleague.get(job_url).status_code == 404  # another user's job: as if it did not exist
    admin, _ = client_for(Role.ADMIN)
    assert admin.get(job_url).status_code == 200


def test_upload_needs_csrf(pages_registry):
    _, user = client_for(Role.OFFICER, [KS])
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post(reverse("web:imports"), {"kind": "recognitions",
                                                     "file": SimpleUploadedFile("a.csv", small_list())})
    assert response.status_code == 403 and not ImportJob.objects.exists()


def test_review_queue_accept_and_reject(pages_registry):
    officer, _ = client_for(Role.OFFICER, [KS])
    upload(officer, dry_run=False)
    item = ImportReviewItem.objects.get()
    assert item.reason == ReviewReason.FUZZY_NAME
    page = officer.get(reverse("web:import_review"))
    body = page.content.decode()
    assert "昆山碳化硅材料有限公" in body and pages_registry["ks1"].uscc in body  # row and candidate side by side
    response = officer.post(reverse("web:import_review_accept", args=[item.pk]), {})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == ReviewStatus.ACCEPTED
    assert Certification.objects.filter(firm=pages_registry["ks1"], stage__code="tech_sme", issued_on="2025-06-01").exists()
    again = officer.post(reverse("web:import_review_reject", args=[item.pk]), {"note": "x"}, follow=True)
    assert "已处理" in again.content.decode()
    item.refresh_from_db()
    assert item.status == ReviewStatus.ACCEPTED


def test_review_never_shows_a_candidate_of_another_district(pages_registry):
    officer, user = client_for(Role.OFFICER, [KS])
    upload(officer, dry_run=False)
    item = ImportReviewItem.objects.get()
    item.candidate_firm = pages_registry["bh1"]  # as an older importer might have matched
    item.save()
    body = officer.get(reverse("web:import_review")).content.decode()
    assert pages_registry["bh1"].uscc not in body and "无锡碳化硅" not in body
    response = officer.post(reverse("web:import_review_accept", args=[item.pk]), {})
    assert response.status_code == 400 and 'data-field="firm_uscc"' in response.content.decode()
    response = officer.post(reverse("web:import_review_accept", args=[item.pk]), {"firm_uscc": pages_registry["bh1"].uscc})
    assert response.status_code == 400 and "您的辖区内没有" in response.content.decode()
    item.refresh_from_db()
    assert item.status == ReviewStatus.PENDING
    colleague, _ = client_for(Role.OFFICER, [KS], username="colleague")
    assert colleague.post(reverse("web:import_review_reject", args=[item.pk])).status_code == 404


def test_rejected_rows_download_is_the_list_with_a_reason_column(pages_registry):
    officer, _ = client_for(Role.OFFICER, [KS])
    job_url = upload(officer)["Location"]
    job = ImportJob.objects.get()
    assert 'id="rejected-rows"' in officer.get(job_url).content.decode()
    response = officer.get(reverse("web:import_job_rejected", args=[job.pk]))
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''%E7%A7%91%E5%B0%8F%E5%90%8D%E5%8D%95-rejected.csv"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[:5] == ["序号", "企业名称", "统一社会信用代码", "所在地区", "发证日期"] and header[5:] == ["原行号 line", "错误原因 reason"]
    rejected = {row[1] for row in body}  # the rows that did not import, in the file's own layout, ready to fix
    assert "无锡外区公司" in rejected and "昆山新材一号有限公司" not in rejected
    colleague, _ = client_for(Role.OFFICER, [KS], username="colleague")
    assert colleague.get(reverse("web:import_job_rejected", args=[job.pk])).status_code == 404
