"""The candidate finder: firms one rung below a target that are eligible or nearest to it.

Facts are fetched column-wise for the whole candidate set (registry.eligibility.facts), judged
with pandas (registry.eligibility.engine), ranked, and only the requested page is turned into
explanations and Firm objects. Normally the ranking is precomputed for today, explanations
included (registry.eligibility.precomputed: CandidateRank, kept current by every write), and a
page is one indexed query over it (plus the count): nothing is judged per request.

Ranking, most promising first: eligible, then not eligible, then missing data (a firm we cannot
judge is listed last, never ranked as if its unknowns were zero); inside each group the higher
score first (rules that score, e.g. 科小 100 points), then the smaller gap (number of unmet
criteria plus their relative shortfalls), then the firm id.
"""

from dataclasses import dataclass

import pandas as pd
from django.utils import timezone

from registry.eligibility.engine import columns_needed, evaluate, evaluation_year
from registry.eligibility.facts import load_facts, tiers_needed
from registry.eligibility.rules import assign_rule_sets, resolve_target, rule_sets_for
from registry.models import Firm, Stage, Tier
from registry.permissions import firms_visible_to
from registry.services.errors import field_error
from registry.services.firms import resolve_region

MAX_PAGE = 100


@dataclass
class Candidate:
    firm: Firm
    eligible: bool
    outcome: str
    score: float | None
    gap: float
    unmet: list
    rule_set: str


@dataclass
class CandidatePage:
    items: list
    total: int
    offset: int
    year: int
    as_of: object = None  # the stored ranking's rebuild time while it is behind a large write (read_page)
    eligible: int = 0  # of `total`, the firms that meet the target's criteria now


def rung_below(stage, tier):
    """Firms 'one rung below' a target: a Q on current stage/tier.

    In a stage with several tiers the rung below a tier is the previous tier of the same stage; the
    rung below a stage (or its lowest tier) is the previous stage, any tier; below the bottom rung are
    firms with no current stage.
    """
    from django.db.models import Q

    if tier is not None:
        previous = Tier.objects.filter(stage=stage, rank__lt=tier.rank).order_by("-rank").first()
        if previous is not None:
            return Q(current_tier=previous)
    previous_stage = Stage.objects.filter(rank__lt=stage.rank, region__isnull=True).order_by("-rank").first()
    if previous_stage is None:
        return Q(current_stage__isnull=True)
    return Q(current_stage=previous_stage)


def candidate_scope(rule_sets, stage, tier):
    from django.db.models import Q

    declared = [r.thresholds.get("candidates_from") for r in rule_sets if "candidates_from" in r.thresholds]
    if not declared:
        return rung_below(stage, tier)
    codes = sorted({code for codes in declared for code in codes})
    if not codes:
        return Q(current_stage__isnull=True)
    return Q(current_tier__code__in=codes)


def evaluate_frame(frame, rule_sets, on, year):
    """Evaluate each row with its region's rule set; returns (table, {rule index: Evaluation})."""
    assignment = assign_rule_sets(rule_sets, frame["region_path"])
    tables, evaluations = [], {}
    for position, rule in enumerate(rule_sets):
        part = frame[assignment == position]
        if part.empty:
            continue
        ev = evaluate(rule.thresholds, part, on, year, rule_set=rule)
        evaluations[position] = ev
        tables.append(ev.table.assign(rule_index=position, row=range(len(part))))
    if not tables:
        return pd.DataFrame(columns=["outcome", "eligible", "outcome_rank", "score", "gap", "rule_index", "row"]), {}
    return pd.concat(tables), evaluations


def target_key(stage, tier):
    """How CandidateRank names a target: the stage code, or "stage/tier" when a tier was asked."""
    return stage.code if tier is None else f"{stage.code}/{tier.code}"


def judge(stage, tier, on, firms=None, rule_sets=None):
    """Judge every firm one rung below the target (optionally only among `firms`), ranked.

    Returns (table, evaluations, year): table has firm_id, outcome, eligible, outcome_rank, score,
    score_key, gap, rule_index, row, sorted most promising first (the module's ranking).
    """
    year = evaluation_year(on)
    rule_sets = rule_sets_for(stage, tier, on) if rule_sets is None else rule_sets
    if not rule_sets:
        raise field_error("stage", f"No eligibility rules for {tier.code if tier else stage.code} in force on {on}.",
                          code="no_rules")
    scope = Firm.objects.filter(candidate_scope(rule_sets, stage, tier))
    empty = pd.DataFrame(columns=["firm_id", "outcome_rank", "score_key", "gap", "region_path"]), {}, year
    if firms is not None:
        scope = scope.filter(id__in=firms.values("id"))
        if not scope.exists():  # a refreshed firm is below one or two rungs, not all fifteen
            return empty
    needed = set().union(*(tiers_needed(r.thresholds) for r in rule_sets))
    wanted = [columns_needed(r.thresholds) for r in rule_sets]
    columns = set().union(*(c for c, _ in wanted))
    frame = load_facts(scope, on, year, needed, columns=columns, history=max(h for _, h in wanted))
    if frame.empty:
        return empty
    table, evaluations = evaluate_frame(frame, rule_sets, on, year)
    table = table.assign(firm_id=frame.loc[table.index, "firm_id"].to_numpy(),
                         region_path=frame.loc[table.index, "region_path"].to_numpy())
    table = table.assign(score_key=-table["score"].fillna(-1e18))
    return table.sort_values(["outcome_rank", "score_key", "gap", "firm_id"], kind="stable"), evaluations, year


def explained(table, evaluations):
    """`table` (judge's) with each row's rule set code and unmet criteria (engine.Evaluation.unmet):
    what CandidateRank stores."""
    if table.empty:
        return table.assign(rule_set=[], unmet=[])
    codes = {k: ev.rule_set.code for k, ev in evaluations.items()}
    rule_sets, unmet = [], []
    for index, position, eligible in zip(table["rule_index"], table["row"], table["eligible"]):
        rule_sets.append(codes[int(index)])
        unmet.append([] if eligible else evaluations[int(index)].unmet(int(position)))
    return table.assign(rule_set=rule_sets, unmet=unmet)


OUTCOMES = ("eligible", "not_eligible", "missing_data")  # by CandidateRank.outcome_rank


def stored_page(rows):
    """Candidates from the stored ranking's rows (precomputed.page_rows: the firm, then the stored sort
    key and explanation)."""
    return [Candidate(firm=firm, eligible=outcome == 0, outcome=OUTCOMES[outcome],
                      score=None if score_key >= 1e17 else -score_key, gap=gap, unmet=unmet, rule_set=rule_set)
            for firm, outcome, score_key, gap, rule_set, unmet in rows]


def find_candidates(stage, tier=None, region=None, *, user=None, on=None, first=20, offset=0, live=None):
    """Rank the candidates for a target stage/tier in a region, for the user's scope.

    The page comes from CandidateRank, explanations included, when it was built for this evaluation
    date and is complete (registry.eligibility.precomputed.read_page): the state with the count, and
    one indexed query; `live=False` reads it whether current or not. Else every candidate is judged
    live and the page explained (`live=True` forces that: the reference the tests compare with).
    """
    from registry.eligibility import precomputed

    on = on or timezone.localdate()
    if first is None:
        first = 20
    if first < 0 or first > MAX_PAGE:
        raise field_error("first", f"first must be between 0 and {MAX_PAGE}.", code="page_size")
    if live is False:  # the stored rows, current or not
        key, path = precomputed.target_and_path(None, stage, tier, region)
        found = (*precomputed.page_rows(key, precomputed.scope_paths(path, user), offset, first), None)
    else:
        found = None if live else precomputed.read_page(on, stage, tier, region, user, offset, first)
    if found is not None:
        (total, eligible), page, as_of = found
        return CandidatePage(stored_page(page) if total else [], total, offset, evaluation_year(on), as_of, eligible)
    stage, tier = resolve_target(stage, tier)
    firms = Firm.objects.all()
    if region not in (None, ""):
        firms = firms.filter(region__path__startswith=resolve_region(region).path)
    if user is not None:
        firms = firms_visible_to(user, firms)
    table, evaluations, year = judge(stage, tier, on, firms)
    total, page = len(table), table.iloc[offset: offset + first]
    if not total:
        return CandidatePage([], 0, offset, year)
    eligible = int(table["eligible"].sum())
    objects = Firm.objects.select_related("region", "current_stage", "current_tier").in_bulk(list(page["firm_id"]))
    items = []
    for _, row in page.iterrows():
        ev = evaluations[int(row["rule_index"])]
        items.append(Candidate(
            firm=objects[int(row["firm_id"])], eligible=bool(row["eligible"]), outcome=row["outcome"],
            score=None if pd.isna(row["score"]) else float(row["score"]), gap=float(row["gap"]),
            unmet=ev.unmet(int(row["row"])), rule_set=ev.rule_set.code,
        ))
    return CandidatePage(items, total, offset, year, eligible=eligible)
