"""GraphQL over import reports: errors paged (errorPage, old `errors` kept), skipped lines and sheets,
the rejected-rows link, and pending rows resolved by mutation within the officer's regions."""

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from importers.models import PendingStatus
from importers.services import import_file
from registry.models import Certification, Firm, Region, Role, RoleAssignment

pytestmark = pytest.mark.django_db

PAGE = """query($id: ID!, $after: String) { importJob(id: $id) {
  status pending rejectedRowsUrl errors(first: 1) { row }
  errorPage(first: 2, after: $after) { totalCount edges { node { row field code message } } pageInfo { hasNextPage endCursor } }
  skippedLines { row reason } skippedSheets { sheet reason }
} }"""
PENDING = """{ importPendingRows { totalCount edges { node { id row name status jobId } } } }"""
ATTACH = """mutation($id: ID!, $uscc: String!) { attachPendingRow(id: $id, firmUscc: $uscc) {
  outcome pendingRow { status firmUscc } errors { field message } } }"""
CREATE = """mutation($id: ID!, $uscc: String!) { createFirmForPendingRow(id: $id, uscc: $uscc) {
  outcome pendingRow { status firmUscc } errors { field message } } }"""


def user_with(username, role, regions=()):
    user = get_user_model().objects.create_user(username, password="x")
    RoleAssignment.objects.create(user=user, role=role).regions.set(Region.objects.filter(code__in=regions))
    return user


def gql(client, query, **variables):
    response = client.post("/graphql", data=json.dumps({"query": query, "variables": variables}),
                           content_type="application/json")
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


@pytest.fixture
def master(data_dir):
    import_file(data_dir / "firms_master.csv", kind="firms")


def test_error_page_pages_through_every_problem(data_dir, master):
    officer = user_with("js", Role.OFFICER, ["320000"])
    job = import_file(data_dir / "real_shapes" / "remarks_and_twins_like.csv", kind="recognitions", user=officer,
                      options={"tier": "hnte"})
    client = Client()
    client.force_login(officer)
    first = gql(client, PAGE, id=job.pk)["importJob"]
    assert first["status"] == "PARTIAL" and first["rejectedRowsUrl"] == f"/imports/{job.pk}/rejected"
    assert first["errors"] == [{"row": 4}]  # the old list field still answers
    page = first["errorPage"]
    assert page["totalCount"] == 4 and page["pageInfo"]["hasNextPage"]
    seen = [(e["node"]["row"], e["node"]["code"]) for e in page["edges"]]
    after = gql(client, PAGE, id=job.pk, after=page["pageInfo"]["endCursor"])["importJob"]["errorPage"]
    seen += [(e["node"]["row"], e["node"]["code"]) for e in after["edges"]]
    assert not after["pageInfo"]["hasNextPage"]
    assert seen == [(4, "invalid"), (4, "required"), (5, "unknown_region"), (7, "duplicate")]
    assert first["skippedLines"] == [{"row": 8, "reason": "blank"}, {"row": 9, "reason": "footnote"}]


def test_pending_rows_are_listed_and_resolved_by_mutation_within_scope(data_dir, master):
    kunshan = user_with("ks", Role.OFFICER, ["320583"])
    other = user_with("jy", Role.OFFICER, ["320281"])
    job = import_file(data_dir / "real_shapes" / "unicorn_names_like.csv", kind="recognitions", user=kunshan,
                      options={"tier": "unicorn", "issued_on": "2024-06-30"})
    client = Client()
    client.force_login(other)
    assert gql(client, PENDING)["importPendingRows"]["totalCount"] == 0  # not their import
    client.force_login(kunshan)
    rows = {e["node"]["name"]: e["node"] for e in gql(client, PENDING)["importPendingRows"]["edges"]}
    assert {"星河量子", "云深量子"} <= set(rows) and rows["星河量子"]["jobId"] == str(job.pk)
    # a firm outside the officer's regions: refused, and nothing about it is said
    refused = gql(client, ATTACH, id=rows["星河量子"]["id"], uscc="91320281L8BWJ7PF8D")["attachPendingRow"]
    assert refused["outcome"] is None and "outside the regions" in refused["errors"][0]["message"]
    assert "江阴" not in refused["errors"][0]["message"]
    done = gql(client, ATTACH, id=rows["星河量子"]["id"], uscc="91320583E7Y6F6M7WC")["attachPendingRow"]
    assert done == {"outcome": "created", "pendingRow": {"status": "ATTACHED", "firmUscc": "91320583E7Y6F6M7WC"},
                    "errors": []}
    assert Certification.objects.filter(firm__uscc="91320583E7Y6F6M7WC", tier__code="unicorn").exists()
    made = gql(client, CREATE, id=rows["微纳芯"]["id"], uscc="913205830000000X6H")["createFirmForPendingRow"]
    assert made["pendingRow"] == {"status": "CREATED", "firmUscc": "913205830000000X6H"}
    assert Firm.objects.get(uscc="913205830000000X6H").name == "微纳芯"
    assert job.pending_rows.filter(status=PendingStatus.PENDING).count() == len(rows) - 2
