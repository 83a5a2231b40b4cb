"""Firm facts for evaluation, fetched column-wise in a few queries (never one query per firm).

One row per firm: firm columns, the evaluation year's indicators, the same fields for up to three
earlier years (suffix `_p1`, `_p2`, `_p3`), `has_year`, and a boolean `holds__<tier>` per tier the
rules ask about (held on the evaluation date: valid that day and not revoked by then).
"""

import datetime

import pandas as pd
from django.db.models import CharField, F, FilteredRelation, FloatField, Q
from django.db.models.functions import Cast

from registry.analytics.scope import held_on
from registry.eligibility.engine import qualification_key
from registry.models import Certification, Firm, Qualification
from registry.services.ladder import add_months
from registry.statements import raw_rows, rows_for_ids

INDICATOR_COLUMNS = (
    "revenue", "revenue_growth", "rd_expense", "total_cost", "employees", "rd_staff", "ip_class1", "ip_class2",
    "invention_patents", "hightech_revenue", "total_assets", "debt_ratio", "new_equity_financing", "valuation_usd",
)
HISTORY_COLUMNS = ("revenue", "rd_expense", "new_equity_financing")
# registry.models.IndicatorDetail: figures the rules need beyond the statistics return.
DETAIL_COLUMNS = ("rd_expense_domestic", "main_business_revenue", "innovation_ip", "innovation_conversion",
                  "innovation_rd_management", "innovation_growth")
DETAIL_HISTORY_COLUMNS = ("rd_expense_domestic", "main_business_revenue")
QUALIFICATION_PREFIX = "qualification:"
FIRM_COLUMNS = ("id", "region__path", "founded_text", "listing_status")
NAN = float("nan")


def tiers_needed(thresholds):
    codes = set()

    def walk(specs):
        for spec in specs:
            codes.update(spec.get("holds", []))
            if "qualification" in spec:  # computed by load_facts from Qualification rows, not a tier
                codes.add(qualification_key(spec["qualification"]))
            walk(spec.get("any_of", []) + spec.get("all_of", []))

    for key in ("basic", "direct", "criteria"):
        walk(thresholds.get(key, []))
    return codes


def facts_query(firms, year, columns=None, history=3, extra=()):
    """(values_list query, its column names) of one row per firm: the firm columns and the pivoted
    indicator years `load_facts` and `fact_rows` read, money cast to float and dates to ISO text in SQL;
    then the `extra` annotations of `firms`.

    `columns`/`history`: only these indicator columns and this many earlier years (default all).
    """
    details = [c for c in DETAIL_COLUMNS if columns is not None and c in columns]
    kept_details = [c for c in DETAIL_HISTORY_COLUMNS if c in details]
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
    if details:
        joins.update({f"d{back}": FilteredRelation("indicator_details", condition=Q(indicator_details__year=year - back))
                      for back in range(history + 1 if kept_details else 1)})
        pivot.update({c: Cast(F(f"d0__{c}"), FloatField()) for c in details})
        for back in range(1, history + 1 if kept_details else 1):
            pivot.update({f"{c}_p{back}": Cast(F(f"d{back}__{c}"), FloatField()) for c in kept_details})
    query = (
        firms.annotate(**joins).annotate(founded_text=Cast(F("founded_on"), CharField()), **pivot)
        .order_by("id").values_list(*FIRM_COLUMNS, *pivot, *extra)
    )
    names = ["firm_id", "region_path", "founded_on", "listing_status", *pivot, *extra]
    return query, names


def load_facts(firms, on, year, tiers=(), columns=None, history=3):
    """A DataFrame indexed 0..n-1 for the firms queryset (ordered by id).

    `columns`/`history`: only these indicator columns and this many earlier years (default all).
    """
    query, names = facts_query(firms, year, columns, history)
    frame = pd.DataFrame.from_records(raw_rows(query), columns=names)
    # Dates come as ISO text (cast in SQL), parsed in one vectorised call instead of one per row.
    frame["founded_on"] = pd.to_datetime(frame["founded_on"], format="%Y-%m-%d", errors="coerce")
    frame["has_year"] = frame["has_year"].notna()
    for column in names[4:]:
        if column != "has_year":
            frame[column] = frame[column].astype("float64")
    held = held_tiers(firms.values("id"), tiers, on)
    for code in sorted(held):
        frame[code if code.startswith(QUALIFICATION_PREFIX) else f"holds__{code}"] = frame["firm_id"].isin(held[code])
    return frame


def fact_rows(firms, on, year, tiers=(), columns=None, history=3, extra=()):
    """load_facts for a few firms as plain dicts (one per firm, by id), without building a frame:
    the same columns and values, founded_on a datetime.date or None (registry.eligibility.single);
    plus the `extra` annotations of `firms` as they come."""
    query, names = facts_query(firms, year, columns, history, extra)
    return _as_rows(raw_rows(query), names, len(extra), on, tiers)


_column_names = {}  # fact_rows_of's statement key -> its column names


def fact_rows_of(ids, flags, on, year, tiers=(), columns=None, history=3):
    """fact_rows of the firms with these ids, with the boolean `flags` ({name: expression}) as extra
    columns; the statement compiled once per shape (registry.statements.rows_for_ids)."""
    key = ("facts", year, None if columns is None else tuple(sorted(columns)), history,
           tuple((name, str(expression)) for name, expression in flags.items()))

    def build(firm_ids):
        query, _column_names[key] = facts_query(Firm.objects.filter(id__in=firm_ids).annotate(**flags), year,
                                                columns, history, list(flags))
        return query

    records = rows_for_ids(key, ids, build)
    return _as_rows(records, _column_names[key], len(flags), on, tiers) if records else []


def _as_rows(records, names, n_extra, on, tiers):
    figures = names[5:len(names) - n_extra]
    rows = [dict(zip(names, row)) for row in records]
    if not rows:
        return rows
    held = held_tiers([row["firm_id"] for row in rows], tiers, on)
    for row in rows:
        row["founded_on"] = _date(row["founded_on"])
        row["has_year"] = row["has_year"] is not None
        for column in figures:
            if row[column] is None:
                row[column] = NAN
        for code, holders in held.items():
            row[code if code.startswith(QUALIFICATION_PREFIX) else f"holds__{code}"] = row["firm_id"] in holders
    return rows


def _as_date(value):
    """A date column's value fetched raw: a date, or ISO text (SQLite), or None."""
    return datetime.date.fromisoformat(value) if isinstance(value, str) else value


def _date(text):
    """ISO text → date, None where load_facts' pd.to_datetime(errors="coerce") gives NaT (outside pandas' range)."""
    if text is None:
        return None
    value = datetime.date.fromisoformat(text)
    return value if pd.Timestamp.min.date() <= value <= pd.Timestamp.max.date() else None


def held_tiers(ids, tiers, on):
    """{tier code or qualification route key: ids of the firms among `ids` (a list, or a queryset of
    them) holding it on `on`}."""
    routes = sorted(code for code in tiers if code.startswith(QUALIFICATION_PREFIX))
    codes = [code for code in tiers if not code.startswith(QUALIFICATION_PREFIX)]
    out = {code: set() for code in codes}
    if routes:
        out.update(qualification_holders(ids, routes, on))
    if codes:
        def holders(firm_ids):
            return (Certification.objects.filter(held_on(on), firm_id__in=firm_ids, tier__code__in=sorted(codes))
                    .order_by().values_list("firm_id", "tier__code").distinct())

        for firm_id, code in rows_for_ids(("held tiers", on, tuple(sorted(codes))), ids, holders):
            out[code].add(firm_id)
    return out


def qualifies(row, spec, on):
    """Does one qualification row (kind, level, awarded_on, valid_until, rank) satisfy a route spec on `on`?

    `within_years` N: awarded on or after the same day N years before `on`, and not after `on`;
    `held`: awarded by `on` and not lapsed (valid_until empty or on/after `on`); `max_rank`: the
    firm's place among the completing units is known and at most that (unknown rank never qualifies).
    """
    kind, level, awarded_on, valid_until, rank = row
    if kind not in spec.get("kinds", (kind,)) or level not in spec.get("levels", (level,)):
        return False
    if awarded_on > on:
        return False
    if "within_years" in spec and awarded_on < add_months(on, -12 * spec["within_years"]):
        return False
    if spec.get("held") and valid_until is not None and valid_until < on:
        return False
    if spec.get("max_rank") is not None and (rank is None or rank > spec["max_rank"]):
        return False
    return True


def qualification_holders(ids, routes, on):
    """{route key: ids of the firms among `ids` whose Qualification rows satisfy the route}."""
    import json

    specs = {key: json.loads(key[len(QUALIFICATION_PREFIX):]) for key in routes}
    kinds = sorted({k for spec in specs.values() for k in spec.get("kinds", [])})

    def awards(firm_ids):
        return Qualification.objects.filter(firm_id__in=firm_ids, kind__in=kinds).values_list(
            "firm_id", "kind", "level", "awarded_on", "valid_until", "rank")

    rows = [(firm_id, kind, level, _as_date(awarded_on), _as_date(valid_until), rank)
            for firm_id, kind, level, awarded_on, valid_until, rank in rows_for_ids(("awards", tuple(kinds)), ids, awards)]
    by_key = {key: set() for key in specs}
    for firm_id, *row in rows:
        for key, spec in specs.items():
            if qualifies(row, spec, on):
                by_key[key].add(firm_id)
    return by_key
