"""The cultivation pool (培育库): entering firms, moving them along, and closing entries on recognition.

Status path: 入库 pooled → 辅导 coaching → 已申报 applied → 已认定 recognized / 未通过 rejected.
A firm may go straight from pooled to applied; only an application can be recognised or rejected by
hand (a recorded recognition closes any open entry). recognized and rejected are final (a firm that
failed enters the next year's pool as a new entry). Every status change and note is a dated
CultivationNote; every change is audited.

When a matching recognition is recorded (registry.services.effects.after_write, from every writer),
the open entry closes by itself as 已认定, with the certification linked and a note.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from registry.models import Certification, CertificationStatus, CultivationEntry, CultivationNote, OPEN_POOL_STATUSES, PoolStatus
from registry.services import audit
from registry.services.errors import field_error
from registry.services.ladder import get_stage, get_tier

TRANSITIONS = {
    PoolStatus.POOLED: {PoolStatus.COACHING, PoolStatus.APPLIED},
    PoolStatus.COACHING: {PoolStatus.APPLIED},
    PoolStatus.APPLIED: {PoolStatus.RECOGNIZED, PoolStatus.REJECTED},
    PoolStatus.RECOGNIZED: set(),
    PoolStatus.REJECTED: set(),
}
UNSET = object()
LABELS = dict(PoolStatus.choices)


def _label(status):
    return LABELS.get(status, status)


def _username(user):
    return user.get_username() if user else "—"


def _year(value, field="target_year"):
    try:
        year = int(value)
    except (TypeError, ValueError):
        raise field_error(field, f"“{value}” is not a year.") from None
    if not 2000 <= year <= 2100:
        raise field_error(field, f"{year} is not a plausible target year.")
    return year


@transaction.atomic
def add_to_cultivation_pool(firm, target_stage, target_tier=None, target_year=None, owner=None, actor=None, *,
                            note="", via="", today=None):
    """Put a firm into the pool for a target stage (and tier) and year. Returns the entry."""
    today = today or timezone.localdate()
    stage = get_stage(target_stage)
    tier = get_tier(target_tier) if target_tier not in (None, "") else None
    if tier is not None and tier.stage_id != stage.id:
        raise field_error("target_tier", f"Tier “{tier.code}” is not a tier of stage “{stage.code}”.", code="tier_stage")
    year = _year(target_year if target_year is not None else today.year)
    if CultivationEntry.objects.filter(firm=firm, target_stage=stage, target_year=year).exists():
        raise field_error("target_year", f"This firm is already in the {year} pool for {stage.name}.", code="duplicate")
    entry = CultivationEntry(firm=firm, target_stage=stage, target_tier=tier, target_year=year, owner=owner,
                             status=PoolStatus.POOLED)
    try:
        with transaction.atomic():
            entry.save()
    except IntegrityError:
        raise field_error("target_year", f"This firm is already in the {year} pool for {stage.name}.", code="duplicate") from None
    CultivationNote.objects.create(entry=entry, noted_on=today, author=audit.actor_or_none(actor),
                                   status=PoolStatus.POOLED, text=(note or "").strip() or "入库 pooled")
    audit.record("pool", entry, actor=actor, via=via, firm_id=firm.id, changes={
        "target_stage": stage.code, "target_tier": tier.code if tier else None, "target_year": year,
        "owner": owner.pk if owner else None, "status": PoolStatus.POOLED,
    })
    return entry


@transaction.atomic
def update_cultivation_entry(entry, *, status=None, note=None, owner=UNSET, actor=None, via="", noted_on=None,
                             today=None):
    """Change status, owner, or add a dated note. Invalid transitions raise a field error on `status`.

    A new owner is written to the entry's notes as well (the board's history). Whether the owner may
    own this firm's entries is the caller's question (registry.pool.owner_for), asked before this.
    """
    today = today or timezone.localdate()
    entry = CultivationEntry.objects.select_for_update().get(pk=entry.pk)
    noted_on = noted_on or today
    changes = {}
    if status not in (None, ""):
        if status not in TRANSITIONS:
            raise field_error("status", f"Unknown pool status “{status}”.", code="unknown_status")
        if status != entry.status:
            if status not in TRANSITIONS[entry.status]:
                allowed = ", ".join(_label(s) for s in sorted(TRANSITIONS[entry.status])) or "none: the entry is closed"
                raise field_error("status", f"Cannot move from {_label(entry.status)} to {_label(status)} "
                                            f"(allowed: {allowed}).", code="invalid_transition")
            changes["status"] = [entry.status, status]
            entry.status = status
            if status in (PoolStatus.RECOGNIZED, PoolStatus.REJECTED):
                entry.closed_on = noted_on
    owner_note = None
    if owner is not UNSET and (owner.pk if owner else None) != entry.owner_id:
        changes["owner"] = [entry.owner_id, owner.pk if owner else None]
        owner_note = f"负责人 owner: {_username(entry.owner)} → {_username(owner)}"
        entry.owner = owner
    text = (note or "").strip()
    if not changes and not text:
        raise field_error("note", "Nothing to change: give a status, an owner or a note.", code="empty")
    entry.save()
    if text or "status" in changes:
        CultivationNote.objects.create(
            entry=entry, noted_on=noted_on, author=audit.actor_or_none(actor),
            status=entry.status if "status" in changes else "",
            text=text or f"{_label(changes['status'][0])} → {_label(entry.status)}",
        )
        if text:
            changes["note"] = text
    if owner_note:  # the card's history shows who handed it to whom
        CultivationNote.objects.create(entry=entry, noted_on=noted_on, author=audit.actor_or_none(actor), status="",
                                       text=owner_note)
    audit.record("pool_update", entry, actor=actor, via=via, firm_id=entry.firm_id, changes=changes)
    return entry


def matching_open_entries(certification):
    """Open entries this recognition fulfils: same firm and target stage, target tier if set, issued in or
    after the entry's creation year or its target year (whichever is earlier)."""
    entries = CultivationEntry.objects.select_for_update().filter(
        firm_id=certification.firm_id, target_stage_id=certification.stage_id, status__in=OPEN_POOL_STATUSES,
    )
    issued_year = certification.issued_on.year
    out = []
    for entry in entries:
        if entry.target_tier_id and entry.target_tier_id != certification.tier_id:
            continue
        created_year = timezone.localtime(entry.created_at).year if entry.created_at else issued_year
        if issued_year >= min(created_year, entry.target_year):
            out.append(entry)
    return out


@transaction.atomic
def close_entries_for(certification, *, via="certification_recorded"):
    """Close matching open entries as 已认定 with the certification linked; returns them."""
    if not isinstance(certification, Certification):
        certification = Certification.objects.get(pk=certification)
    if certification.status == CertificationStatus.REVOKED:
        return []
    closed = []
    for entry in matching_open_entries(certification):
        previous = entry.status
        entry.status = PoolStatus.RECOGNIZED
        entry.certification = certification
        entry.closed_on = certification.issued_on
        entry.save(update_fields=["status", "certification", "closed_on", "updated_at"])
        label = certification.certificate_no or certification.batch or certification.issued_on.isoformat()
        CultivationNote.objects.create(
            entry=entry, noted_on=timezone.localdate(), author=None, status=PoolStatus.RECOGNIZED,
            text=f"已认定: {certification.tier.name} {label} (issued {certification.issued_on.isoformat()}), "
                 f"closed automatically when the recognition was recorded.",
        )
        audit.record("pool_update", entry, via=via, firm_id=entry.firm_id, changes={
            "status": [previous, PoolStatus.RECOGNIZED], "certification": certification.pk,
        })
        closed.append(entry)
    return closed
