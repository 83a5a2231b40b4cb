"""Recording, renewing and revoking recognitions, and the daily expiry sweep.

Recording is one set-based pipeline, `record_certifications` (a 1,000,000-row list a chunk at a
time, or `record_certification`'s batch of one): the items' (firm, tier) records are loaded in one
query, each item matched (certificate number, or start date), created or updated in memory, renewal
links replayed in memory in item order; then new rows in one COPY (executemany on SQLite) with ids
reserved from the sequence, changed ones in one bulk update, current stages refreshed once, audit
rows in one insert, and the side effects (registry.services.effects.after_write) once.
tests/importers/test_bulk.py imports the same rows per row and per chunk and compares the results.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from registry.models import AuditEvent, Certification, CertificationStatus, Firm
from registry.services import audit
from registry.services.errors import field_error
from registry.services.firms import typed
from registry.services.ladder import default_valid_until, get_tier
from registry.services.stage import refresh_current_stage
from registry.services.writes import copy_rows, reserve_ids
from registry.services.effects import RECOGNITIONS, after_write

# A new record of the same tier renews the previous one when it starts within this time of the
# previous one's end (高企 重新认定 is often issued weeks after the old certificate lapsed).
RENEWAL_GRACE = datetime.timedelta(days=366)
RENEWABLE = (CertificationStatus.ACTIVE, CertificationStatus.EXPIRED, CertificationStatus.SUPERSEDED)
PROVENANCE = ("source_name", "source_row", "source_checksum", "import_job_id")
DETAIL_FIELDS = ("authority", "level", "batch", "batch_year", "certificate_no") + PROVENANCE
# What a record says (compared on re-import); where it came from (PROVENANCE) is no change.
COMPARED = ("issued_on", "valid_from", "valid_until", "authority", "level", "batch", "batch_year", "certificate_no")
CERT_COLUMNS = ("id", "firm_id", "stage_id", "tier_id", "status", "renews_id", "revoked_on", "revocation_reason",
                "created_at", "updated_at") + COMPARED + PROVENANCE


def status_for(valid_until, today):
    return CertificationStatus.EXPIRED if valid_until < today else CertificationStatus.ACTIVE


BLANK_IF_NONE = ("authority", "batch", "source_name", "source_checksum")


def prepare_certification(tier, issued_on, *, valid_from=None, valid_until=None, **details):
    """The checks and defaults of record_certification, without touching the database.

    Returns the item bulk_record_certifications takes; ValidationError naming the field if not valid.
    """
    tier = get_tier(tier)
    dates = typed(Certification, {"issued_on": issued_on, "valid_from": valid_from, "valid_until": valid_until})
    issued_on = dates["issued_on"]
    if issued_on is None:
        raise field_error("issued_on", "The issue date is required.", code="required")
    valid_from = dates["valid_from"] or issued_on
    valid_until = dates["valid_until"] or default_valid_until(tier, valid_from, details.get("batch_year"))
    if valid_until < issued_on or valid_until < valid_from:
        raise field_error(
            "valid_until",
            f"Validity ends {valid_until.isoformat()}, before the issue date {issued_on.isoformat()}"
            f"{'' if valid_from == issued_on else f' or start {valid_from.isoformat()}'}.",
            code="invalid_validity",
        )
    details = typed(Certification, details)
    details["certificate_no"] = (details.get("certificate_no") or "").strip()
    details.setdefault("level", tier.level)
    details = {k: ("" if v is None and k in BLANK_IF_NONE else v) for k, v in details.items()}
    return {"tier": tier, "issued_on": issued_on, "valid_from": valid_from, "valid_until": valid_until, **details}


@transaction.atomic
def record_certification(
    firm, tier, issued_on, *, valid_from=None, valid_until=None, actor=None, via="", today=None, **details
):
    """Record a recognition, or update the one already recorded for the same certificate.

    The same record is recognised by (firm, tier, certificate number), or by (firm, tier, start
    date) for lists without numbers, so importing a list twice changes nothing.
    Returns (certification, "created" | "updated" | "unchanged"). A batch of one through
    `record_certifications`; ValidationError naming the field (or the rule) when refused.
    """
    unknown = set(details) - set(DETAIL_FIELDS)
    if unknown:
        raise field_error(sorted(unknown)[0], "Not a recognition field.")
    item = prepare_certification(tier, issued_on, valid_from=valid_from, valid_until=valid_until, **details)
    check_fields(item)
    [result] = record_certifications([dict(item, firm_id=firm.pk)], actor=actor, via=via, today=today)
    if result[1] == "error":
        raise ValidationError(result[2], code="conflict")
    return Certification.objects.get(pk=result[0]), result[1]


def check_fields(item):
    """The model's field checks (lengths, choices, ranges) on a prepared item, without a query."""
    values = {k: item[k] for k in item if k in COMPARED + PROVENANCE}
    Certification(stage_id=item["tier"].stage_id, tier=item["tier"], **values).clean_fields(
        exclude=["firm", "stage", "tier", "renews", "status"])  # foreign keys: resolved already, no query


@transaction.atomic
def revoke_certification(certification, reason, *, revoked_on=None, actor=None, via="", today=None):
    """Revoke a recognition (撤销): it stops counting from now on and shows in the timeline."""
    today = today or timezone.localdate()
    cert = Certification.objects.select_for_update().get(pk=certification.pk)
    if cert.status == CertificationStatus.REVOKED:
        raise field_error("status", "This recognition is already revoked.", code="already_revoked")
    if not (reason or "").strip():
        raise field_error("reason", "Say why the recognition is revoked.", code="required")
    revoked_on = typed(Certification, {"revoked_on": revoked_on})["revoked_on"] or today
    if revoked_on < cert.issued_on:
        raise field_error("revoked_on", f"{revoked_on.isoformat()} is before the issue date {cert.issued_on.isoformat()}.")
    changes = audit.diff(cert, {"status": CertificationStatus.REVOKED, "revoked_on": revoked_on, "revocation_reason": reason.strip()})
    cert.save()
    refresh_current_stage([cert.firm_id], today=today)
    audit.record("revoke", cert, actor=actor, via=via, firm_id=cert.firm_id, changes=changes)
    after_write([cert.firm_id], changed=RECOGNITIONS, sender=Certification)
    return cert


def expire_lapsed(today=None, *, via="expiry sweep"):
    """Mark active recognitions past valid_until as expired and refresh the firms they belonged to.

    Also refreshes firms whose recognitions started in the last week, so a record dated in the
    future becomes current on its day. Returns the number of recognitions expired.
    """
    today = today or timezone.localdate()
    lapsed = Certification.objects.filter(status=CertificationStatus.ACTIVE, valid_until__lt=today)
    expired = 0
    while True:
        with transaction.atomic():
            batch = list(lapsed.values_list("id", "firm_id")[:2000])
            if not batch:
                break
            ids = [cert_id for cert_id, _ in batch]
            Certification.objects.filter(id__in=ids).update(status=CertificationStatus.EXPIRED, updated_at=timezone.now())
            firm_ids = sorted({firm_id for _, firm_id in batch})
            refresh_current_stage(firm_ids, today=today)
            AuditEvent.objects.bulk_create(
                AuditEvent(via=via, action="expire", model="certification", object_id=str(cert_id), firm_id=firm_id,
                           changes={"status": [CertificationStatus.ACTIVE, CertificationStatus.EXPIRED]})
                for cert_id, firm_id in batch
            )
            after_write(firm_ids, changed=RECOGNITIONS, sender=Certification)
            expired += len(batch)
    starting = Certification.objects.filter(valid_from__gt=today - datetime.timedelta(days=7), valid_from__lte=today)
    starting_firms = sorted(set(starting.values_list("firm_id", flat=True)))
    with transaction.atomic():
        changed = refresh_current_stage(starting_firms, today=today)
        if changed:
            after_write(changed, changed=RECOGNITIONS, sender=Firm)
    return expired


# ---------------------------------------------------------------------------------------------
# The set-based pipeline: stage (prepare_certification per item) → plan (in memory) → apply (bulk).


@dataclass
class _Rec:
    """A certification row held in memory while a chunk is applied."""

    key: int  # the id, or a negative placeholder for a new row
    order: tuple
    values: dict
    new: bool = False
    dirty: set = field(default_factory=set)

    def set(self, name, value):
        if self.values.get(name) != value:
            self.values[name] = value
            self.dirty.add(name)


def _link(cert, group):
    """Chain this record with the same tier's neighbours, whatever order the lists were imported in:
    the nearest earlier record still renewable within RENEWAL_GRACE is renewed (superseded), the nearest
    later one renews this."""
    vf, vu = cert.values["valid_from"], cert.values["valid_until"]
    siblings = [r for r in group if r is not cert]
    earlier = [r for r in siblings if r.values["valid_from"] < vf and r.values["status"] in RENEWABLE
               and r.values["valid_until"] >= vf - RENEWAL_GRACE]
    previous = max(earlier, key=lambda r: r.values["valid_from"], default=None)
    if previous and cert.values["renews_id"] is None:
        cert.set("renews_id", previous.key)
    if previous and previous.values["status"] != CertificationStatus.SUPERSEDED:
        previous.set("status", CertificationStatus.SUPERSEDED)
    later = [r for r in siblings if vf < r.values["valid_from"] <= vu + RENEWAL_GRACE
             and r.values["status"] != CertificationStatus.REVOKED]
    following = min(later, key=lambda r: r.values["valid_from"], default=None)
    if following and following.values["renews_id"] in (None, previous.key if previous else None):
        following.set("renews_id", cert.key)
        if cert.values["status"] != CertificationStatus.REVOKED:
            cert.set("status", CertificationStatus.SUPERSEDED)


def _match(group, item):
    """record_certification's lookup: same number, or a numberless record with the same start."""
    ordered = sorted(group, key=lambda r: (r.values["issued_on"], *r.order[1:]))
    number = item["certificate_no"]
    for rec in ordered:
        if number and (rec.values["certificate_no"] == number
                       or (rec.values["certificate_no"] == "" and rec.values["valid_from"] == item["valid_from"])):
            return rec
        if not number and rec.values["valid_from"] == item["valid_from"]:
            return rec
    return None


def _conflict(group, rec):
    """The unique constraints (firm, tier, number) and (firm, tier, start), checked in memory."""
    for other in group:
        if other is rec:
            continue
        if other.values["valid_from"] == rec.values["valid_from"]:
            return "This firm already holds this tier from this date."
        if rec.values["certificate_no"] and other.values["certificate_no"] == rec.values["certificate_no"]:
            return "This firm already holds this tier with this certificate number."
    return None


def record_certifications(items, *, actor=None, via="", today=None, side_effects=True, created_firm_ids=()):
    """Record many recognitions at once: the one write path of recognitions (record_certification is a
    batch of one).

    items: dicts with firm_id plus what prepare_certification returns (tier, dates, details,
    provenance). `created_firm_ids`: firms the caller created for this chunk (create_firms), included
    in the same single after_write (side_effects=False: the caller runs it). Returns a list aligned with items: (certification_id, "created" | "updated" |
    "unchanged") or (None, "error", message) for an item that breaks a uniqueness rule.
    """
    today = today or timezone.localdate()
    results = [None] * len(items)
    if not items:
        if side_effects and created_firm_ids:
            after_write(created_firm_ids, changed=RECOGNITIONS, sender=Firm)
        return results
    pairs = {(it["firm_id"], it["tier"].id) for it in items}
    firm_ids = sorted({f for f, _ in pairs})
    tier_ids = sorted({t for _, t in pairs})
    groups = defaultdict(list)
    fetch = ("id", "firm_id", "tier_id", "stage_id", "status", "renews_id", "revoked_on", "revocation_reason") + COMPARED + PROVENANCE
    for start in range(0, len(firm_ids), 5000):
        query = Certification.objects.select_for_update().filter(firm_id__in=firm_ids[start:start + 5000],
                                                                 tier_id__in=tier_ids)
        for row in query.values(*fetch):
            pair = (row["firm_id"], row["tier_id"])
            if pair in pairs:
                groups[pair].append(_Rec(row["id"], (row["issued_on"], 0, row["id"]), row))

    placeholder = 0
    touched = []
    for index, item in enumerate(items):
        tier = item["tier"]
        group = groups[(item["firm_id"], tier.id)]
        values = {k: item[k] for k in item if k in COMPARED}
        provenance = {k: item[k] for k in PROVENANCE if k in item}
        rec = _match(group, item)
        if rec is None:
            placeholder -= 1
            rec = _Rec(placeholder, (values["issued_on"], 1, -placeholder), {
                "id": None, "firm_id": item["firm_id"], "tier_id": tier.id, "stage_id": tier.stage_id,
                "status": status_for(values["valid_until"], today), "renews_id": None, "revoked_on": None,
                "revocation_reason": "", "authority": "", "batch": "", "batch_year": None, "certificate_no": "",
                "source_name": "", "source_row": None, "source_checksum": "", "import_job_id": None,
                **values, **provenance,
            }, new=True)
            problem = _conflict(group, rec)
            if problem:
                results[index] = (None, "error", problem)
                continue
            group.append(rec)
            outcome = "created"
            changes = {k: audit.plain(v) for k, v in values.items()}
        else:
            changes = {k: [audit.plain(rec.values.get(k)), audit.plain(v)] for k, v in values.items()
                       if rec.values.get(k) != v}
            if not changes:
                results[index] = (rec, "unchanged")
                continue
            saved = dict(rec.values), set(rec.dirty)
            for k, v in values.items():
                rec.set(k, v)
            problem = _conflict(group, rec)
            if problem:
                rec.values, rec.dirty = saved
                results[index] = (None, "error", problem)
                continue
            for k, v in provenance.items():
                rec.set(k, v)
            if "valid_until" in changes and rec.values["status"] in (CertificationStatus.ACTIVE, CertificationStatus.EXPIRED):
                rec.set("status", status_for(values["valid_until"], today))
            outcome = "updated"
        _link(rec, group)
        touched.append((rec, outcome, changes))
        results[index] = (rec, outcome)

    # Flush: ids for new rows, then one insert and one update.
    new = [rec for group in groups.values() for rec in group if rec.new]
    ids = reserve_ids(Certification, len(new))
    real = {rec.key: new_id for rec, new_id in zip(new, ids)}
    for rec in new:
        rec.values["id"] = real[rec.key]
    now = timezone.now()
    for rec in new:
        rec.values["renews_id"] = real.get(rec.values["renews_id"], rec.values["renews_id"])
        rec.values["created_at"] = rec.values["updated_at"] = now
    copy_rows(Certification, CERT_COLUMNS, [tuple(rec.values[c] for c in CERT_COLUMNS) for rec in new])
    changed = [rec for group in groups.values() for rec in group if not rec.new and rec.dirty]
    if changed:
        fields = sorted({f for rec in changed for f in rec.dirty})
        objs = []
        for rec in changed:
            rec.values["renews_id"] = real.get(rec.values["renews_id"], rec.values["renews_id"])
            obj = Certification(id=rec.key, updated_at=now, **{f: rec.values[f] for f in fields})
            objs.append(obj)
        Certification.objects.bulk_update(objs, fields + ["updated_at"], batch_size=1000)

    out = []
    for result in results:
        if result is None or result[0] is None:
            out.append(result)
        else:
            out.append((result[0].values["id"], result[1]))
    changed_firms = sorted({rec.values["firm_id"] for rec, _, _ in touched})
    if changed_firms:
        refresh_current_stage(changed_firms, today=today)
    audit.record_many([("record" if outcome == "created" else "update", "certification", rec.values["id"],
                  rec.values["firm_id"], changes) for rec, outcome, changes in touched], actor=actor, via=via)
    if side_effects:
        after_write(sorted(set(changed_firms) | set(created_firm_ids)), changed=RECOGNITIONS,
                    recorded=[rec.values["id"] for rec, _, _ in touched], sender=Certification)
    return out
