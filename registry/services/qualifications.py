"""Writes of qualifications (资质/奖项) and yearly indicator details, audited like every other fact.

GraphQL mutations (api_graphql/eligibility) and the `qualifications` / `indicator_details` import
kinds call these two functions and nothing else, so the audit trail and the side effects
(`effects.after_write`, which keeps the candidates ranking current) hold whichever door the data came in by.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from registry.models import IndicatorDetail, Qualification, QualificationKind, QualificationLevel
from registry.services import audit
from registry.services.errors import field_error
from registry.services.firms import typed
from registry.services.indicators import checked_year
from registry.services.effects import INDICATORS, after_write

QUALIFICATION_FIELDS = ("kind", "level", "name", "issuer", "awarded_on", "valid_until", "rank", "reference",
                        "source_name", "source_row")
DETAIL_FIELDS = ("rd_expense_domestic", "main_business_revenue", "innovation_ip", "innovation_conversion",
                 "innovation_rd_management", "innovation_growth", "source_name", "source_row")
NOT_COMPARED = ("source_name", "source_row")


def _check_choice(field, value, choices):
    if value not in choices.values:
        raise field_error(field, f"“{value}” is not one of {', '.join(choices.values)}.", code="invalid_choice")


@transaction.atomic
def record_qualification(firm, *, actor=None, via="", **values):
    """Create or update the qualification (firm, kind, name, awarded_on). Returns (row, created|updated|unchanged)."""
    unknown = set(values) - set(QUALIFICATION_FIELDS)
    if unknown:
        raise field_error(sorted(unknown)[0], "Not a qualification field.")
    for required in ("kind", "level", "name", "awarded_on"):
        if values.get(required) in (None, ""):
            raise field_error(required, f"{required} is required.", code="required")
    _check_choice("kind", values["kind"], QualificationKind)
    _check_choice("level", values["level"], QualificationLevel)
    values = typed(Qualification, values)
    if values.get("valid_until") and values["valid_until"] < values["awarded_on"]:
        raise field_error("valid_until", f"valid_until {values['valid_until']} is before awarded_on {values['awarded_on']}.")
    if values.get("rank") is not None and values["rank"] < 1:
        raise field_error("rank", "rank starts at 1 (the lead unit).")
    key = {k: values.pop(k) for k in ("kind", "name", "awarded_on")}
    row = Qualification.objects.select_for_update().filter(firm=firm, **key).first()
    created = row is None
    if created:
        row = Qualification(firm=firm, **key)
    provenance = {k: values.pop(k) for k in NOT_COMPARED if k in values}
    changes = audit.diff(row, values)
    if created:
        changes.update({k: [None, audit.plain(v)] for k, v in key.items()})
    elif not changes:
        return row, "unchanged"
    audit.diff(row, provenance)
    row.full_clean(exclude=["firm"], validate_unique=False)
    row.save()
    audit.record("create" if created else "update", row, actor=actor, via=via, firm_id=firm.id, changes=changes)
    after_write([firm.id], changed=INDICATORS, sender=Qualification)
    return row, "created" if created else "updated"


@transaction.atomic
def delete_qualification(row, *, actor=None, via=""):
    firm_id, pk = row.firm_id, row.pk
    audit.record("delete", row, actor=actor, via=via, firm_id=firm_id,
                 changes={"kind": [row.kind, None], "name": [row.name, None]})
    row.delete()
    row.pk = pk
    after_write([firm_id], changed=INDICATORS, sender=Qualification)


@transaction.atomic
def upsert_indicator_details(firm, year, values, *, actor=None, via=""):
    """Create or update a firm's indicator details for a year. Returns (row, created|updated|unchanged).

    Only the fields passed change; a field passed as None clears it (unknown, never zero).
    """
    unknown = set(values) - set(DETAIL_FIELDS)
    if unknown:
        raise field_error(sorted(unknown)[0], "Not an indicator-detail field.")
    year = checked_year(year)
    values = typed(IndicatorDetail, values)
    for field, value in values.items():
        if field not in NOT_COMPARED and value is not None and value < 0:
            raise field_error(field, f"{field} cannot be negative (got {value}).", code="negative")
    row = IndicatorDetail.objects.select_for_update().filter(firm=firm, year=year).first()
    created = row is None
    if created:
        row = IndicatorDetail(firm=firm, year=year)
    provenance = {k: values.pop(k) for k in NOT_COMPARED if k in values}
    changes = audit.diff(row, values)
    if not created and not changes:
        return row, "unchanged"
    audit.diff(row, provenance)
    try:
        row.full_clean(exclude=["firm"], validate_unique=False)
    except ValidationError as error:  # e.g. innovation_ip 31 > 30: name the field
        field, messages = next(iter(error.message_dict.items()))
        raise field_error(field, f"{field}: {' '.join(messages)}", code="invalid") from None
    row.save()
    audit.record("create" if created else "update", row, actor=actor, via=via, firm_id=firm.id, changes=changes)
    after_write([firm.id], changed=INDICATORS, sender=IndicatorDetail)
    return row, "created" if created else "updated"
