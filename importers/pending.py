"""Pending rows (待匹配): name-only rows whose name no firm has, resolved by an officer later.

    attach_pending_row(row, user, firm)            # the row is this firm's; its name becomes an alias
    create_firm_for_pending(row, user, uscc=...)   # the firm is new: create it, then apply the row
    dismiss_pending_row(row, user, note)           # not a firm we keep

Each applies the row as the import would have (importers.services.Run.apply_one), within the
user's regions, and leaves the decision on the row (who, when).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from registry import permissions
from registry.data import resolve_region
from registry.models import Firm, Region
from registry.services import upsert_firm
from registry.services.aliases import add_firm_names
from registry.uscc import USCCError, validate

from .models import ImportPendingRow, PendingStatus
from .services import ImportRefused, apply_held, can_import, check_row_region, run_as


def _check(row, user):
    if row.status != PendingStatus.PENDING:
        raise ImportRefused(f"This row is already {row.get_status_display()}.")
    if not can_import(user):
        raise ImportRefused("Only officers and administrators may resolve pending rows.")


def _decide(row, status, user, firm=None, note=""):
    row.status, row.firm, row.decided_by, row.decided_at = status, firm, user, timezone.now()
    row.note = note or row.note
    row.save(update_fields=["status", "firm", "decided_by", "decided_at", "note"])


def attach_pending_row(row, user, firm, *, note="", status=PendingStatus.ATTACHED):
    """Apply the row to ``firm`` and remember the row's name as the firm's alias, so the next list
    that uses this name matches by itself. Returns the outcome (created / updated / unchanged)."""
    _check(row, user)
    values = dict(row.values)
    check_row_region(values, firm, user)
    run = run_as(row.job, user)
    with transaction.atomic():
        outcome = apply_held(run, row, values, firm=firm)
        if row.name:
            add_firm_names(firm, aliases=[row.name], source=row.job.file_name, actor=user, via=row.job.via)
        _decide(row, status, user, firm, note)
    return outcome


def region_for_new_firm(row, uscc, region=None):
    """The region given, else the row's own, else the USCC's division code (characters 3–8, nearest
    known ancestor)."""
    for text in (region, row.values.get("region")):
        if text:
            code = resolve_region(text)
            if code is None:
                raise ImportRefused(f"Unknown region “{text}”.", field="region")
            return code
    division = uscc[2:8]
    for code in (division, division[:4] + "00", division[:2] + "0000"):
        if Region.objects.filter(code=code).exists():
            return code
    raise ImportRefused("Give the firm's region: the row names none and the USCC's division code is unknown.",
                        field="region")


def create_firm_for_pending(row, user, *, uscc, region=None, note=""):
    """Create the firm the row names once its USCC is known (or use the firm that has the USCC
    already), then apply the row to it. Returns (firm, outcome)."""
    _check(row, user)
    try:
        code = validate(uscc)
    except USCCError as error:
        raise ImportRefused(f"统一社会信用代码 {error}", field="uscc") from None
    firm = Firm.objects.filter(uscc=code).select_related("region").first()
    if firm is not None:
        return firm, attach_pending_row(row, user, firm, note=note)
    region_code = region_for_new_firm(row, code, region)
    scope = permissions.region_paths(user) if user is not None else None
    path = Region.objects.filter(code=region_code).values_list("path", flat=True).first() or ""
    if scope is not None and not any(path.startswith(p) for p in scope):
        raise ImportRefused(f"Region {region_code} is outside the regions you may import into.", field="region")
    with transaction.atomic():
        try:
            firm, _ = upsert_firm(code, name=row.name, region=region_code, actor=user, via=row.job.via)
        except ValidationError as error:
            raise ImportRefused(" ".join(error.messages)) from None
        firm = Firm.objects.select_related("region").get(pk=firm.pk)
        outcome = attach_pending_row(row, user, firm, note=note, status=PendingStatus.CREATED)
    return firm, outcome


def dismiss_pending_row(row, user, note=""):
    _check(row, user)
    _decide(row, PendingStatus.DISMISSED, user, note=note)
    return row


def pending_rows_visible_to(user):
    """Rows of the jobs the user can see (their own; every job for administrators)."""
    if permissions.is_admin(user):
        return ImportPendingRow.objects.all()
    if user is None or not getattr(user, "is_authenticated", False):
        return ImportPendingRow.objects.none()
    return ImportPendingRow.objects.filter(job__created_by=user)
