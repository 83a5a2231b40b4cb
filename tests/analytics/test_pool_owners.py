"""Who may own a pool entry (registry.pool.possible_owners / owner_for), and the same rule through the API."""

import pytest
from django.core.exceptions import ValidationError

from registry.models import CultivationEntry, Role
from registry.pool import owner_for, possible_owners
from registry.services.cultivation import add_to_cultivation_pool, update_cultivation_entry
from tests.analytics.test_graphql import ADD
from tests.api_graphql.conftest import make_user
from tests.factories import FirmFactory

pytestmark = pytest.mark.django_db

OWNER = """mutation($id: ID!, $owner: String) {
  updateCultivationEntry(id: $id, owner: $owner) {
    errors { field message } entry { owner notes { text } } } }"""


@pytest.fixture
def people(officer, city_officer, wuxi_officer, admin, analyst):
    """ks_officer (昆山), sz_officer (苏州市: covers 昆山), bh_officer (滨湖, Wuxi), an admin, an analyst,
    a superuser without a role, an inactive 昆山 officer."""
    root = make_user("root", is_superuser=True)
    gone = make_user("gone_officer", Role.OFFICER, regions=["320583"])
    gone.is_active = False
    gone.save()
    return {"ks": officer, "sz": city_officer, "bh": wuxi_officer, "admin": admin, "analyst": analyst, "root": root,
            "gone": gone}


def test_possible_owners_are_the_regions_officers_and_the_admins(people):
    ks_firm = FirmFactory()
    bh_firm = FirmFactory(region_id="320211")
    owners = possible_owners([ks_firm.region, bh_firm.region])
    assert [u.username for u in owners["320583"]] == ["admin", "ks_officer", "root", "sz_officer"]
    assert [u.username for u in owners["320211"]] == ["admin", "bh_officer", "root"]


def test_owner_for_refuses_other_districts_and_unknown_users_alike(people):
    firm = FirmFactory()
    assert owner_for(firm, "sz_officer") == people["sz"]
    assert owner_for(firm, "  ") is None
    messages = []
    for username in ("bh_officer", "analyst", "gone_officer", "nobody"):
        with pytest.raises(ValidationError) as problem:
            owner_for(firm, username)
        assert list(problem.value.message_dict) == ["owner"]
        messages.append(problem.value.message_dict["owner"][0].replace(username, "X"))
    assert len(set(messages)) == 1  # an existing user of another district reads like a missing one


def test_a_new_owner_is_written_to_the_entrys_history(people):
    firm = FirmFactory()
    entry = add_to_cultivation_pool(firm, "hnte", None, 2026, owner=people["ks"], actor=people["ks"])
    update_cultivation_entry(entry, owner=people["sz"], actor=people["ks"])
    entry.refresh_from_db()
    assert entry.owner == people["sz"]
    note = entry.notes.order_by("-id").first()
    assert note.text == "负责人 owner: ks_officer → sz_officer" and note.author == people["ks"]
    assert entry.notes.count() == 2


def test_api_applies_the_same_rule_to_both_pool_mutations(gql, people):
    firm = FirmFactory()
    variables = {"uscc": firm.uscc, "stage": "hnte", "year": 2026, "owner": "bh_officer"}
    refused = gql.data(ADD, variables, user=people["ks"])["addToCultivationPool"]
    assert refused["entry"] is None and refused["errors"][0]["field"] == "owner"
    assert not CultivationEntry.objects.exists()
    added = gql.data(ADD, {**variables, "owner": "ks_officer"}, user=people["ks"])["addToCultivationPool"]
    entry_id = added["entry"]["id"]

    moved = gql.data(OWNER, {"id": entry_id, "owner": "sz_officer"}, user=people["ks"])["updateCultivationEntry"]
    assert moved["errors"] == [] and moved["entry"]["owner"] == "sz_officer"
    assert moved["entry"]["notes"][-1]["text"] == "负责人 owner: ks_officer → sz_officer"
    for outsider in ("bh_officer", "nobody"):
        answer = gql.data(OWNER, {"id": entry_id, "owner": outsider}, user=people["ks"])["updateCultivationEntry"]
        assert answer["entry"] is None and answer["errors"][0]["field"] == "owner"
        assert outsider in answer["errors"][0]["message"] and "bh_officer" not in answer["errors"][0]["message"].replace(
            outsider, "")
    assert CultivationEntry.objects.get().owner == people["sz"]
    cleared = gql.data(OWNER, {"id": entry_id, "owner": ""}, user=people["admin"])["updateCultivationEntry"]
    assert cleared["errors"] == [] and cleared["entry"]["owner"] is None
