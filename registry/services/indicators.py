"""Yearly indicators: one row per firm and year; growth and R&D intensity are derived, never typed."""

from django.db import transaction

from registry.models import Firm, IndicatorYear
from registry.services import audit
from registry.services.errors import field_error
from registry.services.firms import typed
from registry.services.effects import INDICATORS, after_write

INDICATOR_FIELDS = (
    "revenue", "revenue_growth", "rd_expense", "total_cost", "employees", "rd_staff", "ip_class1", "ip_class2",
    "invention_patents", "hightech_revenue", "total_assets", "debt_ratio", "new_equity_financing", "valuation_usd",
    "source_name", "source_row",
)
NOT_COMPARED = ("source_name", "source_row")


def growth(revenue, previous_revenue):
    if revenue is None or not previous_revenue:
        return None
    return round(float(revenue) / float(previous_revenue) - 1, 6)


def check_values(values):
    for field, value in values.items():
        if field in ("revenue_growth", "source_name", "source_row") or value is None:
            continue
        if value < 0:
            raise field_error(field, f"{field} cannot be negative (got {value}).", code="negative")
    if values.get("rd_staff") is not None and values.get("employees") is not None and values["rd_staff"] > values["employees"]:
        raise field_error("rd_staff", f"R&D staff ({values['rd_staff']}) exceeds employees ({values['employees']}).")


def checked_year(year):
    """A report year as an int, or a ValidationError naming the year field."""
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise field_error("year", f"“{year}” is not a year.") from None
    if not 1949 <= year <= 2100:
        raise field_error("year", f"{year} is not a plausible year.")
    return year


@transaction.atomic
def upsert_indicators(firm, year, values, *, actor=None, via=""):
    """Create or update a firm's indicators for a year. Returns (row, "created" | "updated" | "unchanged")."""
    unknown = set(values) - set(INDICATOR_FIELDS)
    if unknown:
        raise field_error(sorted(unknown)[0], "Not an indicator field.")
    year = checked_year(year)
    values = typed(IndicatorYear, values)
    check_values(values)

    rows = {r.year: r for r in IndicatorYear.objects.select_for_update().filter(firm=firm, year__in=(year - 1, year, year + 1))}
    row = rows.get(year)
    created = row is None
    if created:
        row = IndicatorYear(firm=firm, year=year)
    previous = rows.get(year - 1)
    if previous is not None and previous.revenue and values.get("revenue", row.revenue) is not None:
        values["revenue_growth"] = growth(values.get("revenue", row.revenue), previous.revenue)

    provenance = {k: values.pop(k) for k in NOT_COMPARED if k in values}
    changes = audit.diff(row, values)
    if not created and not changes:
        return row, "unchanged"
    audit.diff(row, provenance)
    row.full_clean(exclude=["firm"])
    row.save()
    row.refresh_from_db(fields=["rd_intensity"])

    following = rows.get(year + 1)
    if following is not None and following.revenue is not None and row.revenue:
        following.revenue_growth = growth(following.revenue, row.revenue)
        following.save(update_fields=["revenue_growth", "updated_at"])
    refresh_latest_indicators([firm.id])
    audit.record("create" if created else "update", row, actor=actor, via=via, firm_id=firm.id, changes=changes)
    after_write([firm.id], changed=INDICATORS, sender=IndicatorYear)
    return row, "created" if created else "updated"


def refresh_latest_indicators(firm_ids):
    """Point each firm at its most recent indicator year (the one list filters use)."""
    latest = {}
    for firm_id, row_id, year in IndicatorYear.objects.filter(firm_id__in=firm_ids).values_list("firm_id", "id", "year"):
        if firm_id not in latest or year > latest[firm_id][1]:
            latest[firm_id] = (row_id, year)
    firms = list(Firm.objects.filter(id__in=firm_ids).only("id", "latest_indicators_id"))
    stale = [f for f in firms if f.latest_indicators_id != latest.get(f.id, (None,))[0]]
    for firm in stale:
        firm.latest_indicators_id = latest.get(firm.id, (None,))[0]
    Firm.objects.bulk_update(stale, ["latest_indicators"], batch_size=500)
