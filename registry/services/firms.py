"""Creating and changing firms: one set-based pipeline (`record_firms`: stage → plan → apply) that a
firm list hands whole chunks to and a single write (`upsert_firm`: API, admin) hands a batch of one."""

import json
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection, models, transaction
from django.utils import timezone

from registry import uscc as uscc_codes
from registry.models import Firm, IndustryChain, Region
from registry.names import normalize_name
from registry.permissions import is_admin
from registry.services import audit
from registry.services.errors import field_error
from registry.services.effects import FIRMS, after_write
from registry.services.writes import copy_rows, reserve_ids

FIRM_FIELDS = (
    "name", "former_names", "founded_on", "region", "industry_code", "registered_capital", "registered_capital_currency",
    "description", "main_products", "technologies", "listing_status",
)


def resolve_region(region):
    if region is None or isinstance(region, Region):
        return region
    code = str(region).strip()
    try:
        return Region.objects.get(code=code)
    except Region.DoesNotExist:
        raise field_error("region", f"Unknown region code “{code}”.", code="unknown_region") from None


def resolve_chains(codes):
    codes = [str(c).strip() for c in codes]
    chains = list(IndustryChain.objects.filter(code__in=codes))
    unknown = sorted(set(codes) - {c.code for c in chains})
    if unknown:
        raise field_error("chains", f"Unknown industry chain code(s): {', '.join(unknown)}.", code="unknown_chain")
    return chains


def checked_uscc(raw, *, actor=None, override_reason=""):
    """Normalise and check a USCC. A bad check digit passes only with an administrator's override."""
    try:
        return uscc_codes.validate(raw), ""
    except uscc_codes.USCCError as error:
        if not error.checksum:
            raise field_error("uscc", str(error), code="invalid_uscc") from None
        if override_reason.strip() and is_admin(actor):
            return uscc_codes.normalize(raw), override_reason.strip()
        raise field_error(
            "uscc",
            f"{error} An administrator may accept it with a recorded override.",
            code="uscc_checksum",
        ) from None


def typed(model, values, skip=()):
    """Convert incoming values to the fields' Python types, so '100' and Decimal('100.00') compare equal."""
    converted = {}
    for field, value in values.items():
        if field in skip or value is None:
            converted[field] = value
            continue
        try:
            converted[field] = model._meta.get_field(field).to_python(value)
        except ValidationError as error:
            raise field_error(field, f"“{value}”: {' '.join(error.messages)}", code="invalid") from None
    return converted


@transaction.atomic
def upsert_firm(uscc, *, actor=None, via="", override_reason="", chains=None, **values):
    """Create or update the firm with this USCC. Returns (firm, "created" | "updated" | "unchanged").

    Only the fields passed are changed. A new name pushes the old one onto former_names.
    A batch of one through `record_firms`; ValidationError naming the field when the row is refused.
    """
    unknown = set(values) - set(FIRM_FIELDS)
    if unknown:
        raise field_error(sorted(unknown)[0], "Not a firm field.")
    code, override = checked_uscc(uscc, actor=actor, override_reason=override_reason)
    row = {"uscc": code, **values}
    if override:
        row["uscc_override_reason"] = override
    if chains is not None:
        row["chains"] = resolve_chains(chains)
    [result] = record_firms([row], actor=actor, via=via, checked=True)
    if result.error is not None:
        raise result.error
    return result.firm, result.outcome


# ---------------------------------------------------------------------------------------------
# The set-based pipeline: stage → plan → apply, for a batch of one or a whole firm list.


@dataclass
class FirmResult:
    """One row's result: the firm and "created" / "updated" / "unchanged", or the ValidationError."""

    firm: Firm | None
    outcome: str
    error: ValidationError | None = None


@dataclass
class _Staged:
    index: int
    uscc: str
    values: dict
    override: str = ""
    chains: list | None = None


NOT_CHECKED = ("current_stage", "current_tier", "latest_indicators", "chains", "region", "uscc_override_by")


def _db_values(columns):
    """Per column, how a firm's attribute becomes a COPY/INSERT value: as it is where the driver adapts
    it (psycopg: dates, decimals, aware datetimes; text and numbers everywhere), JSON as text, else
    Django's own conversion (dates and decimals on SQLite)."""
    def convert(f):
        if isinstance(f, models.JSONField):
            return lambda v: json.dumps(v, ensure_ascii=False)
        if connection.vendor == "postgresql" or not isinstance(f, (models.DateField, models.DecimalField)):
            return None
        return lambda v, f=f: f.get_db_prep_save(v, connection)
    return [(f.attname, convert(f)) for f in columns]


def _stage(rows, *, actor, checked):
    """Check each row on its own (no query but one for all the region codes): typed values, region,
    name. Returns (staged rows, {index: error})."""
    errors, staged = {}, []
    codes = {str(r["region"]).strip() for r in rows if r.get("region") not in (None, "") and not isinstance(r["region"], Region)}
    regions = Region.objects.in_bulk(list(codes), field_name="code") if codes else {}
    for index, row in enumerate(rows):
        row = dict(row)
        try:
            override = row.pop("uscc_override_reason", "")
            chains = row.pop("chains", None)
            uscc = row.pop("uscc", None)
            if not checked:
                uscc, override = checked_uscc(uscc, actor=actor, override_reason=override or "")
            unknown = set(row) - set(FIRM_FIELDS)
            if unknown:
                raise field_error(sorted(unknown)[0], "Not a firm field.")
            values = typed(Firm, row, skip=("region",))
            if "region" in values and values["region"] is not None and not isinstance(values["region"], Region):
                code = str(values["region"]).strip()
                if code not in regions:
                    raise field_error("region", f"Unknown region code “{code}”.", code="unknown_region")
                values["region"] = regions[code]
            if "name" in values:
                values["name"] = (values["name"] or "").strip()
                if not values["name"]:
                    raise field_error("name", "A firm needs a name.", code="required")
            staged.append(_Staged(index, uscc, values, override, chains))
        except ValidationError as error:
            errors[index] = error
    return staged, errors


def _plan(staged, errors, *, actor):
    """Match the rows to the registry in one query per 5,000 codes and decide each in memory, in row
    order (a second row of the same firm sees the first): new, changed (with its audit `changes`),
    unchanged or refused. Returns [(staged row, firm, outcome, changes)]."""
    codes = sorted({row.uscc for row in staged})
    firms = {}
    for start in range(0, len(codes), 5000):
        for firm in Firm.objects.select_for_update().filter(uscc__in=codes[start:start + 5000]):
            firms[firm.uscc] = firm
    planned, new = [], set()
    for row in staged:
        values = dict(row.values)
        firm = firms.get(row.uscc)
        created = firm is None
        try:
            if firm is None:
                if values.get("region") is None:
                    raise field_error("region", "A new firm needs a region.", code="required")
                if not values.get("name"):
                    raise field_error("name", "A new firm needs a name.", code="required")
                firm = Firm(uscc=row.uscc)
            elif values.get("name") and values["name"] != firm.name:
                former = list(values.get("former_names", firm.former_names))
                if firm.name not in former:
                    former.append(firm.name)
                values["former_names"] = former
            before = dict(firm.__dict__)
            changes = audit.diff(firm, values)
            if row.override and firm.uscc_override_reason != row.override:
                changes["uscc_override_reason"] = [firm.uscc_override_reason, row.override]
                firm.uscc_override_reason, firm.uscc_override_by = row.override, audit.actor_or_none(actor)
            firm.name_normalized = normalize_name(firm.name)
            if created or changes:
                try:  # full_clean without validate_unique (the USCC was looked up just above) nor the foreign
                    # keys' existence queries (a query per row; the region was resolved in _stage, the actor is real)
                    firm.clean_fields(exclude=NOT_CHECKED)
                    firm.clean()
                except ValidationError:
                    firm.__dict__.update(before)
                    raise
        except ValidationError as error:
            errors[row.index] = error
            continue
        if firm.pk is None and row.uscc not in new:
            new.add(row.uscc)
            firms[row.uscc] = firm
        planned.append((row, firm, "created" if created else ("updated" if changes else "unchanged"), changes))
    return planned


def _apply(planned, *, actor, via):
    """Bulk writes: new firms in one COPY (PostgreSQL; executemany elsewhere) with reserved ids,
    changed ones in one bulk_update, industry chains where a row gave them, audit rows in one insert."""
    now = timezone.now()
    new, seen = [], set()
    for _, firm, outcome, _ in planned:
        if outcome == "created" and id(firm) not in seen:
            seen.add(id(firm))
            new.append(firm)
    for firm, firm_id in zip(new, reserve_ids(Firm, len(new))):
        firm.id, firm.created_at, firm.updated_at = firm_id, now, now
        firm._state.adding, firm._state.db = False, "default"
    columns = Firm._meta.concrete_fields
    values = _db_values(columns)
    copy_rows(Firm, [f.column for f in columns], [
        tuple(getattr(firm, name) if convert is None else convert(getattr(firm, name)) for name, convert in values)
        for firm in new])
    changed = {id(firm): firm for _, firm, outcome, _ in planned if outcome == "updated" and id(firm) not in seen}
    if changed:
        fields = {"name_normalized", "updated_at"}
        for _, firm, outcome, changes in planned:
            if outcome == "updated":
                fields.update(k for k in changes if k != "chains")
                if "uscc_override_reason" in changes:
                    fields.add("uscc_override_by")
        for firm in changed.values():
            firm.updated_at = now
        Firm.objects.bulk_update(list(changed.values()), sorted(fields), batch_size=1000)
    for row, firm, outcome, changes in planned:
        if row.chains is not None:
            before = set(firm.chains.values_list("code", flat=True)) if outcome != "created" else set()
            after = {c.code for c in row.chains}
            if before != after:
                firm.chains.set(row.chains)
                changes["chains"] = [sorted(before), sorted(after)]
    results = []
    for row, firm, outcome, changes in planned:
        if outcome == "unchanged" and "chains" in changes:
            outcome = "updated"
        results.append((row, firm, outcome, changes))
    audit.record_many([("create" if outcome == "created" else "update", "firm", firm.pk, firm.pk, changes)
                 for _, firm, outcome, changes in results if outcome != "unchanged"], actor=actor, via=via)
    return results


@transaction.atomic
def record_firms(rows, *, actor=None, via="", checked=False, side_effects=True):
    """Create or update many firms at once: the one write path of firms (upsert_firm is a batch of one).

    rows: dicts (a list, or a pandas frame's records) with "uscc" and any of FIRM_FIELDS (region as a
    code or a Region), optionally "uscc_override_reason" (an administrator's, see checked_uscc) and
    "chains" (IndustryChain objects). `checked`: the USCCs were already validated by the caller.
    Returns a FirmResult per row, in order; a refused row has its ValidationError and writes nothing.
    The side effects (registry.services.effects) run once for the batch.
    """
    if hasattr(rows, "to_dict"):
        rows = rows.to_dict("records")
    staged, errors = _stage(rows, actor=actor, checked=checked)
    planned = _apply(_plan(staged, errors, actor=actor), actor=actor, via=via)
    results = [None] * len(rows)
    for index, error in errors.items():
        results[index] = FirmResult(None, "error", error)
    for row, firm, outcome, _ in planned:
        results[row.index] = FirmResult(firm, outcome)
    written = sorted({firm.pk for _, firm, outcome, _ in planned if outcome != "unchanged"})
    if side_effects and written:
        created = any(outcome == "created" for _, _, outcome, _ in planned)
        fields = None if created else {k for _, _, outcome, changes in planned if outcome == "updated" for k in changes}
        after_write(written, changed=FIRMS, sender=Firm, fields=fields)
    return results
