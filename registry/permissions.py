"""Roles and district scope in one place; the API, admin and services ask here."""

from registry import uscc as uscc_codes
from registry.models import Certification, CultivationEntry, Firm, IndicatorYear, Region, Role, RoleAssignment

WRITER_ROLES = frozenset({Role.ADMIN, Role.OFFICER})


def role_of(user):
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if user.is_superuser:
        return Role.ADMIN
    try:
        return user.cultivar_role.role
    except RoleAssignment.DoesNotExist:
        return None


def is_admin(user):
    return role_of(user) == Role.ADMIN


def region_paths(user):
    """Region path prefixes the user is scoped to, or None when the user sees every region.

    Cached on the user object, so one request asks the database once.
    """
    role = role_of(user)
    if role in (Role.ADMIN, Role.ANALYST, Role.INVESTOR):
        return None
    if role == Role.OFFICER:
        cached = getattr(user, "_cultivar_region_paths", None)
        if cached is None:
            cached = list(user.cultivar_role.regions.values_list("path", flat=True))
            user._cultivar_region_paths = cached
        return list(cached)
    return []


def regions_in_scope(user):
    """A Region queryset of everything the user may see (None = all)."""
    paths = region_paths(user)
    if paths is None:
        return None
    query = Region.objects.none()
    for path in paths:
        query = query | Region.objects.filter(path__startswith=path)
    return query


def region_codes_in_scope(user):
    """The codes of every region the user may see, as a list (None = all); cached on the user object.

    A list, not a subquery: PostgreSQL estimates a path-prefix subquery at one region, so an
    officer's first firms page (300,000 firms, 11 districts) joined all 62,000 of their firms
    before sorting (865 ms); with the codes written out it reads the id index (0.3 ms).
    """
    scope = regions_in_scope(user)
    if scope is None:
        return None
    cached = getattr(user, "_cultivar_region_codes", None)
    if cached is None:
        cached = list(scope.values_list("code", flat=True))
        user._cultivar_region_codes = cached
    return list(cached)


def firms_visible_to(user, queryset=None, *, via=""):
    """Firms (or rows reached through `via`, e.g. "firm__") the user may read."""
    queryset = Firm.objects.all() if queryset is None else queryset
    if not role_of(user):
        return queryset.none()
    codes = region_codes_in_scope(user)
    if codes is None:
        return queryset
    return queryset.filter(**{f"{via}region__in": codes})


def certifications_visible_to(user, queryset=None):
    return firms_visible_to(user, Certification.objects.all() if queryset is None else queryset, via="firm__")


def indicators_visible_to(user, queryset=None):
    return firms_visible_to(user, IndicatorYear.objects.all() if queryset is None else queryset, via="firm__")


def can_read_firm(user, firm):
    role = role_of(user)
    if not role:
        return False
    paths = region_paths(user)
    if paths is None:
        return True
    region_path = firm.region.path
    return any(region_path.startswith(p) for p in paths)


# Field scope — the ONE place that says, per role, which indicator figures are read raw, only as a
# band (registry.eligibility.screening), or not at all. Investors (投资团队) screen on bands and
# derived measures, never on raw figures: indicator data from tax and statistics offices is
# confidential. The GraphQL field and argument rules (api_graphql/core/permissions.py), the `firms`
# filters, the screening query and its CSV export all read this table; docs/api.md prints it.
RAW, BANDED, HIDDEN = "raw", "banded", "hidden"
INDICATOR_FIGURES = (
    "revenue", "revenue_growth", "rd_expense", "rd_intensity", "total_cost", "employees", "rd_staff", "ip_class1",
    "ip_class2", "invention_patents", "hightech_revenue", "total_assets", "debt_ratio", "new_equity_financing",
    "valuation_usd",
)
FIELD_POLICY = {
    Role.INVESTOR: {
        "revenue": BANDED, "revenue_growth": BANDED, "rd_intensity": BANDED, "employees": RAW,
        "ip_class1": RAW, "ip_class2": RAW, "invention_patents": RAW, "valuation_usd": RAW,
        "rd_expense": HIDDEN, "total_cost": HIDDEN, "rd_staff": HIDDEN, "hightech_revenue": HIDDEN,
        "total_assets": HIDDEN, "debt_ratio": HIDDEN, "new_equity_financing": HIDDEN,
    },
}
# The band (registry.eligibility.screening.BANDS) each banded figure is shown and filtered as.
BAND_OF = {"revenue": "revenue_band", "revenue_growth": "growth_band", "rd_intensity": "rd_intensity_band",
           "employees": "headcount_band"}


def field_access(role, figure):
    """RAW, BANDED or HIDDEN: how `role` may read an indicator figure (roles without a row: raw)."""
    if role is None:
        return HIDDEN
    return FIELD_POLICY.get(role, {}).get(figure, RAW)


# Derived for the older public names (other pages and exports use them).
INVESTOR_PUBLIC_INDICATOR_FIELDS = frozenset(
    {"id", "year"} | {f for f in INDICATOR_FIGURES if field_access(Role.INVESTOR, f) == RAW}
)
# Firm list filters that would reveal a restricted indicator through what they select.
INVESTOR_RESTRICTED_FIRM_FILTERS = frozenset({"revenue_min", "revenue_max", "rd_intensity_min", "revenue_growth_min"})


def can_read_indicator_field(user, field):
    role = role_of(user)
    if role == Role.INVESTOR:
        return field in INVESTOR_PUBLIC_INDICATOR_FIELDS
    return role is not None


def can_read_cultivation(user):
    return role_of(user) in (Role.ADMIN, Role.OFFICER, Role.ANALYST)


def cultivation_entries_visible_to(user, queryset=None):
    """Pool entries (培育库) the user may read: not investors; officers only in their regions."""
    queryset = CultivationEntry.objects.all() if queryset is None else queryset
    if not can_read_cultivation(user):
        return queryset.none()
    return firms_visible_to(user, queryset, via="firm__")


def can_write(user):
    """May this user change the registry at all (before asking about a firm's region)?"""
    return role_of(user) in WRITER_ROLES


def writable_firm(user, uscc):
    """The firm with this USCC if the user may change it, else None: absent and out of scope look the same."""
    firm = Firm.objects.select_related("region").filter(uscc=uscc_codes.normalize(uscc)).first()
    if firm is None or not can_write_firm(user, firm):
        return None
    return firm


def can_write_firm(user, firm):
    return can_write_region(user, firm.region)


def can_write_region(user, region):
    """Officers write in their regions; admins everywhere; analysts and investors nowhere."""
    role = role_of(user)
    if role == Role.ADMIN:
        return True
    if role != Role.OFFICER or region is None:
        return False
    return any(region.path.startswith(p) for p in region_paths(user))
