"""The cohort funnel: of the firms that first reached stage A in a year, how many went on to B, C…

Definitions (docs/analytics.md):
- Cohort: firms whose FIRST non-revoked recognition at the first listed stage was issued in
  `cohort_year` (entry date = that issue date).
- A later stage S counts as reached on the earliest issue date of a recognition at S **or any
  higher stage**: a firm that skips a rung (科小 → 瞪羚 without 高企) reaches 高企 on its 瞪羚 date.
- A stage reached before the previous step (a 高企 that was evaluated as 科小 later) counts as
  reached on the previous step's date (0 years), so every step is a subset of the one before.
- With `window_years`, a stage counts only when reached within that many years after the entry
  date (entry + N years, inclusive).
- Revoked recognitions do not count.
- medianYearsFromPrevious: the median of (reach date − previous step's date) in days / 365.25 over
  the firms that reached the step, rounded to 2 decimals.
"""

import pandas as pd
from django.db.models import Case, Exists, F, Min, OuterRef, When

from registry.analytics.precomputed import in_scope, reach_rows, use_live
from registry.analytics.scope import NOT_REVOKED, add_years, stages_in_order, year_bounds
from registry.models import Certification, FirmStageReach

DAYS_PER_YEAR = 365.25


def reach_query(stages, cohort_year, region=None, chain=None, user=None, live=None):
    """One grouped query: per cohort firm, the entry date and the first date at/above each later stage.

    Over the precomputed first date per firm and stage (registry.analytics.precomputed) or, live,
    over every counted recognition: MIN of the per-stage MINs is the same MIN."""
    first = stages[0]
    start, end = year_bounds(cohort_year)
    if use_live(live):
        # Firms with a recognition at the first stage in the cohort year and none before it: an index-only
        # range scan on (stage, issued_on, firm, status) plus an anti-join on (firm, stage, issued_on).
        earlier = Certification.objects.filter(NOT_REVOKED, firm_id=OuterRef("firm_id"), stage_id=first.id,
                                               issued_on__lt=start)
        entered = (
            Certification.objects.filter(NOT_REVOKED, stage_id=first.id, issued_on__gte=start, issued_on__lte=end)
            .filter(~Exists(earlier)).values("firm_id")
        )
    else:  # one row per firm and stage, holding the first date: a range scan on (stage, issued_on, firm)
        entered = in_scope(FirmStageReach.objects.filter(stage_id=first.id, issued_on__gte=start, issued_on__lte=end),
                           region).values("firm_id")
    annotations = {"entry": Min(Case(When(stage_id=first.id, then=F("issued_on"))))}
    for k, stage in enumerate(stages[1:], start=1):
        annotations[f"s{k}"] = Min(Case(When(stage__rank__gte=stage.rank, then=F("issued_on"))))
    return (
        reach_rows(region, chain, user, live)
        .filter(firm_id__in=entered, stage__rank__gte=first.rank)
        .values("firm_id")
        .annotate(**annotations)
        .filter(entry__gte=start, entry__lte=end)
        .order_by()
    )


def reach_frame(stages, cohort_year, region=None, chain=None, window_years=None, user=None, live=None):
    """DataFrame per cohort firm: firm_id, d0 (entry), d1…dn (reach dates after the rules above; NaT = not reached)."""
    rows = list(reach_query(stages, cohort_year, region, chain, user, live).values_list(
        "firm_id", "entry", *[f"s{k}" for k in range(1, len(stages))]))
    columns = ["firm_id"] + [f"d{k}" for k in range(len(stages))]
    frame = pd.DataFrame.from_records(rows, columns=columns)
    for k in range(len(stages)):
        frame[f"d{k}"] = pd.to_datetime(frame[f"d{k}"])
    for k in range(1, len(stages)):
        previous = frame[f"d{k - 1}"]
        frame[f"d{k}"] = frame[f"d{k}"].where(frame[f"d{k}"].isna() | (frame[f"d{k}"] >= previous), previous)
        frame[f"d{k}"] = frame[f"d{k}"].where(previous.notna())
        if window_years is not None:
            limit = frame["d0"].map(lambda d: pd.Timestamp(add_years(d.date(), window_years)))
            frame[f"d{k}"] = frame[f"d{k}"].where(frame[f"d{k}"] <= limit)
    return frame


def funnel(stages, cohort_year, region=None, chain=None, window_years=None, user=None, live=None):
    """{cohort_year, window_years, steps: [{stage, count, conversion_from_previous, conversion_from_first,
    median_years_from_previous}]}."""
    stages = stages_in_order(stages)
    frame = reach_frame(stages, int(cohort_year), region, chain, window_years, user, live)
    steps, first_count, previous_count = [], len(frame), None
    for k, stage in enumerate(stages):
        reached = frame[f"d{k}"].notna()
        count = int(reached.sum())
        median = None
        if k > 0 and count:
            years = (frame.loc[reached, f"d{k}"] - frame.loc[reached, f"d{k - 1}"]).dt.days / DAYS_PER_YEAR
            median = round(float(years.median()), 2)
        steps.append({
            "stage": stage.code,
            "count": count,
            "conversion_from_previous": None if k == 0 else (count / previous_count if previous_count else None),
            "conversion_from_first": (count / first_count) if first_count else None,
            "median_years_from_previous": median,
        })
        previous_count = count
    return {"cohort_year": int(cohort_year), "window_years": window_years, "steps": steps}


__all__ = ["funnel", "reach_frame", "reach_query"]
