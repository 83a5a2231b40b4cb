"""Writing the audit trail; every service change goes through here."""

import json

from django.utils import timezone

from registry.models import AuditEvent
from registry.services.writes import copy_rows


def actor_or_none(actor):
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def record(action, obj, *, actor=None, via="", firm_id=None, changes=None):
    return AuditEvent.objects.create(
        actor=actor_or_none(actor),
        via=via,
        action=action,
        model=obj._meta.model_name,
        object_id=str(obj.pk),
        firm_id=firm_id,
        changes=changes or {},
    )


def plain(value):
    """JSON-safe form of a field value for the `changes` record."""
    if value is None or isinstance(value, (bool, int, float, str, list, dict)):
        return value
    return str(value)


def diff(obj, values):
    """Apply `values` to obj; return {field: [old, new]} for the fields that really changed."""
    changes = {}
    for field, new in values.items():
        model_field = obj._meta.get_field(field)
        if model_field.many_to_one:  # compare keys: no query, and works before the object exists
            old, new_key = getattr(obj, model_field.attname), (new.pk if new is not None else None)
            if old != new_key:
                changes[field] = [plain(old), plain(new_key)]
                setattr(obj, field, new)
            continue
        old = getattr(obj, field)
        if old != new:
            changes[field] = [plain(old), plain(new)]
            setattr(obj, field, new)
    return changes


def record_many(events, *, actor=None, via=""):
    """events: (action, model_name, object_id, firm_id, changes) → AuditEvent rows in one insert."""
    actor_id = actor_or_none(actor).pk if actor_or_none(actor) else None
    now = timezone.now()
    copy_rows(AuditEvent, ("at", "actor_id", "via", "action", "model", "object_id", "firm_id", "changes"), [
        (now, actor_id, via, action, model, str(object_id), firm_id, json.dumps(changes, ensure_ascii=False))
        for action, model, object_id, firm_id, changes in events
    ])
