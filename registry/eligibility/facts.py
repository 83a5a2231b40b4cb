"""Firm facts for evaluation, fetched column-wise in a few queries (never one query per firm).

One row per firm: firm columns, the evaluation year's indicators, the same fields for up to three
earlier years (suffix `_p1`, `_p2`, `_p3`), `has_year`, and a boolean `holds__<tier>` per tier the
rules ask about (held on the evaluation date: valid that day and not revoked by then).
"""

import pandas as pd
from django.db import connection
from django.db.models import F, FloatField, Q
from django.db.models.functions import Cast

from registry.models import Certification, CertificationStatus, IndicatorYear

INDICATOR_COLUMNS = (
    "revenue", "revenue_growth", "rd_expense", "total_cost", "employees", "rd_staff", "ip_class1", "ip_class2",
    "invention_patents", "hightech_revenue", "total_assets", "debt_ratio", "new_equity_financing", "valuation_usd",
)
HISTORY_COLUMNS = ("revenue", "rd_expense", "new_equity_financing")
FIRM_COLUMNS = ("id", "region__path", "founded_on", "listing_status")


def held_on(day):
    """Q for recognitions held on a past or present day, whatever their status says today.

    Expired records were valid on their own dates; a revoked record counted until its revocation day.
    """
    return Q(valid_from__lte=day, valid_until__gte=day) & (
        ~Q(status=CertificationStatus.REVOKED) | Q(revoked_on__gt=day)
    )


def tiers_needed(thresholds):
    codes = set()

    def walk(specs):
        for spec in specs:
            codes.update(spec.get("holds", []))
            walk(spec.get("any_of", []) + spec.get("all_of", []))

    for key in ("basic", "direct", "criteria"):
        walk(thresholds.get(key, []))
    return codes


def raw_rows(queryset):
    """Rows of a values_list queryset straight from the cursor: no per-value Python converters.

    Money is cast to float in SQL (see `float_columns`), so 1M values cost one C-level fetch instead
    of a Decimal construction each.
    """
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def float_columns(queryset, columns):
    """values_list of `columns`, each cast to a float in the database."""
    casts = {f"{c}__f": Cast(F(c), FloatField()) for c in columns}
    return queryset.annotate(**casts).values_list(*casts)


def load_facts(firms, on, year, tiers=(), columns=None, history=3):
    """A DataFrame indexed 0..n-1 for the firms queryset (ordered by id).

    `columns`/`history`: only these indicator columns and this many earlier years (default all).
    """
    columns = [c for c in INDICATOR_COLUMNS if columns is None or c in columns]
    frame = pd.DataFrame.from_records(raw_rows(firms.order_by("id").values_list(*FIRM_COLUMNS)), columns=FIRM_COLUMNS)
    frame = frame.rename(columns={"id": "firm_id", "region__path": "region_path"})
    frame["founded_on"] = pd.to_datetime(frame["founded_on"])
    if frame.empty:
        frame["has_year"] = pd.Series(dtype=bool)
        return frame
    ids = firms.values("id")
    indicators = IndicatorYear.objects.filter(firm_id__in=ids, year__gte=year - history, year__lte=year).order_by()
    rows = pd.DataFrame.from_records(
        raw_rows(float_columns(indicators, ("firm_id", "year", *columns))),
        columns=("firm_id", "year", *columns),
    )
    rows["firm_id"] = rows["firm_id"].astype("int64")
    rows["year"] = rows["year"].astype("int64")
    this = rows[rows["year"] == year].drop(columns="year")
    this = this.assign(has_year=True)
    frame = frame.merge(this, on="firm_id", how="left")
    kept = [c for c in HISTORY_COLUMNS if c in columns]
    for back in range(1, history + 1):
        past = rows[rows["year"] == year - back][["firm_id", *kept]]
        past = past.rename(columns={c: f"{c}_p{back}" for c in kept})
        frame = frame.merge(past, on="firm_id", how="left")
    frame["has_year"] = frame["has_year"].astype("boolean").fillna(False).astype(bool)
    for code in sorted(tiers):
        frame[f"holds__{code}"] = False
    if tiers:
        held = set(
            Certification.objects.filter(held_on(on), firm_id__in=ids, tier__code__in=list(tiers))
            .values_list("firm_id", "tier__code").distinct()
        )
        for code in tiers:
            holders = {firm_id for firm_id, tier in held if tier == code}
            frame[f"holds__{code}"] = frame["firm_id"].isin(holders)
    return frame
