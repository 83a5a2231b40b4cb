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

import datetime

import numpy as np
import pandas as pd
from django.db import connection
from django.db.models import Case, Exists, F, Min, OuterRef, When

from registry.analytics.precomputed import collector_paused, in_scope, reach_rows, use_live
from registry.analytics.scope import NOT_REVOKED, add_years, firm_scope, stages_in_order, year_bounds
from registry.models import Certification, FirmStageReach, Region, Stage
from registry.services.firms import resolve_region
from registry.statements import statement_for

DAYS_PER_YEAR = 365.25


def reach_query(stages, cohort_year, region=None, chain=None, user=None, live=None):
    """One grouped query: per cohort firm, the entry date and the first date at/above each later stage.

    Over the precomputed first date per firm and stage (registry.analytics.precomputed) or, live,
    over every counted recognition: MIN of the per-stage MINs is the same MIN."""
    return _reach_query(stages, *year_bounds(cohort_year), region, chain, user, use_live(live))


def _reach_query(stages, start, end, region, chain, user, live):
    first = stages[0]
    if live:
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


# A date column as days since 1970-01-01, per database (elsewhere the dates are fetched as they are).
DAY_NUMBER = {"postgresql": "({} - DATE '1970-01-01')", "sqlite": "CAST(julianday({}) - 2440587.5 AS INTEGER)"}


def _as_days(values):
    numbers = np.array(values, dtype="float64")  # None → NaN
    unknown = np.isnan(numbers)
    days = np.where(unknown, 0, numbers).astype("int64").astype("datetime64[D]")
    days[unknown] = np.datetime64("NaT")
    return days


def _reach_statement(stages, cohort_year, region, chain, user, live):
    """(SQL, params, column names) of reach_query's rows: firm_id, entry, s1 … sn (dates)."""
    names = ["entry", *[f"s{k}" for k in range(1, len(stages))]]
    if live or firm_scope(None, chain, user):  # the live query, a chain or an officer's regions: compiled here
        sql, params = reach_query(stages, cohort_year, region, chain, user, live).values_list(
            "firm_id", *names).query.sql_with_params()
        return sql, params, names
    # the same statement for every cohort, stages and region: compiled once (registry.statements.statement_for)
    start, end = year_bounds(cohort_year)
    values = {"first": stages[0].id, "start": start, "end": end, **{f"rank{k}": s.rank for k, s in enumerate(stages)}}
    if region not in (None, ""):
        values["path"] = resolve_region(region).path

    def build(first, start, end, path=None, **ranks):
        standing = [Stage(id=first if k == 0 else None, rank=ranks[f"rank{k}"]) for k in range(len(stages))]
        place = None if path is None else Region(code="", path=path)
        return _reach_query(standing, start, end, place, None, None, False).values_list("firm_id", *names)

    sql, params = statement_for(("funnel reach", len(stages)), build, values)
    return sql, params, names


def reach_days(stages, cohort_year, region=None, chain=None, window_years=None, user=None, live=None):
    """(firm ids, [d0 … dn]) per cohort firm: numpy arrays of days (datetime64[D]; NaT = not reached)
    after the rules above — entry, then each later step's reach date.

    The grouped query's rows are read with a plain cursor and converted column-wise: Django's
    per-value date converters and pandas' per-column passes cost more than the query itself
    (funnel 2.8–4.9× the hand-written SQL over the same table, issue 14). The cyclic garbage collector
    is paused meanwhile: the 50,000 row tuples of a national cohort, alive while they are read, were
    promoted to its oldest generation and set off a full collection of the process's ~300,000
    objects every other call — the funnel's p95 tail (0.1–0.5 s at 1M firms)."""
    sql, params, names = _reach_statement(stages, cohort_year, region, chain, user, use_live(live))
    as_days = DAY_NUMBER.get(connection.vendor)
    if as_days:  # day numbers, not dates: no date parsing, in the driver or here
        sql = f"SELECT t.firm_id, {', '.join(as_days.format(f't.{n}') for n in names)} FROM ({sql}) t"
    with collector_paused(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = list(zip(*cursor.fetchall())) or [()] * (len(stages) + 1)
        firm_ids = np.array(columns[0], dtype="int64")
        days = [_as_days(column) if as_days else np.array(column, dtype="datetime64[D]") for column in columns[1:]]
        del columns  # the row tuples go before the collector runs again
    limit = None
    if window_years is not None:  # entry + N years, 29 February → 28 February; few distinct entry days
        limits = {d: np.datetime64(add_years(d.astype(datetime.date), window_years), "D") for d in set(days[0])}
        limit = np.array([limits[d] for d in days[0]], dtype="datetime64[D]")
    for k in range(1, len(stages)):
        previous, reach = days[k - 1], days[k]
        reach = np.where(np.isnat(reach) | (reach >= previous), reach, previous)  # reached before: same day
        reach = np.where(np.isnat(previous), np.datetime64("NaT"), reach)
        if limit is not None:
            reach = np.where(reach <= limit, reach, np.datetime64("NaT"))
        days[k] = reach.astype("datetime64[D]")
    return firm_ids, days


def reach_frame(stages, cohort_year, region=None, chain=None, window_years=None, user=None, live=None):
    """DataFrame per cohort firm: firm_id, d0 (entry), d1…dn (reach dates after the rules above; NaT = not reached)."""
    firm_ids, days = reach_days(stages, int(cohort_year), region, chain, window_years, user, live)
    return pd.DataFrame({"firm_id": firm_ids, **{f"d{k}": pd.to_datetime(d) for k, d in enumerate(days)}})


def funnel(stages, cohort_year, region=None, chain=None, window_years=None, user=None, live=None):
    """{cohort_year, window_years, steps: [{stage, count, conversion_from_previous, conversion_from_first,
    median_years_from_previous}]}."""
    stages = stages_in_order(stages)
    live = use_live(live)
    if connection.vendor == "postgresql" and not live and not firm_scope(None, chain, user):
        counts, medians = _counted_in_sql(stages, int(cohort_year), region, window_years)
    else:
        counts, medians = _counted_here(stages, int(cohort_year), region, chain, window_years, user, live)
    steps, first_count, previous_count = [], counts[0], None
    for k, stage in enumerate(stages):
        count = counts[k]
        median = None if medians[k] is None else round(float(medians[k]) / DAYS_PER_YEAR, 2)
        steps.append({
            "stage": stage.code,
            "count": count,
            "conversion_from_previous": None if k == 0 else (count / previous_count if previous_count else None),
            "conversion_from_first": (count / first_count) if first_count else None,
            "median_years_from_previous": median,
        })
        previous_count = count
    return {"cohort_year": int(cohort_year), "window_years": window_years, "steps": steps}


def _counted_here(stages, cohort_year, region, chain, window_years, user, live):
    """([firms reaching each step], [median days from the previous step, None for the first or none]) from
    the per-firm reach dates (reach_days)."""
    _, days = reach_days(stages, cohort_year, region, chain, window_years, user, live)
    counts, medians = [], []
    for k in range(len(stages)):
        reached = ~np.isnat(days[k])
        counts.append(int(reached.sum()))
        # The median of whole days (exact, as PostgreSQL's percentile_cont gives it), then in years.
        medians.append(float(np.median((days[k][reached] - days[k - 1][reached]).astype("int64")))
                       if k and reached.any() else None)
    return counts, medians


def _counted_in_sql(stages, cohort_year, region, window_years):
    """_counted_here's answer computed by PostgreSQL over the precomputed rows, so that one row comes
    back instead of one per cohort firm (50,000 nationally at 1M firms: reading and converting them
    was a third of the call). The rules above in SQL: a step's date is the latest of the entry and
    every step's first date up to it (a stage reached before the previous step counts on that
    step's date), unknown once any step is unreached, and past the window once later than
    entry + N years (29 February + 1 year = 28 February, as add_years)."""
    sql, params, names = _reach_statement(stages, cohort_year, region, None, None, False)
    steps, limit_params = ["t.entry"], []
    for k in range(1, len(stages)):
        reached = " AND ".join(f"t.s{j} IS NOT NULL" for j in range(1, k + 1))
        latest = f"GREATEST(t.entry, {', '.join(f't.s{j}' for j in range(1, k + 1))})"
        if window_years is not None:
            reached += f" AND {latest} <= (t.entry + make_interval(years => %s))::date"
            limit_params.append(int(window_years))
        steps.append(f"CASE WHEN {reached} THEN {latest} END")
    medians = ", ".join(f"percentile_cont(0.5) WITHIN GROUP (ORDER BY d{k} - d{k - 1})" for k in range(1, len(stages)))
    query = (f"SELECT {', '.join(f'COUNT(d{k})' for k in range(len(stages)))}{', ' + medians if medians else ''} "
             f"FROM (SELECT {', '.join(f'{step} AS d{k}' for k, step in enumerate(steps))} FROM ({sql}) t) x")
    with connection.cursor() as cursor:
        cursor.execute(query, [*limit_params, *params])
        row = cursor.fetchone()
    return list(row[: len(stages)]), [None, *row[len(stages):]]


__all__ = ["funnel", "reach_days", "reach_frame", "reach_query"]
