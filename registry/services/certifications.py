"""Recording, renewing and revoking recognitions, and the daily expiry sweep."""

import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from registry.models import AuditEvent, Certification, CertificationStatus, Firm
from registry.services import audit
from registry.services.errors import field_error
from registry.services.firms import typed
from registry.services.ladder import default_valid_until, get_tier
from registry.services.stage import refresh_current_stage
from registry.services.effects import RECOGNITIONS, after_write

# A new record of the same tier renews the previous one when it starts within this time of the
# previous one's end (高企 重新认定 is often issued weeks after the old certificate lapsed).
RENEWAL_GRACE = datetime.timedelta(days=366)
RENEWABLE = (CertificationStatus.ACTIVE, CertificationStatus.EXPIRED, CertificationStatus.SUPERSEDED)
PROVENANCE_FIELDS = ("source_name", "source_row", "source_checksum", "import_job_id")
DETAIL_FIELDS = ("authority", "level", "batch", "batch_year", "certificate_no") + PROVENANCE_FIELDS


def status_for(valid_until, today):
    return CertificationStatus.EXPIRED if valid_until < today else CertificationStatus.ACTIVE


def link_renewals(cert):
    """Chain this record with the same tier's neighbours, whatever order the lists were imported in."""
    siblings = Certification.objects.filter(firm_id=cert.firm_id, tier_id=cert.tier_id).exclude(pk=cert.pk)
    previous = (
        siblings.filter(valid_from__lt=cert.valid_from, status__in=RENEWABLE)
        .filter(valid_until__gte=cert.valid_from - RENEWAL_GRACE)
        .order_by("-valid_from")
        .first()
    )
    if previous and cert.renews_id is None:
        cert.renews = previous
        cert.save(update_fields=["renews"])
    if previous and previous.status != CertificationStatus.SUPERSEDED:
        previous.status = CertificationStatus.SUPERSEDED
        previous.save(update_fields=["status", "updated_at"])
    following = (
        siblings.filter(valid_from__gt=cert.valid_from, valid_from__lte=cert.valid_until + RENEWAL_GRACE)
        .exclude(status=CertificationStatus.REVOKED)
        .order_by("valid_from")
        .first()
    )
    if following and following.renews_id in (None, previous.pk if previous else None):
        following.renews = cert
        following.save(update_fields=["renews", "updated_at"])
        if cert.status != CertificationStatus.REVOKED:
            cert.status = CertificationStatus.SUPERSEDED
            cert.save(update_fields=["status", "updated_at"])


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
    Returns (certification, "created" | "updated" | "unchanged").
    """
    unknown = set(details) - set(DETAIL_FIELDS)
    if unknown:
        raise field_error(sorted(unknown)[0], "Not a recognition field.")
    today = today or timezone.localdate()
    prepared = prepare_certification(tier, issued_on, valid_from=valid_from, valid_until=valid_until, **details)
    tier = prepared.pop("tier")
    issued_on, valid_from, valid_until = prepared.pop("issued_on"), prepared.pop("valid_from"), prepared.pop("valid_until")
    details = prepared

    existing = Certification.objects.select_for_update().filter(firm=firm, tier=tier)
    if details["certificate_no"]:
        cert = existing.filter(
            Q(certificate_no=details["certificate_no"]) | Q(certificate_no="", valid_from=valid_from)
        ).first()
    else:
        cert = existing.filter(valid_from=valid_from).first()

    values = {"issued_on": issued_on, "valid_from": valid_from, "valid_until": valid_until, **details}
    # Where a record came from is not part of what it says: re-importing it elsewhere is no change.
    provenance = {k: values.pop(k) for k in PROVENANCE_FIELDS if k in values}
    if cert is None:
        cert = Certification(
            firm=firm, stage_id=tier.stage_id, tier=tier, status=status_for(valid_until, today), **values, **provenance
        )
        cert.full_clean(exclude=["renews"])
        cert.save()
        outcome, changes = "created", {k: audit.plain(v) for k, v in values.items()}
    else:
        changes = audit.diff(cert, values)
        if not changes:
            return cert, "unchanged"
        audit.diff(cert, provenance)
        if "valid_until" in changes and cert.status in (CertificationStatus.ACTIVE, CertificationStatus.EXPIRED):
            cert.status = status_for(valid_until, today)
        cert.full_clean(exclude=["renews"])
        cert.save()
        outcome = "updated"

    link_renewals(cert)
    refresh_current_stage([firm.id], today=today)
    audit.record("record" if outcome == "created" else "update", cert, actor=actor, via=via, firm_id=firm.id, changes=changes)
    after_write([firm.id], changed=RECOGNITIONS, recorded=[cert], sender=Certification)
    return cert, outcome


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
