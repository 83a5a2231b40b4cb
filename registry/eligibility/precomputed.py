"""CandidateRank: the candidate finder's ranking, precomputed for one evaluation date.

For every target the finder can be asked about (each stage with rules in force, and each of its
tiers) and every firm one rung below it: outcome, score and gap — the sort key — computed by the
same `judge` the live finder runs, and the row's explanation (rule set, unmet criteria with their
bilingual texts and gaps, engine.Evaluation.unmet), so `candidates` is a count and an ordered index
scan with LIMIT that returns ready rows: nothing is judged per request. The count is CandidateCount's
(rows per target, outcome and region path prefix, changed by `add_counts` wherever CandidateRank
rows are written or deleted), and a region's page reads the ordered index of its depth
(CandidateRank.Meta.indexes): both stay small at any registry size.

Freshness (the state row "candidates" in PipelineState, with its `evaluated_on`):
- the ranking answers only for `evaluated_on`; any other date (tomorrow, a past date) is judged
  live. `analytics_rebuild` (and the daily Celery task after the expiry sweep) builds it for today;
- every registry write calls registry.services.effects.after_write in its transaction —
  recognitions (current stage, held tiers), indicators, firm facts (region, copied into the rows;
  founding date, listing) — which re-judges those firms (`refresh_firms`) for the targets they are
  now candidates of, in the same transaction (up to ROW_BY_ROW_MAX firms — a single write — row by
  row in plain Python, registry.eligibility.single, with the same numbers as the vectorised judge);
- editing a rule set, stage, tier or region marks the ranking incomplete (live until rebuilt);
- a write too large to refresh inline leaves it complete but behind: pages keep the last rebuild's
  ranking until the rebuild queued on commit replaces it (as registry.analytics.precomputed).
"""

import datetime
import json
from collections import Counter
from typing import NamedTuple

import orjson
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import BooleanField, Count, ExpressionWrapper, JSONField, Max
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from registry.analytics.precomputed import analyze, hold_for_rebuild, refreshable
from registry.eligibility.candidates import candidate_scope, explained, judge, target_key
from registry.eligibility.engine import columns_needed, evaluation_year
from registry.eligibility.facts import fact_rows_of, tiers_needed
from registry.eligibility.rules import in_force, resolve_target, rule_sets_for
from registry.eligibility.single import rank_rows
from registry.models import (
    CandidateCount, CandidateRank, Certification, EligibilityRuleSet, Firm, IndicatorYear, PipelineState, Region, Stage,
    Tier,
)
from registry.regions import path_and_ancestors
from registry.services.firms import resolve_region
from registry.services.writes import copy_rows, delete_rows_of_firms

STATE = "candidates"
CHUNK = 5000
REBUILD_CHUNK = 50_000  # firms judged together by rebuild(): ~0.5 GB of explained rows at most
# Up to this many firms a refresh ranks row by row (registry.eligibility.single): ~0.1 ms a firm and
# target there, against ~30–60 ms of fixed pandas work per rule set in the vectorised judge.
ROW_BY_ROW_MAX = 200
COLUMNS = ("target", "firm_id", "outcome_rank", "score_key", "gap", "region_path", "rule_set", "unmet")


def as_json(items):
    """The stored form of an explanation; json keeps every float exactly (shortest repr)."""
    return json.dumps(items, ensure_ascii=False, allow_nan=False)


def state():
    return PipelineState.objects.of(STATE)


def is_complete():
    return PipelineState.objects.is_complete(STATE)


def ready_for(on):
    return PipelineState.objects.is_complete(STATE, evaluated_on=on)


def mark_stale(note):
    PipelineState.objects.mark_stale(STATE, note)


def mark_behind(note):
    PipelineState.objects.mark_behind(STATE, note)


def targets(on):
    """(stage, tier, rule sets) for each stage with rules in force on `on` (tier None) and each of its tiers."""
    stage_ids = EligibilityRuleSet.objects.filter(in_force(on)).values("stage_id")
    for stage in Stage.objects.filter(id__in=stage_ids).order_by("rank"):
        for tier in [None, *Tier.objects.filter(stage=stage).order_by("rank")]:
            rule_sets = rule_sets_for(stage, tier, on)
            if rule_sets:
                yield stage, tier, rule_sets


def _insert(on, firms=None, plan=None, rows=None, written=None):
    """Judge the targets of `plan` (default: all) for `firms` (default: every candidate) and store
    their rows, explained. `rows`: instead of `firms`, a few firms' fact_rows, all candidates of these
    targets, ranked row by row (registry.eligibility.single: the same numbers and texts as judge,
    without pandas). `written`: a Counter to add the rows written to, by count key (a refresh's)."""
    judged = {}  # a stage and its lowest tier often share rules and rung: judge those once
    for stage, tier, rule_sets, scope in plan or _plan(on):
        same = (tuple(r.id for r in rule_sets), str(scope))
        if same not in judged:
            if rows is None:
                table = explained(*judge(stage, tier, on, firms, rule_sets)[:2])
            else:
                table = rank_rows(rows, rule_sets, on, evaluation_year(on), explain=True)
            judged[same] = list(zip(
                (int(f) for f in table["firm_id"]), (int(o) for o in table["outcome_rank"]),
                (float(k) for k in table["score_key"]), (float(g) for g in table["gap"]), table["region_path"],
                table["rule_set"], (as_json(u) for u in table["unmet"])))
        key = target_key(stage, tier)
        copy_rows(CandidateRank, COLUMNS, [(key, *row) for row in judged[same]])
        if written is not None:
            written.update((key, str(row[4]), row[1]) for row in judged[same])


def rebuild(on=None):
    """Judge every candidate of every target for `on` (default today) and mark the ranking complete.

    A range of REBUILD_CHUNK firm ids at a time: a candidate's row depends on that firm alone, and
    the explanations of every candidate at once do not fit in memory (9 GB at 1,000,000 firms)."""
    on = on or timezone.localdate()
    with transaction.atomic():  # one transaction: readers see the old ranking until the new one commits
        hold_for_rebuild(STATE)
        analyze(Firm, IndicatorYear, Certification)
        CandidateRank.objects.all().delete()
        plan = _plan(on)
        top = Firm.objects.aggregate(top=Max("id"))["top"] or 0
        for low in range(0, top + 1, REBUILD_CHUNK):
            _insert(on, Firm.objects.filter(id__gte=low, id__lt=low + REBUILD_CHUNK), plan)
        CandidateCount.objects.all().delete()
        add_counts(tally())
        analyze(CandidateRank, CandidateCount)
        PipelineState.objects.update_or_create(name=STATE, defaults={
            "complete": True, "evaluated_on": on, "rebuilt_at": timezone.now(), "note": "", "behind_since": None})
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {CandidateRank._meta.db_table}")


def _plan(on):
    return [(stage, tier, rule_sets, candidate_scope(rule_sets, stage, tier)) for stage, tier, rule_sets in targets(on)]


_plans = {}  # (state id, evaluated_on, rebuilt_at) -> _plan: valid until the next rebuild


def plan_for(current):
    """The targets and their candidate scopes for the ranking as last rebuilt. Any edit of rules,
    stages, tiers or regions marks the ranking stale (registry.receivers) and only a rebuild makes it
    complete again, with a new rebuilt_at: so the plan can be kept until then, in each process."""
    key = (current.pk, current.evaluated_on, current.rebuilt_at)
    if key not in _plans:
        _plans.clear()
        _plans[key] = _plan(current.evaluated_on)
    return _plans[key]


class Built(NamedTuple):
    """What plan_for and target_and_path key their caches on: the state row's id, date and rebuild time."""

    pk: str
    evaluated_on: datetime.date
    rebuilt_at: object


def current_for(on):
    """The ranking's state (Built) when it is complete and built for `on`, else None: one plain
    statement per page (the ORM's compile of it cost as much as the count)."""
    table = connection.ops.quote_name(PipelineState._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rebuilt_at FROM {table} WHERE name = %s AND complete = %s AND evaluated_on = %s",
                       [STATE, True, connection.ops.adapt_datefield_value(on)])
        row = cursor.fetchone()
    return None if row is None else Built(STATE, on, row[0])


_names = {}  # (state id, evaluated_on, rebuilt_at) -> kept_for's dict: valid until the next rebuild


def kept_for(current):
    """What is kept in this process for the ranking `current` (complete) until the next rebuild:
    {"targets": {(stage, tier): key}, "paths": {region code: path}, "objects": {(model, pk): the
    Region, Stage or Tier a page's firms carry}}. Editing a stage, tier, rule set or region marks
    the ranking stale (registry.receivers for the admin's saves; registry.reference.regions_changed for
    the reference-data load's bulk writes, which send no signal), and only a rebuild — a new rebuilt_at, a new entry —
    makes it complete again; None (not current): a fresh dict, kept by no one."""
    fresh = {"targets": {}, "paths": {}, "objects": {}}
    if current is None:
        return fresh
    key = (current.pk, current.evaluated_on, current.rebuilt_at)
    if key not in _names:
        _names.clear()
        _names[key] = fresh
    return _names[key]


def target_and_path(current, stage, tier, region):
    """(CandidateRank target, region path or None) of a request, without a query when this ranking
    (`current`, complete) was asked for them before: a target's key and a region's path are kept
    once read, until the next rebuild (kept_for)."""
    names = kept_for(current)
    asked = (stage, tier or None) if isinstance(stage, str) and (tier is None or isinstance(tier, str)) else None
    key = names["targets"].get(asked)
    if key is None:
        key = target_key(*resolve_target(stage, tier))  # raises on an unknown stage or tier: nothing kept
        if asked is not None:
            names["targets"][asked] = key
    if region in (None, ""):
        return key, None
    code = region.code if isinstance(region, Region) else str(region).strip()
    if code not in names["paths"]:
        names["paths"][code] = resolve_region(region).path
    return key, names["paths"][code]


def refresh_firms(firm_ids):
    """Re-judge these firms, incrementally: their old rows go, and each firm is judged only for the
    targets it is now a candidate of (one query tells which, for the whole batch); a single firm is
    one or two targets out of fifteen."""
    firm_ids = sorted(set(firm_ids))
    current = refreshable(STATE) if firm_ids else None
    if current is None:
        return
    plan = plan_for(current)
    scopes = {}
    for _, _, _, scope in plan:
        scopes.setdefault(str(scope), (f"s{len(scopes)}", scope))
    flags = {name: ExpressionWrapper(q, output_field=BooleanField()) for name, q in scopes.values()}
    by_scope = {}  # targets sharing a scope are judged together (and once when their rules agree)
    for target in plan:
        by_scope.setdefault(scopes[str(target[3])][0], []).append(target)
    on = current.evaluated_on
    with transaction.atomic(savepoint=False):  # all or nothing with the write that called it
        for start in range(0, len(firm_ids), CHUNK):
            chunk = firm_ids[start : start + CHUNK]
            gone = Counter(delete_rows_of_firms(CandidateRank, chunk, returning=COUNT_KEY))
            written = refresh_chunk(chunk, plan, flags, by_scope, on)
            add_counts({key: written[key] - gone[key] for key in gone.keys() | written.keys()})


def refresh_chunk(chunk, plan, flags, by_scope, on):
    """Rank one chunk of firms (their old rows gone) for the targets they are now candidates of;
    returns the rows written as a Counter of their count keys."""
    written = Counter()
    if len(chunk) <= ROW_BY_ROW_MAX:
        # A few firms (a single write): their facts and the scopes they are in, in one query for
        # every target, ranked in plain Python; pandas' fixed cost per rule set (~50 ms) would be
        # most of the write.
        rows = fact_rows_of(chunk, flags, on, *facts_wanted(plan, on))
        for name, targets_of_scope in by_scope.items():
            members = [row for row in rows if row[name]]
            if members:
                _insert(on, plan=targets_of_scope, rows=members, written=written)
        return written
    members = {name: [] for name in flags}
    for firm_id, *inside in Firm.objects.filter(id__in=chunk).annotate(**flags).values_list("id", *flags):
        for name, yes in zip(flags, inside):
            if yes:
                members[name].append(firm_id)
    for name, targets_of_scope in by_scope.items():
        if members[name]:
            _insert(on, Firm.objects.filter(id__in=members[name]), targets_of_scope, written=written)
    return written


# ----------------------------------------------------------------------------- counts (CandidateCount)

def region_prefixes(path):
    """The count keys a row of this region path adds to: "" (national) and each ancestor's path, itself included."""
    return ["", *path_and_ancestors(path)]


COUNT_KEY = ("target", "region_path", "outcome_rank")  # what CandidateCount counts rows by


def tally(firm_ids=None):
    """{(target, region path, outcome rank): rows} of CandidateRank, for these firms (default: all)."""
    rows = CandidateRank.objects.all() if firm_ids is None else CandidateRank.objects.filter(firm_id__in=firm_ids)
    return {(t, p, o): n for t, p, o, n in rows.order_by().values_list(*COUNT_KEY).annotate(n=Count("id"))}


def add_counts(delta):
    """Add {(target, region path, outcome rank): ±rows} to CandidateCount at every region level of the path:
    one upsert (n = n + change), so concurrent writers add up rather than overwrite each other."""
    changes = {}
    for (target, path, outcome), n in delta.items():
        if n:
            for prefix in region_prefixes(path):
                changes[target, prefix, outcome] = changes.get((target, prefix, outcome), 0) + n
    changes = [(*key, n) for key, n in sorted(changes.items()) if n]
    if not changes:
        return
    table = connection.ops.quote_name(CandidateCount._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(changes), 1000):
            part = changes[start : start + 1000]
            cursor.execute(
                f"INSERT INTO {table} (target, region_path, outcome_rank, n) VALUES "
                + ", ".join(["(%s, %s, %s, %s)"] * len(part))
                + f" ON CONFLICT (target, region_path, outcome_rank) DO UPDATE SET n = {table}.n + excluded.n",
                [value for row in part for value in row])


def forget_firms(firm_ids):
    """Firms about to be deleted (their ranking rows go by cascade): take them out of the counts."""
    add_counts({key: -n for key, n in tally(firm_ids).items()})


def _count_sql(paths, eligible=False):
    """SELECT of the rows (or only the eligible ones) of a target in these region paths, from
    CandidateCount; its parameters: the target, then the paths."""
    table = connection.ops.quote_name(CandidateCount._meta.db_table)
    return (f"SELECT SUM(n) FROM {table} WHERE target = %s AND region_path IN ({', '.join(['%s'] * len(paths))})"
            + (" AND outcome_rank = 0" if eligible else ""))


def count_of(key, paths):
    """(rows, eligible rows) of a target in these disjoint region paths ("" = national), from CandidateCount."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ({_count_sql(paths)}), ({_count_sql(paths, eligible=True)})", [key, *paths] * 2)
        total, eligible = cursor.fetchone()
        return total or 0, eligible or 0


def facts_wanted(plan, on):
    """(year, tiers, columns, history): what fact_rows loads to judge a firm for any target of the plan."""
    rule_sets = [rule for _, _, rules, _ in plan for rule in rules]
    wanted = [columns_needed(r.thresholds) for r in rule_sets]
    return (evaluation_year(on), set().union(*(tiers_needed(r.thresholds) for r in rule_sets)),
            set().union(*(c for c, _ in wanted)), max((h for _, h in wanted), default=0))


def scope_paths(path, user=None):
    """The disjoint region paths a page covers ("" = national): the asked region's (None = national)
    cut down to the user's scope (registry.permissions.region_paths: an officer's regions)."""
    from registry.permissions import region_paths, role_of

    asked = path or ""
    if user is None:
        return [asked]
    if role_of(user) is None:
        return []
    own = region_paths(user)
    if own is None or any(asked.startswith(p) for p in own):
        return [asked]
    inside = sorted({p for p in own if p.startswith(asked)})
    return [p for p in inside if not any(p != q and p.startswith(q) for q in inside)]


def _in_path(length):
    """WHERE clause of one target's rows in a region path of this length (0: national), in the form
    the ordered indexes are built on: nationally candidate_order; a province, city or district its
    candidate_order_depthN, whose leading expression SUBSTRING(region_path, 1, 7·depth) is written
    here the same way. Its parameters: the target, then the path (none nationally)."""
    if not length:
        return "c.target = %s"
    function = "SUBSTR" if connection.vendor == "sqlite" else "SUBSTRING"  # as Django's Substr compiles it
    return f"c.target = %s AND {function}(c.region_path, 1, {length:d}) = %s"


ORDER = "c.outcome_rank, c.score_key, c.gap, c.firm_id"
RANK_COLUMNS = ("outcome_rank", "score_key", "gap", "rule_set", "unmet")  # what a page shows of a CandidateRank row
_parts = {}  # vendor -> page_rows' table names, column list and firm reader: built once per process
_statements = {}  # (vendor, path lengths) -> page_rows' SQL: one per shape, built once per process


def _json(value):
    return value if value is None or not isinstance(value, (str, bytes)) else orjson.loads(value)


def _firm_reader(db):
    """(attnames, [(position, converter)]) of Firm's concrete fields: Django's from_db_value, but
    orjson for a plain JSONField (former names; json.loads of the page's JSON was a fifth of its Python)."""
    fields = Firm._meta.concrete_fields
    converters = []
    for at, field in enumerate(fields):
        if isinstance(field, JSONField) and field.decoder is None:
            converters.append((at, _json))
        elif hasattr(field, "from_db_value"):
            converters.append((at, lambda value, convert=field.from_db_value: convert(value, None, db)))
    return [f.attname for f in fields], converters


def _page_parts(db):
    if db.vendor not in _parts:
        table = {alias: db.ops.quote_name(model._meta.db_table) for model, alias in [(CandidateRank, "c"), (Firm, "f")]}
        names = ", ".join([*(f"c.{db.ops.quote_name(c)}" for c in RANK_COLUMNS),
                           *(f"f.{db.ops.quote_name(f.column)}" for f in Firm._meta.concrete_fields)])
        _parts[db.vendor] = (table, names, _firm_reader(db))
    return _parts[db.vendor]


def _page_statement(db, paths):
    """page_rows' SQL for these paths' depths (the path lengths are in the SQL: the index expressions)."""
    shape = (db.vendor, tuple(len(path) for path in paths))
    if shape not in _statements:
        table, names, _ = _page_parts(db)
        if len(paths) == 1:
            where, source = _in_path(len(paths[0])), f"{table['c']} c"
        else:  # each region's first offset + first rows, by its index; the merge orders them
            parts = []
            for n, path in enumerate(paths):
                parts.append(f"SELECT * FROM (SELECT c.* FROM {table['c']} c WHERE {_in_path(len(path))} "
                             f"ORDER BY {ORDER} LIMIT %s) u{n}")
            where, source = "1 = 1", f"({' UNION ALL '.join(parts)}) c"
        _statements[shape] = (f"SELECT {names} FROM {source} JOIN {table['f']} f ON f.id = c.firm_id WHERE {where} "
                              f"ORDER BY {ORDER} LIMIT %s OFFSET %s")
    return _statements[shape]


def page_rows(key, paths, offset, first, counts=None, kept=None):
    """((total, eligible), [(firm, outcome_rank, score_key, gap, rule_set, unmet)]) of one target's page
    in these disjoint region paths (scope_paths), each firm with its region, stage and tier loaded. The
    counts are CandidateCount's (a few rows, not a count of up to 300,000; `counts`: already read with
    the state, read_page); the page one ordered index range scan of offset + first rows per path (merged
    when an officer has several regions), joined to the firm, made into Firm instances directly
    (compiling the ORM's query took as long as running it); the CandidateRank columns stay plain
    values.

    The firms' regions, stages and tiers come from `kept` (kept_for(current)["objects"]: read once
    per rebuild, shared as prefetch_related shares them; a region not yet kept costs one query):
    joining them fetched and decoded three more tables' columns for every row, 2–3× the rest of the
    page's time at 1,000,000 firms."""
    if not paths:
        return (0, 0), []
    if counts is None:
        counts = count_of(key, paths)
    if not counts[0] or not first:
        return counts, []
    db = connections[DEFAULT_DB_ALIAS]  # the connection itself: each attribute of the proxy is a thread-local lookup
    _, _, (attnames, converters) = _page_parts(db)
    params = []
    for path in paths:
        params += [key, path] if path else [key]
        if len(paths) > 1:
            params.append(offset + first)
    with db.cursor() as cursor:
        cursor.execute(_page_statement(db, paths), [*params, first, offset])
        records = cursor.fetchall()
    ranked = len(RANK_COLUMNS)
    out = []
    for record in records:
        values = list(record[ranked:])
        for position, convert in converters:
            values[position] = convert(values[position])
        outcome, score_key, gap, rule_set, unmet = record[:ranked]
        out.append((Firm.from_db(DEFAULT_DB_ALIAS, attnames, values), outcome, score_key, gap, rule_set, _json(unmet)))
    _attach_references([firm for firm, *_ in out], {} if kept is None else kept)
    return counts, out


def _attach_references(firms, kept):
    """Give each firm its region, current stage and tier from `kept` ({(model, pk): instance}), reading
    the ones missing: the regions asked for, every stage and tier at once (a few dozen rows)."""
    regions = {f.region_id for f in firms if (Region, f.region_id) not in kept}
    if regions:
        kept.update({(Region, code): region for code, region in Region.objects.in_bulk(regions).items()})
    if any((f.current_stage_id is not None and (Stage, f.current_stage_id) not in kept)
           or (f.current_tier_id is not None and (Tier, f.current_tier_id) not in kept) for f in firms):
        kept.update({(Stage, stage.pk): stage for stage in Stage.objects.all()})
        kept.update({(Tier, tier.pk): tier for tier in Tier.objects.all()})
    for firm in firms:
        firm._state.fields_cache.update(
            region=kept[Region, firm.region_id],
            current_stage=None if firm.current_stage_id is None else kept[Stage, firm.current_stage_id],
            current_tier=None if firm.current_tier_id is None else kept[Tier, firm.current_tier_id])


def total_if_current(on, key, paths):
    """(rebuilt_at, (total, eligible), behind_since) when the ranking is complete for `on`, else None —
    the state row and CandidateCount's counts in one statement (read_page)."""
    state_table = connection.ops.quote_name(PipelineState._meta.db_table)
    if paths:
        counts = f"({_count_sql(paths)}), ({_count_sql(paths, eligible=True)})"
        params = [key, *paths] * 2
    else:
        counts, params = "0, 0", []
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT rebuilt_at, {counts}, behind_since FROM {state_table} WHERE name = %s "
                       "AND complete = %s AND evaluated_on = %s",
                       [*params, STATE, True, connection.ops.adapt_datefield_value(on)])
        row = cursor.fetchone()
    return None if row is None else (row[0], (row[1] or 0, row[2] or 0), row[3])


def _as_datetime(value):
    """A DateTimeField value as a raw cursor returns it (SQLite: naive, or text) made the aware datetime
    the ORM gives (the page shows it in local time)."""
    if value is None:
        return None
    if not isinstance(value, datetime.datetime):
        value = parse_datetime(value)
    if settings.USE_TZ and timezone.is_naive(value):
        value = timezone.make_aware(value, connection.timezone)
    return value


_seen = {}  # evaluated_on -> Built: the ranking found complete for it by the last read (read_page)


def read_page(on, stage, tier, region, user, offset, first):
    """((total, eligible), page_rows' rows, as_of) of a page from the ranking when it is complete for `on`, else
    None (answer live). `as_of`: the rebuild time the rows are as of while the ranking is behind a
    large write (PipelineState.behind_since), else None — the candidates page's lag note, read here
    rather than by a query of its own. Two statements: the state with the total, then the page. The target and region
    path come from target_and_path's names for the ranking the last read found; the state read
    with the total says whether it is still that one (same rebuilt_at). When not — rebuilt since —
    the names are taken for the new one and the total read again."""
    for _ in range(3):
        current = _seen.get(on) or current_for(on)
        if current is None:
            return None
        key, path = target_and_path(current, stage, tier, region)
        paths = scope_paths(path, user)
        found = total_if_current(on, key, paths)
        if found is not None and found[0] == current.rebuilt_at:
            if len(_seen) > 16:
                _seen.clear()
            _seen[on] = current
            counts, rows = page_rows(key, paths, offset, first, counts=found[1], kept=kept_for(current)["objects"])
            return counts, rows, (None if found[2] is None else _as_datetime(current.rebuilt_at))
        _seen.pop(on, None)
        if found is None:
            return None
    return None  # rebuilt under us again and again: answer live
