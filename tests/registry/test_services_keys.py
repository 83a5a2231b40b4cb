"""What deleting a user, a tier or a firm does, now that the audit actor and a firm's current stage and tier
have no database foreign key (registry 0016): Django's on_delete keeps the product's promises."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import ProtectedError

from registry.models import AuditEvent, Certification, Firm, Tier
from registry.services import record_certification, upsert_firm

D = datetime.date
pytestmark = pytest.mark.django_db


def test_deleting_a_user_keeps_who_acted_in_their_audit_rows_without_touching_them(firm):
    """The audit stays truthful: entries keep the deleted user's id (no UPDATE of the audit table at all),
    the deletion's own entry names that id, and the admin list shows it rather than failing."""
    from django.contrib.admin.sites import site
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    user = get_user_model().objects.create_user("officer_keys", password="x")
    upsert_firm(firm.uscc, name="审计保留科技有限公司", actor=user, via="api")
    rows = AuditEvent.objects.filter(firm_id=firm.pk, actor=user)
    ids, user_id = list(rows.values_list("id", flat=True)), user.pk
    assert ids
    with CaptureQueriesContext(connection) as captured:
        user.delete()
    touching = [q["sql"] for q in captured.captured_queries if "registry_auditevent" in q["sql"]]
    assert len(touching) == 1 and touching[0].lstrip().upper().startswith("INSERT"), touching  # its own entry only
    kept = AuditEvent.objects.filter(id__in=ids)
    assert kept.count() == len(ids)  # history stays
    assert set(kept.values_list("actor_id", flat=True)) == {user_id}  # and still says who acted
    gone = AuditEvent.objects.get(model="user", object_id=str(user_id), action="delete")
    assert gone.changes == {"username": ["officer_keys", None]}
    event = AuditEvent.objects.select_related("actor").get(id=ids[0])
    assert event.actor_shown() == f"#{user_id}（已删除）"
    assert AuditEvent.objects.get(id=ids[0]).actor_shown() == f"#{user_id}（已删除）"  # without the join too
    # Ids are never handed out again (sequences; SQLite AUTOINCREMENT): a new user cannot inherit the entries.
    assert get_user_model().objects.create_user("officer_keys", password="x").pk != user_id
    assert AuditEvent.objects.get(id=ids[0]).actor_shown() == f"#{user_id}（已删除）"

    admin_user = get_user_model().objects.create_superuser("audit_admin", password="x")
    request = RequestFactory().get("/admin/registry/auditevent/")
    request.user = admin_user
    response = site._registry[AuditEvent].changelist_view(request)
    response.render()
    body = response.content.decode()
    assert f"#{user_id}（已删除）" in body


def test_a_tier_that_is_a_firms_current_tier_cannot_be_deleted(firm):
    # A tier nobody holds a recognition of, so only the firm's current_tier protects it.
    tier = Tier.objects.exclude(id__in=Certification.objects.values("tier_id")).first()
    Firm.objects.filter(pk=firm.pk).update(current_tier=tier, current_stage=tier.stage)
    with pytest.raises(ProtectedError) as raised:
        tier.delete()
    assert firm.pk in {obj.pk for obj in raised.value.protected_objects if isinstance(obj, Firm)}
    with pytest.raises(ProtectedError) as raised:
        tier.stage.delete()
    assert any(isinstance(obj, Firm) and obj.pk == firm.pk for obj in raised.value.protected_objects)
    assert Tier.objects.filter(pk=tier.pk).exists()


def test_deleting_a_firm_removes_its_recognitions_and_keeps_its_audit(firm, today):
    record_certification(firm, "hnte", D(2025, 11, 20), certificate_no="GR202532009999", today=today)
    firm.refresh_from_db()
    assert firm.current_tier.code == "hnte"
    audit_ids = list(AuditEvent.objects.filter(firm_id=firm.pk).values_list("id", flat=True))
    assert audit_ids
    firm_id = firm.pk
    firm.delete()
    assert not Certification.objects.filter(firm_id=firm_id).exists()  # CASCADE
    assert AuditEvent.objects.filter(id__in=audit_ids).count() == len(audit_ids)


def test_only_the_history_and_derived_columns_lost_their_database_keys():
    def keys(table):
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, table)
        return ({c["columns"][0] for c in constraints.values() if c["foreign_key"]},
                {c["columns"][0] for c in constraints.values() if c["index"] and len(c["columns"]) == 1})

    firm_keys, firm_indexes = keys("registry_firm")
    assert "region_id" in firm_keys and not {"current_stage_id", "current_tier_id"} & firm_keys
    assert "current_tier_id" in firm_indexes  # the firm filter by tier still reads an index
    audit_keys, audit_indexes = keys("registry_auditevent")
    assert "actor_id" not in audit_keys and "actor_id" not in audit_indexes
    assert {"firm_id", "at"} <= audit_indexes
    assert {"firm_id", "stage_id", "tier_id"} <= keys("registry_certification")[0]
