"""Writing the audit trail; every service change goes through here."""

from registry.models import AuditEvent


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
