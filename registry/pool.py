"""Reading the cultivation pool (培育库), for the API and the pages alike; writes are in services/cultivation.py."""

from registry.analytics.scope import firm_scope
from registry.models import CultivationEntry
from registry.permissions import can_write_firm, cultivation_entries_visible_to


def pool_entries(user, *, region=None, status=None, target_stage=None, target_year=None):
    """Entries the user may read, newest first; an unknown region code raises a ValidationError naming `region`."""
    entries = cultivation_entries_visible_to(user, CultivationEntry.objects.select_related("firm"))
    entries = entries.filter(firm_scope(region, None, None))
    if status:
        entries = entries.filter(status=status)
    if target_stage:
        entries = entries.filter(target_stage__code=target_stage)
    if target_year:
        entries = entries.filter(target_year=target_year)
    return entries.order_by("-created_at", "-id")


def writable_entry(user, pk):
    """The entry with this id if the user may change it, else None (absent and out of scope look the same)."""
    entry = CultivationEntry.objects.select_related("firm__region").filter(pk=pk).first()
    if entry is None or not can_write_firm(user, entry.firm):
        return None
    return entry
