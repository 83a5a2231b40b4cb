"""One firm against one rule set: local schemes by name, the smallest change per unmet figure, and a
recomputation with figures the officer types in (what-if). Nothing here writes: typed figures live in
the evaluation's frame only, never in the registry.

The frame comes from registry.eligibility.facts and is judged by registry.eligibility.engine, the same
code as the candidate finder, so a what-if with no figures typed agrees with the firm's evaluation.
"""

import datetime
import math
from dataclasses import dataclass, field

from django.utils import timezone

from registry.eligibility import FirmEvaluation
from registry.eligibility.engine import EPS, Metrics, columns_needed, evaluate, evaluation_year
from registry.eligibility.facts import DETAIL_COLUMNS, INDICATOR_COLUMNS, load_facts, tiers_needed
from registry.eligibility.rules import resolve_target, rule_set_for_region, rule_sets_for, scheme
from registry.models import Firm
from registry.services.errors import field_error

# A ratio metric → (the figure to move, the metric it is divided by): "R&D / revenue 2.9 % < 3 %"
# becomes "R&D +X万" at the current revenue.
RATIO_PARTS = {
    "rd_to_revenue": ("rd_expense", "revenue"),
    "rd_to_cost": ("rd_expense", "total_cost"),
    "staff_share": ("rd_staff", "employees"),
    "hightech_share": ("hightech_revenue", "revenue"),
    "main_business_share": ("main_business_revenue", "revenue"),
    "rd_intensity_3y": ("rd_expense", "revenue_3y"),
    "rd_domestic_share_3y": ("rd_expense_domestic", "rd_expense_3y"),
}
FIGURE_UNITS = {"employees": "count", "rd_staff": "count", "ip_class1": "count", "ip_class2": "count",
                "invention_patents": "count", "debt_ratio": "ratio", "revenue_growth": "ratio",
                "valuation_usd": "usd", "innovation_ip": "points", "innovation_conversion": "points",
                "innovation_rd_management": "points", "innovation_growth": "points"}
TYPABLE = frozenset(INDICATOR_COLUMNS) | frozenset(DETAIL_COLUMNS) - {"revenue_growth"}
# Metrics over several years that move with one figure one-for-one: (figure, which year to raise).
# "lowest": the year with the smaller value (each-of-2-years rules); "any": any year of the window.
SUM_PARTS = {"rd_min_2y": ("rd_expense", "lowest"), "rd_total_2y": ("rd_expense", "any"),
             "new_equity_2y": ("new_equity_financing", "any"), "new_equity_3y": ("new_equity_financing", "any"),
             "revenue_3y": ("revenue", "any")}


@dataclass
class Change:
    """The smallest change of one figure that meets one unmet criterion, other figures unchanged."""

    criterion: str
    metric: str
    actual: float
    required: float
    unit: str
    figure: str | None = None
    figure_actual: float | None = None
    figure_change: float | None = None
    figure_unit: str | None = None
    figure_year: int | None = None  # the year to change; None: the evaluation year or any year of the window


@dataclass
class WhatIf:
    evaluation: FirmEvaluation
    changes: list = field(default_factory=list)
    figures: list = field(default_factory=list)  # what was typed, echoed back (never stored)


def rule_for(firm, stage=None, tier=None, on=None, scheme_code=None):
    """(rule set, on) for a national target (the firm region's rule set) or a local scheme by code."""
    on = on or timezone.localdate()
    firm = Firm.objects.select_related("region").get(pk=firm.pk)
    if scheme_code:
        rule = scheme(scheme_code, on)
        if not (firm.region.path or "").startswith(rule.jurisdiction.path):
            raise field_error("scheme", f"Scheme “{scheme_code}” does not cover region {firm.region.code}.",
                              code="out_of_jurisdiction")
        return rule, on
    if stage is None:
        raise field_error("stage", "Give a target stage (and tier) or a scheme.", code="required")
    stage, tier = resolve_target(stage, tier)
    rule = rule_set_for_region(rule_sets_for(stage, tier, on), firm.region.path)
    if rule is None:
        raise field_error("stage", f"No eligibility rules for {tier.code if tier else stage.code} in force on {on}.",
                          code="no_rules")
    return rule, on


def _frame(firm, rule, on):
    year = evaluation_year(on)
    columns, history = columns_needed(rule.thresholds)
    frame = load_facts(Firm.objects.filter(pk=firm.pk), on, year, tiers_needed(rule.thresholds),
                       columns=columns, history=history)
    return frame, year, history


def apply_figures(frame, figures, year, history):
    """Typed figures [{figure, year, value}] into the frame; a clear error naming the row otherwise."""
    frame = frame.copy()
    for number, item in enumerate(figures, start=1):
        name, value = item.get("figure"), item.get("value")
        at = item.get("year", year)
        where = f"figures[{number}]"
        if name == "founded_on":
            try:
                frame.loc[0, "founded_on"] = datetime.date.fromisoformat(str(value))
            except ValueError:
                raise field_error("figures", f"{where}: founded_on “{value}” is not a date.", code="invalid") from None
            frame["founded_on"] = frame["founded_on"].astype("datetime64[ns]")
            continue
        if name not in TYPABLE:
            raise field_error("figures", f"{where}: “{name}” is not a figure the rules read.", code="unknown_figure")
        back = year - int(at)
        if not 0 <= back <= max(history, 0):
            raise field_error("figures", f"{where}: year {at} is outside {year - history}–{year}, the years these "
                                         f"rules read.", code="year_out_of_window")
        try:
            number_value = float(value)
        except (TypeError, ValueError):
            raise field_error("figures", f"{where}: {name} “{value}” is not a number.", code="invalid") from None
        if math.isnan(number_value) or number_value < 0:
            raise field_error("figures", f"{where}: {name} cannot be negative.", code="negative")
        frame[name if back == 0 else f"{name}_p{back}"] = number_value
        if back == 0 and "has_year" in frame:
            frame["has_year"] = True
    return frame


def smallest_changes(evaluation, position=0):
    """For each numeric criterion that failed: the change of its figure that would just meet it."""
    metrics = Metrics(evaluation.frame, evaluation.frame.attrs.get("on"), evaluation.year) \
        if evaluation.frame.attrs.get("on") else None
    out = []

    def walk(result):
        status = int(result.status.iloc[position])
        if status != 1:  # FAILED only: MISSING data is a gap to collect, not a change to make
            return
        spec = result.spec
        if result.children:
            if "all_of" in spec:
                for child in result.children:
                    walk(child)
            else:  # any_of: the route nearest to passing
                failed = [c for c in result.children if c.gap is not None and int(c.status.iloc[position]) == 1]
                if failed:
                    walk(min(failed, key=lambda c: float(c.relative_gap.iloc[position])))
            return
        if result.gap is None or "metric" not in spec:
            return
        actual, required = float(result.actual.iloc[position]), float(result.required.iloc[position])
        if math.isnan(actual) or math.isnan(required):
            return
        op = spec.get("op", ">=")
        change = Change(spec.get("criterion"), spec["metric"], actual, required, spec.get("unit"))
        delta = required - actual
        if op in (">", "<"):  # strictly beyond the threshold: the next whole unit or a hair past it
            delta += math.copysign(1 if spec.get("unit") in ("count", "points") else 1e-4 * max(abs(required), 1), delta or 1)
        parts = RATIO_PARTS.get(spec["metric"])
        if parts and metrics is not None:
            figure, basis = parts
            base = float(metrics[basis].iloc[position])
            if not math.isnan(base):
                amount = delta * base
                unit = FIGURE_UNITS.get(figure, "money")
                if unit == "count":
                    amount = math.ceil(amount - EPS)
                change.figure, change.figure_actual = figure, float(metrics[figure].iloc[position]) \
                    if figure in evaluation.frame else None
                change.figure_change, change.figure_unit = amount, unit
        elif spec["metric"] in SUM_PARTS:
            figure, which = SUM_PARTS[spec["metric"]]
            change.figure, change.figure_change, change.figure_unit = figure, delta, "money"
            if which == "lowest":
                frame = evaluation.frame
                this = frame[figure].iloc[position] if figure in frame else math.nan
                last = frame[f"{figure}_p1"].iloc[position] if f"{figure}_p1" in frame else math.nan
                lower_last = not math.isnan(last) and (math.isnan(this) or last < this)
                change.figure_year = evaluation.year - 1 if lower_last else evaluation.year
                change.figure_actual = float(last if lower_last else this)
        elif spec["metric"] in TYPABLE:
            unit = FIGURE_UNITS.get(spec["metric"], spec.get("unit"))
            amount = math.ceil(delta - EPS) if unit in ("count", "points") and delta > 0 else delta
            change.figure, change.figure_actual, change.figure_change, change.figure_unit = (
                spec["metric"], actual, amount, unit)
        out.append(change)

    for result in evaluation.basic + evaluation.main:
        walk(result)
    return out


def judge_one(firm, rule, on, figures=()):
    """FirmEvaluation, the engine's Evaluation and the smallest changes, with `figures` typed over the facts."""
    frame, year, history = _frame(firm, rule, on)
    if figures:
        frame = apply_figures(frame, list(figures), year, history)
    frame.attrs["on"] = on
    ev = evaluate(rule.thresholds, frame, on, year, rule_set=rule)
    row = ev.table.iloc[0]
    score = row["score"]
    stage_code = rule.stage.code
    result = FirmEvaluation(
        firm_id=firm.pk, stage=stage_code, tier=rule.tier.code if rule.tier_id else None, rule_set=rule.code,
        year=year, outcome=row["outcome"], eligible=bool(row["eligible"]),
        score=None if score is None or math.isnan(score) else float(score), unmet=ev.unmet(0),
    )
    return result, ev


def what_if(firm, stage=None, tier=None, on=None, figures=(), scheme_code=None):
    """The firm judged with `figures` typed over its facts (never stored), with the smallest changes left."""
    rule, on = rule_for(firm, stage, tier, on, scheme_code)
    result, ev = judge_one(firm, rule, on, figures)
    return WhatIf(result, smallest_changes(ev), list(figures))


def evaluate_scheme(firm, code, on=None):
    """The firm against one local scheme (registry/data/local_schemes.json) in force on `on`."""
    rule, on = rule_for(firm, on=on, scheme_code=code)
    return judge_one(firm, rule, on)[0]
