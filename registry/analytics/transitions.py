"""Stage transitions in a year: each firm's stage at the start versus the end of the year.

Definitions (docs/analytics.md):
- A firm's stage on a day is the highest stage among the recognitions it held that day (the
  current-stage rule of registry.services.stage, applied to a past day: valid that day, and a
  revoked recognition held until its revocation day).
- Start of year Y = 31 December of Y−1 (so a 科小 re-evaluated every year, whose number lapses on
  31 December, is not counted as lapsing and re-entering each year); end of year = 31 December of Y.
- Rows: fromStage → toStage with a count and a kind:
  entry (from null: no stage at the start, a stage at the end — new or returning firms),
  upgrade (higher stage), downgrade (lower stage, not null), stay (same stage),
  lapse (to null), revocation (to a lower stage or null because a recognition at the start stage
  was revoked during the year).
- Firms that held nothing on either day (recognised and lapsed inside the year) are not counted.
All aggregation runs in the database: one grouped query per firm wrapped in a grouped count, or
(normally) a grouped count over the precomputed per-firm rows that same query fills.
"""

import datetime

from django.db import connection
from django.db.models import Case, Count, F, IntegerField, Max, Q, When

from registry.analytics.precomputed import STATE, use_live
from registry.analytics.scope import firm_scope, held_on, year_bounds
from registry.models import Certification, CertificationStatus, FirmYearTransition, PipelineState, Stage
from registry.services.firms import resolve_region
from registry.statements import statement_for


def per_firm_query(year, region=None, user=None):
    start = datetime.date(year - 1, 12, 31)
    _, end = year_bounds(year)
    first_day = datetime.date(year, 1, 1)
    revoked_in_year = Q(status=CertificationStatus.REVOKED, revoked_on__gte=first_day, revoked_on__lte=end)
    return (
        Certification.objects.filter(firm_scope(region, None, user), valid_from__lte=end, valid_until__gte=start)
        .values("firm_id")
        .annotate(
            from_rank=Max(Case(When(held_on(start), then=F("stage__rank")), output_field=IntegerField())),
            to_rank=Max(Case(When(held_on(end), then=F("stage__rank")), output_field=IntegerField())),
            revoked_rank=Max(Case(When(revoked_in_year, then=F("stage__rank")), output_field=IntegerField())),
        )
        .order_by()
    )


def counts_query(year, path=None, scope=None):
    """The grouped count over one year's precomputed rows, in a region path, in a firm scope (a Q)."""
    rows = FirmYearTransition.objects.filter(year=year)
    if scope:
        rows = rows.filter(scope)
    if path is not None:
        rows = rows.filter(region_path__startswith=path)
    return rows.values_list("from_rank", "to_rank", "revoked").annotate(n=Count("*")).order_by()


def transition_counts(year, region=None, user=None, live=None):
    """[(from_rank, to_rank, revoked_at_start_rank, count)] computed in the database: from the
    precomputed per-firm rows while they are complete (registry.analytics.precomputed), else live
    (`live=True` forces the live query, the reference the tests compare with)."""
    if not use_live(live):
        scope = firm_scope(None, None, user)
        path = None if region in (None, "") else resolve_region(region).path
        if scope:  # an officer's regions, through the firm: compiled per request
            sql, params = counts_query(year, path, scope).query.sql_with_params()
        else:  # everyone else: the same statement each time, compiled once (registry.statements.statement_for)
            values = {"year": year} if path is None else {"year": year, "path": path}
            sql, params = statement_for(("transition counts",), counts_query, values)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [(f, t, int(r), n) for f, t, r, n in cursor.fetchall()]
    sql, params = per_firm_query(year, region, user).query.sql_with_params()
    wrapped = (
        "SELECT t.from_rank, t.to_rank, CASE WHEN t.revoked_rank = t.from_rank THEN 1 ELSE 0 END AS revoked, "
        f"COUNT(*) FROM ({sql}) t WHERE t.from_rank IS NOT NULL OR t.to_rank IS NOT NULL "
        "GROUP BY t.from_rank, t.to_rank, CASE WHEN t.revoked_rank = t.from_rank THEN 1 ELSE 0 END"
    )
    with connection.cursor() as cursor:
        cursor.execute(wrapped, params)
        return cursor.fetchall()


def kind_of(from_rank, to_rank, revoked):
    if from_rank is None:
        return "entry"
    if to_rank is not None and to_rank > from_rank:
        return "upgrade"
    if to_rank == from_rank:
        return "stay"
    if revoked:
        return "revocation"
    return "lapse" if to_rank is None else "downgrade"


_codes = {}  # (pipeline rebuilt_at) -> {rank: stage code}


def stage_codes(counts, rebuilt_at):
    """{rank: code}, kept in the process while the tables stay as rebuilt at `rebuilt_at` (an edited
    stage marks them stale, and only a rebuild completes them again) and every rank counted is known
    (a stage created since); else, or live (rebuilt_at None), read again."""
    ranks = {r for f, t, _, _ in counts for r in (f, t) if r is not None}
    known = _codes.get(rebuilt_at) if rebuilt_at is not None else None
    if known is None or not ranks <= known.keys():
        known = dict(Stage.objects.values_list("rank", "code"))
        _codes.clear()
        if rebuilt_at is not None:
            _codes[rebuilt_at] = known
    return known


def stage_transitions(year, region=None, user=None, live=None):
    """List of {from_stage, to_stage, kind, count}, ordered by from rank (entries first), then to rank."""
    current = None if live else PipelineState.objects.filter(name=STATE, complete=True).values_list(
        "rebuilt_at", flat=True).first()  # whether the tables answer, and since which rebuild: one query
    counts = transition_counts(int(year), region, user, live=current is None if live is None else live)
    codes = stage_codes(counts, current)
    merged = {}
    for from_rank, to_rank, revoked, count in counts:
        key = (from_rank, to_rank, kind_of(from_rank, to_rank, revoked))
        merged[key] = merged.get(key, 0) + count
    rows = [
        {"from_stage": codes.get(f), "to_stage": codes.get(t), "kind": kind, "count": n}
        for (f, t, kind), n in merged.items()
    ]
    return sorted(rows, key=lambda r: (
        -1 if r["from_stage"] is None else codes_rank(codes, r["from_stage"]),
        10**9 if r["to_stage"] is None else codes_rank(codes, r["to_stage"]),
        r["kind"],
    ))


def codes_rank(codes, code):
    return next(rank for rank, c in codes.items() if c == code)
