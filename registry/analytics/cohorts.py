"""Cohort table: entry year × years since entry → share of the cohort that reached the next stage.

Definitions (docs/analytics.md):
- Entry: a firm's first non-revoked recognition at `stage`; its cohort is that issue year.
- Reached: the first non-revoked recognition at `next_stage` or any higher stage (skipped rungs
  count, as in the funnel); one reached before entry counts as reached at entry (0 years).
- Years since entry k: reach year − entry year (calendar years). Cell (Y, k) is cumulative — the
  share of cohort Y that reached the next stage by the end of year Y + k. Cells are shown up to
  the last complete-or-current year (`as_of`).
Drill-down: `cohort_firms` lists the firms behind any cell; `firms_csv` exports them.
"""

import csv
import io

import pandas as pd
from django.db.models import Case, F, Min, When
from django.utils import timezone

from registry.analytics.precomputed import reach_rows
from registry.analytics.scope import year_bounds
from registry.models import Firm, Stage
from registry.services.errors import field_error
from registry.services.ladder import get_stage


def next_stage_of(stage):
    following = Stage.objects.filter(rank__gt=stage.rank, region__isnull=True).order_by("rank").first()
    if following is None:
        raise field_error("next_stage", f"“{stage.code}” is the top of the ladder.", code="top_stage")
    return following


def entry_reach_frame(stage, next_stage=None, region=None, chain=None, user=None, entry_years=None, live=None):
    """DataFrame per firm that entered `stage`: firm_id, entry, reached (NaT when not reached)."""
    stage = get_stage(stage)
    next_stage = get_stage(next_stage) if next_stage else next_stage_of(stage)
    if next_stage.rank <= stage.rank:
        raise field_error("next_stage", "The next stage must be above the entry stage.", code="stage_order")
    query = (
        reach_rows(region, chain, user, live)
        .filter(stage__rank__gte=stage.rank)
        .values("firm_id")
        .annotate(
            entry=Min(Case(When(stage_id=stage.id, then=F("issued_on")))),
            reached=Min(Case(When(stage__rank__gte=next_stage.rank, then=F("issued_on")))),
        )
        .filter(entry__isnull=False)
        .order_by()
    )
    if entry_years is not None:
        first, last = entry_years
        query = query.filter(entry__gte=year_bounds(first)[0], entry__lte=year_bounds(last)[1])
    frame = pd.DataFrame.from_records(list(query.values_list("firm_id", "entry", "reached")),
                                      columns=["firm_id", "entry", "reached"])
    frame["entry"] = pd.to_datetime(frame["entry"])
    frame["reached"] = pd.to_datetime(frame["reached"])
    frame["reached"] = frame["reached"].where(frame["reached"].isna() | (frame["reached"] >= frame["entry"]), frame["entry"])
    frame["entry_year"] = frame["entry"].dt.year
    frame["years_to_reach"] = frame["reached"].dt.year - frame["entry_year"]
    return frame, stage, next_stage


def cohort_table(stage, next_stage=None, region=None, chain=None, user=None, first_year=None, last_year=None,
                 as_of=None, live=None):
    """{stage, next_stage, rows: [{entry_year, size, cells: [{years_since_entry, reached, share}]}]}."""
    as_of = as_of or timezone.localdate()
    last_year = last_year or as_of.year
    years = (first_year or 1900, last_year)
    frame, stage, next_stage = entry_reach_frame(stage, next_stage, region, chain, user, years, live)
    rows = []
    for entry_year, group in frame.groupby("entry_year", sort=True):
        size = len(group)
        cells = []
        for k in range(0, as_of.year - int(entry_year) + 1):
            reached = int((group["years_to_reach"] <= k).sum())
            cells.append({"years_since_entry": k, "reached": reached, "share": reached / size})
        rows.append({"entry_year": int(entry_year), "size": size, "cells": cells})
    return {"stage": stage.code, "next_stage": next_stage.code, "rows": rows}


def cohort_firms(stage, entry_year, next_stage=None, years_since_entry=None, reached=None, region=None, chain=None,
                 user=None, live=None):
    """The firms behind a cohort number.

    `years_since_entry=None, reached=None`: the whole cohort; `reached=True` with k: those that
    reached the next stage within k years (the cell's numerator); `reached=False`: the others.
    """
    frame, _, _ = entry_reach_frame(stage, next_stage, region, chain, user, (entry_year, entry_year), live)
    if reached is not None:
        hit = frame["reached"].notna()
        if years_since_entry is not None:
            hit = hit & (frame["years_to_reach"] <= years_since_entry)
        frame = frame[hit if reached else ~hit]
    firms = Firm.objects.select_related("region").in_bulk(list(frame["firm_id"]))
    out = []
    for row in frame.sort_values(["entry", "firm_id"]).itertuples():
        firm = firms[row.firm_id]
        out.append({
            "firm": firm, "uscc": firm.uscc, "name": firm.name, "region": firm.region_id, "region_name": firm.region.name,
            "entered_on": row.entry.date(), "reached_on": None if pd.isna(row.reached) else row.reached.date(),
        })
    return out


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Cells that a spreadsheet would run as a formula get a leading apostrophe (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def firms_csv(rows):
    """CSV text of a drill-down list (UTF-8 with BOM so Excel reads the Chinese names)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(["uscc", "name", "region", "region_name", "entered_on", "reached_on"])
    for row in rows:
        writer.writerow([neutralise(row[c]) for c in ("uscc", "name", "region", "region_name")]
                        + [row["entered_on"].isoformat(), row["reached_on"].isoformat() if row["reached_on"] else ""])
    return out.getvalue()
