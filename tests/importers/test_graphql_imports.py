"""startImport (multipart upload or base64) and importJob over HTTP."""

import base64
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from registry.models import ApiToken, Certification, Region, Role, RoleAssignment

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.importers.upload_urls")]

START = """mutation Start($kind: String!, $file: Upload, $b64: String, $name: String, $tier: String, $dry: Boolean) {
  startImport(kind: $kind, file: $file, fileBase64: $b64, fileName: $name, tier: $tier, dryRun: $dry) {
    importJob { id status total processed created updated unchanged needsReview errors { row field message } }
    errors { field message }
  }
}"""
JOB = "query($id: ID!) { importJob(id: $id) { status total created errors { row field message } reviewItems { row reason } } }"


def user_with(username, role, regions=()):
    user = get_user_model().objects.create_user(username, password="x")
    assignment = RoleAssignment.objects.create(user=user, role=role)
    assignment.regions.set(Region.objects.filter(code__in=regions))
    return user


def post(client, query, variables, path="/graphql"):
    response = client.post(path, data=json.dumps({"query": query, "variables": variables}),
                           content_type="application/json")
    return response.status_code, response.json()


def test_base64_upload_reports_rows_and_import_job_reads_it_back(data_dir):
    officer = user_with("js", Role.OFFICER, ["320000"])
    client = Client()
    client.force_login(officer)
    data = base64.b64encode((data_dir / "bad_rows_example.csv").read_bytes()).decode()
    status, body = post(client, START, {"kind": "recognitions", "b64": data, "name": "bad_rows_example.csv", "tier": "hnte"})
    assert status == 200, body
    result = body["data"]["startImport"]
    assert result["errors"] == []
    job = result["importJob"]
    assert (job["status"], job["total"], job["created"], job["needsReview"]) == ("PARTIAL", 7, 3, 1)  # rows rejected
    assert {e["row"] for e in job["errors"]} == {4, 6, 8}
    status, body = post(client, JOB, {"id": job["id"]})
    assert body["data"]["importJob"]["reviewItems"] == [{"row": 3, "reason": "checksum"}]
    # Another user does not see the job.
    other = Client()
    other.force_login(user_with("other", Role.OFFICER, ["320500"]))
    assert post(other, JOB, {"id": job["id"]})[1]["data"]["importJob"] is None


def test_multipart_upload_with_a_token(data_dir):
    admin = get_user_model().objects.create_superuser("boss", password="x")
    _, key = ApiToken.issue(admin)
    operations = {"query": START, "variables": {"kind": "recognitions", "file": None, "tier": "hnte"}}
    upload = SimpleUploadedFile("hnte.xlsx", (data_dir / "hnte_2024_jiangsu_batch1.xlsx").read_bytes())
    client = Client()
    response = client.post("/graphql/upload", data={
        "operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]}), "0": upload,
    }, HTTP_AUTHORIZATION=f"Token {key}")
    body = response.json()
    assert response.status_code == 200, body
    job = body["data"]["startImport"]["importJob"]
    # No issue date given: every row says so, nothing is written.
    assert job["total"] == 40 and job["created"] == 0 and job["errors"][0]["field"] == "issued_on"
    assert Certification.objects.count() == 0


def test_analysts_cannot_import_and_oversized_files_are_refused(settings, data_dir):
    analyst = user_with("an", Role.ANALYST)
    client = Client()
    client.force_login(analyst)
    data = base64.b64encode(b"a,b\n1,2\n").decode()
    result = post(client, START, {"kind": "firms", "b64": data, "name": "x.csv"})[1]["data"]["startImport"]
    assert result["importJob"] is None and "officers and administrators" in result["errors"][0]["message"]
    settings.IMPORT_MAX_UPLOAD_BYTES = 100
    admin = get_user_model().objects.create_superuser("boss", password="x")
    client.force_login(admin)
    data = base64.b64encode((data_dir / "firms_master.csv").read_bytes()).decode()
    result = post(client, START, {"kind": "firms", "b64": data, "name": "f.csv"})[1]["data"]["startImport"]
    assert result["importJob"] is None and "100 bytes" in result["errors"][0]["message"]
    upload = SimpleUploadedFile("f.csv", (data_dir / "firms_master.csv").read_bytes())
    operations = {"query": START, "variables": {"kind": "firms", "file": None}}
    body = client.post("/graphql/upload", data={"operations": json.dumps(operations),
                                                 "map": json.dumps({"0": ["variables.file"]}), "0": upload}).json()
    assert "IMPORT_MAX_UPLOAD_BYTES" in body["data"]["startImport"]["errors"][0]["message"]


def test_malformed_multipart_request_is_a_400():
    admin = get_user_model().objects.create_superuser("boss", password="x")
    client = Client()
    client.force_login(admin)
    response = client.post("/graphql/upload", data={"operations": json.dumps({"query": START, "variables": {}}),
                                                     "map": json.dumps({"0": ["variables.file"]})})
    assert response.status_code == 400 and "missing" in response.content.decode()


ACCEPT = """mutation($id: ID!, $reason: String, $uscc: String) {
  acceptReviewItem(id: $id, overrideReason: $reason, firmUscc: $uscc) { outcome reviewItem { status } errors { field message } }
}"""
REJECT = """mutation($id: ID!, $note: String) {
  rejectReviewItem(id: $id, note: $note) { reviewItem { status } errors { field message } }
}"""


def start(client, data_dir):
    data = base64.b64encode((data_dir / "bad_rows_example.csv").read_bytes()).decode()
    body = post(client, START, {"kind": "recognitions", "b64": data, "name": "bad_rows_example.csv", "tier": "hnte"})[1]
    job = body["data"]["startImport"]["importJob"]
    from importers.models import ImportReviewItem

    return ImportReviewItem.objects.get(job_id=job["id"])


def test_review_items_are_decided_by_their_officer_and_checksums_by_an_administrator(data_dir):
    officer = Client()
    officer.force_login(user_with("js", Role.OFFICER, ["320000"]))
    item = start(officer, data_dir)
    answer = post(officer, ACCEPT, {"id": item.id, "reason": "seen the certificate"})[1]["data"]["acceptReviewItem"]
    assert answer["outcome"] is None and "administrator" in answer["errors"][0]["message"]
    for who in (user_with("other", Role.OFFICER, ["320000"]), user_with("an", Role.ANALYST, ["320000"])):
        stranger = Client()
        stranger.force_login(who)
        answer = post(stranger, REJECT, {"id": item.id})[1]["data"]["rejectReviewItem"]
        assert answer["errors"] == [{"field": "id", "message": "No such review item for you."}]
    answer = post(officer, REJECT, {"id": item.id, "note": "typo in the list"})[1]["data"]["rejectReviewItem"]
    assert answer == {"reviewItem": {"status": "rejected"}, "errors": []}
    answer = post(officer, REJECT, {"id": item.id})[1]["data"]["rejectReviewItem"]
    assert "already rejected" in answer["errors"][0]["message"]

    admin = Client()
    admin.force_login(get_user_model().objects.create_superuser("boss", password="x"))
    item = start(admin, data_dir)
    answer = post(admin, ACCEPT, {"id": item.id})[1]["data"]["acceptReviewItem"]
    assert answer["errors"][0]["field"] == "overrideReason"
    answer = post(admin, ACCEPT, {"id": item.id, "reason": "seen the certificate"})[1]["data"]["acceptReviewItem"]
    assert answer == {"outcome": "created", "reviewItem": {"status": "accepted"}, "errors": []}
    item.refresh_from_db()
    assert Certification.objects.filter(firm__uscc=item.values["uscc"]).exists()
