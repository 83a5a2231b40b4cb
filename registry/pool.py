"""Reading the cultivation pool (培育库), for the API and the pages alike; writes are in services/cultivation.py.

Who may own (负责) an entry is decided here too, once for the board's select and the API's `owner`
argument: an active officer whose regions cover the firm's region, or an admin.
"""

from django.contrib.auth import get_user_model
from django.db.models import Q

from registry.analytics.scope import firm_scope
from registry.models import CultivationEntry, Role, RoleAssignment
from registry.permissions import can_write_firm, cultivation_entries_visible_to
from registry.regions import path_and_ancestors
from registry.services.errors import field_error


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


def possible_owners(regions):
    """{region code: the users who may own an entry for a firm there, by username} for these regions.

    Two queries whatever the number of regions (the board asks for every card's region at once).
    An officer is listed only under regions their scope covers, so a list never shows another
    district's officers.
    """
    regions = {region.code: region for region in regions}
    if not regions:
        return {}
    users = get_user_model().objects.filter(is_active=True)
    admins = list(users.filter(Q(is_superuser=True) | Q(cultivar_role__role=Role.ADMIN)))
    wanted = {path for region in regions.values() for path in path_and_ancestors(region.path)}
    covers = {}  # officer's user id → region paths of theirs among `wanted`
    for user_id, path in (RoleAssignment.objects.filter(role=Role.OFFICER, user__is_active=True,
                                                        user__is_superuser=False, regions__path__in=wanted)
                          .values_list("user_id", "regions__path")):
        covers.setdefault(user_id, set()).add(path)
    officers = {user.pk: user for user in users.filter(pk__in=covers)}
    out = {}
    for code, region in regions.items():
        mine = set(path_and_ancestors(region.path))
        listed = admins + [officers[pk] for pk, paths in covers.items() if paths & mine and pk in officers]
        out[code] = sorted(listed, key=lambda user: user.get_username())
    return out


def owner_for(firm, username):
    """The owner a caller named for an entry of `firm`: None for "" (no owner), else the user.

    A username that does not exist and one outside the firm's region get the same field error, so
    the answer never tells whether another district's user exists.
    """
    username = (username or "").strip()
    if not username:
        return None
    for owner in possible_owners([firm.region]).get(firm.region_id, ()):
        if owner.get_username() == username:
            return owner
    raise field_error("owner", f"“{username}” cannot own entries for firms in {firm.region.name}: the owner must "
                               f"be an officer of that region or an admin.", code="owner_out_of_scope")
