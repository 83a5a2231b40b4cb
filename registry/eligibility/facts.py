"""Firm facts for evaluation, fetched column-wise in a few queries (never one query per firm).

One row per firm: firm columns, the evaluation year's indicators, the same fields for up to three
earlier years (suffix `_p1`, `_p2`, `_p3`), `has_year`, and a boolean `holds__<tier>` per tier the
rules ask about (held on the evaluation date: valid that day and not revoked by then).
"""

import pandas as pd
from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import CharField, F, FilteredRelation, FloatField, Q
from django.db.models.functions import Cast

from registry.analytics.scope import held_on
from registry.models import Certification

INDICATOR_COLUMNS = (
    "revenue", "revenue_growth", "rd_expense", "total_cost", "employees", "rd_staff", "ip_class1", "ip_class2",
    "invention_patents", "hightech_revenue", "total_assets", "debt_ratio", "new_equity_financing", "valuation_usd",
)
HISTORY_COLUMNS = ("revenue", "rd_expense", "new_equity_financing")
FIRM_COLUMNS = ("id", "region__path", "founded_text", "listing_status")


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

    Money is cast to float and dates to ISO text in SQL, so a million values cost one C-level fetch
    instead of a Decimal or date construction each.
    """
    try:
        sql, params = queryset.query.sql_with_params()
    except EmptyResultSet:  # e.g. firms id__in an empty page
        return []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def load_facts(firms, on, year, tiers=(), columns=None, history=3):
    """A DataFrame indexed 0..n-1 for the firms queryset (ordered by id).

    `columns`/`history`: only these indicator columns and this many earlier years (default all).
    """
    columns = [c for c in INDICATOR_COLUMNS if columns is None or c in columns]
    kept = [c for c in HISTORY_COLUMNS if c in columns]
    # One row per firm: one LEFT JOIN per indicator year needed, each on the (firm, year) unique
    # index; firms without indicators keep their row (has_year false).
    joins = {f"y{back}": FilteredRelation("indicators", condition=Q(indicators__year=year - back))
             for back in range(history + 1)}
    pivot = {"has_year": Cast(F("y0__id"), FloatField())}
    pivot.update({c: Cast(F(f"y0__{c}"), FloatField()) for c in columns})
    for back in range(1, history + 1):
        pivot.update({f"{c}_p{back}": Cast(F(f"y{back}__{c}"), FloatField()) for c in kept})
    query = (
        firms.annotate(**joins).annotate(founded_text=Cast(F("founded_on"), CharField()), **pivot)
        .order_by("id").values_list(*FIRM_COLUMNS, *pivot)
    )
    frame = pd.DataFrame.from_records(raw_rows(query), columns=[*FIRM_COLUMNS, *pivot])
    frame = frame.rename(columns={"id": "firm_id", "region__path": "region_path", "founded_text": "founded_on"})
    # Dates come as ISO text (cast in SQL), parsed in one vectorised call instead of one per row.
    frame["founded_on"] = pd.to_datetime(frame["founded_on"], format="%Y-%m-%d", errors="coerce")
    frame["has_year"] = frame["has_year"].notna()
    for column in pivot:
        if column != "has_year":
            frame[column] = frame[column].astype("float64")
    ids = firms.values("id")
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
