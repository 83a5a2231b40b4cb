"""The ranking of a few firms in plain Python: registry.eligibility.engine's rules, one row at a time.

A single write re-judges one firm. The vectorised engine costs the same ~hundreds of pandas
operations for one row as for a million (about 30–60 ms a rule set), which is most of a write; this
module computes the same three numbers the ranking stores — outcome rank, score, gap — for each row
with scalar arithmetic in the same order of operations, so the floats come out identical, and the
same explanation: its per-criterion results (engine.Result holding plain values) go through the
engine's own Explainer (engine.unmet_items), so the texts are written in one place.

tests/eligibility/test_single.py keeps the two equal: every firm of the demo registry, every target.
The metric recipes are shared (engine.MetricRecipes); any change to engine.Metrics' primitives,
evaluate_leaf, evaluate_score or evaluate must be made here too.
"""

import datetime
import math

import numpy as np
import pandas as pd

from registry.eligibility.engine import (
    EPS, FAILED, MET, MISSING, Explainer, MetricRecipes, Result, compare, qualification_key, threshold_value,
    unmet_items,
)
from registry.services.ladder import add_months

NAN = float("nan")
OUTCOME_RANK = {MET: 0, FAILED: 1, MISSING: 2}
EPOCH = datetime.date(1970, 1, 1)


def _isnan(value):
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _float(value):
    return NAN if _isnan(value) else float(value)


def _pow(base, exponent):
    # numpy semantics (a negative base to a fractional power is NaN), as the vectorised engine.
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return float(np.float64(base) ** exponent)


def _ratio(numerator, denominator):
    if math.isnan(numerator) or math.isnan(denominator) or not denominator > 0:
        return NAN
    return numerator / denominator


class RowMetrics(MetricRecipes):
    """engine.Metrics for one row (a dict of load_facts columns): the same recipes over floats."""

    ratio = staticmethod(_ratio)

    def __init__(self, row, on, year):
        self.row, self.on, self.year, self._cache = row, on, year, {}
        founded = row.get("founded_on")
        self.founded = None if _isnan(founded) else founded.date() if isinstance(founded, pd.Timestamp) else founded

    def __getitem__(self, name):
        if name not in self._cache:
            method = getattr(self, f"m_{name}", None)
            self._cache[name] = method() if method else self.col(name)
        return self._cache[name]

    def col(self, name, back=0):
        return _float(self.row.get(name if back == 0 else f"{name}_p{back}"))

    def m_ip_class1(self):
        ip1 = self.col("ip_class1")
        return self.col("invention_patents") if math.isnan(ip1) else ip1

    def m_ip_count(self):
        ip1, ip2 = self["ip_class1"], self.col("ip_class2")
        total = (0.0 if math.isnan(ip1) else ip1) + (0.0 if math.isnan(ip2) else ip2)
        return total if (not math.isnan(ip1) and not math.isnan(ip2)) or total > 0 else NAN

    def exists(self, back):
        if back == 0 or "founded_on" not in self.row:
            return True
        return self.founded is None or self.founded.year <= self.year - back

    def window(self, column, years):
        total = self.col(column)
        for back in range(1, years):
            total = total + (self.col(column, back) if self.exists(back) else 0.0)
        return total

    def years_in_window(self, years):
        return sum(float(self.exists(back)) for back in range(years))

    def _each_year_min(self, this, last):
        both = NAN if math.isnan(this) or math.isnan(last) else min(this, last)
        return both if self.exists(1) else this

    def _cagr(self, years):
        rev, base = self.col("revenue"), self.col("revenue", years)
        if self.exists(years):
            return NAN if math.isnan(rev) or not base > 0 else _pow(rev / base, 1 / years) - 1
        young = NAN
        for back in range(years - 1, 0, -1):
            earlier = self.col("revenue", back)
            if math.isnan(young) and not math.isnan(rev) and earlier > 0:
                young = _pow(rev / earlier, 1 / back) - 1
        return young

    def m_main_business_growth(self):
        this, last = self.col("main_business_revenue"), self.col("main_business_revenue", 1)
        if math.isnan(this) or not last > 0:
            return NAN
        return this / last - 1

    def m_founded_on(self):
        return NAN if self.founded is None else float((self.founded - EPOCH).days)

    def m_age_years(self):
        if self.founded is None:
            return NAN
        founded, on = self.founded, self.on
        years = on.year - founded.year - ((on.month * 100 + on.day) < (founded.month * 100 + founded.day))
        last, following = add_months(founded, 12 * years), add_months(founded, 12 * (years + 1))
        return float(years) + (on - last).days / (following - last).days

    def m_unlisted(self):
        status = self.row.get("listing_status")
        if _isnan(status):
            return NAN
        return 1.0 if status == "unlisted" else 0.0


def _relative_gap(status, gap, required):
    """engine.Result.relative_gap for one row."""
    if status != FAILED:
        return 0.0
    if gap is None:
        return 1.0
    req = abs(required) if abs(required) > 0 else 1.0  # NaN > 0 is false: 1, as in the engine
    value = gap / req
    return 1.0 if math.isnan(value) else min(max(value, 0.0), 1.0)


def combine_all(statuses):
    if FAILED in statuses:
        return FAILED
    return MISSING if MISSING in statuses else MET


def combine_any(statuses):
    if MET in statuses:
        return MET
    return MISSING if MISSING in statuses else FAILED


def _held(value):
    return not _isnan(value) and bool(value)


def leaf(spec, metrics):
    """engine.evaluate_leaf for one row: a Result of plain values (status, actual, required, gap, band)."""
    row = metrics.row
    if "holds" in spec:
        held = any(_held(row.get(f"holds__{code}")) for code in spec["holds"])
        return Result(spec, MET if held else FAILED)
    if "qualification" in spec:
        return Result(spec, MET if _held(row.get(qualification_key(spec["qualification"]))) else FAILED)
    if "any_of" in spec or "all_of" in spec:
        children = [leaf(child, metrics) for child in spec.get("any_of") or spec["all_of"]]
        combine = combine_any if "any_of" in spec else combine_all
        return Result(spec, combine([c.status for c in children]), children=children)
    actual = metrics[spec["metric"]]
    banded, band = "bands" in spec, None
    if banded:
        bands = spec["bands"]
        by = metrics[bands["by"]]
        upper_closed = bands.get("closed", "lower") == "upper"
        position = sum(1 for edge in bands["edges"] if ((by >= edge - EPS) if upper_closed else (by > edge + EPS)))
        value = bands["values"][position]
        required = NAN if math.isnan(by) or value is None else float(value)
        band = NAN if math.isnan(by) else (bands.get("labels") or [None] * len(bands["values"]))[position]
    else:
        required = threshold_value(spec)
    ok, gap = compare(spec, actual, required)
    known = not math.isnan(actual) and (not math.isnan(required) or banded)
    status = MISSING if not known else (MET if ok and not math.isnan(required) else FAILED)
    extra = {"on": metrics.on}
    if spec.get("more"):
        extra["basis"] = metrics[spec["more"]["basis"]]
    if spec["metric"] == "age_years" and "founded_on" in row:
        extra["founded"] = metrics.founded
    return Result(spec, status, actual, required, gap if math.isnan(gap) else max(gap, 0.0), band, extra=extra)


def _points(value, alt):
    if math.isnan(value):
        return NAN
    out = 0.0
    if "bands" in alt:
        for threshold, pts in sorted(alt["bands"], key=lambda b: b[0]):
            if value >= threshold - EPS:
                out = float(pts)
    else:
        for threshold, pts in sorted(alt["bands_max"], key=lambda b: -b[0]):
            if value <= threshold + EPS:
                out = float(pts)
    return out


def score(spec, metrics):
    """engine.evaluate_score for one row: a Result (status, total, required, gap and the components)."""
    total, complete, components = 0.0, True, {}
    for comp in spec["components"]:
        alts = [_points(metrics[alt["metric"]], alt) for alt in comp["best_of"]]
        known = [a for a in alts if not math.isnan(a)]
        lower = max(known) if known else 0.0
        comp_complete = len(known) == len(alts) or lower >= comp["max"] - EPS
        components[comp["name"]] = (lower, comp_complete, [not math.isnan(a) for a in alts], comp)
        total = total + lower
        complete = complete and comp_complete
    status = MET if total >= spec["min_total"] - EPS else (FAILED if complete else MISSING)
    nonzero = {}
    for name in spec.get("nonzero", []):
        lower, comp_complete, _, _ = components[name]
        nonzero[name] = MET if lower > 0 else (FAILED if comp_complete else MISSING)
    return Result({"criterion": "score", "label": "score", "unit": "points", "min_total": spec["min_total"]},
                  combine_all([status, *nonzero.values()]), total, float(spec["min_total"]),
                  max(spec["min_total"] - total, 0.0),
                  extra={"components": components, "nonzero": nonzero, "complete": complete})


class _Judged:
    """One row under one rule set: the engine.Evaluation an Explainer reads (rule_set, year)."""

    def __init__(self, rule_set, thresholds, row, on, year):
        self.rule_set, self.row, self.year = rule_set, row, year
        metrics = RowMetrics(row, on, year)
        self.basic = [leaf(s, metrics) for s in thresholds.get("basic", [])]
        direct = [leaf(s, metrics).status for s in thresholds.get("direct", [])]
        self.main = [leaf(s, metrics) for s in thresholds.get("criteria", [])]
        self.score = score(thresholds["score"], metrics) if thresholds.get("score") else None
        main_status = combine_all([r.status for r in self.main] + ([self.score.status] if self.score else []))
        overall = combine_all([r.status for r in self.basic] + [combine_any([*direct, main_status])])
        self.has_year = bool(row["has_year"]) if "has_year" in row else True
        self.overall = MISSING if not self.has_year and overall != MET else overall

    def rank(self, thresholds):
        """(outcome_rank, score or NaN, gap): engine.evaluate's table row."""
        gap = 0.0
        for r in self.basic + self.main:
            gap = gap + float(r.status != MET) + _relative_gap(r.status, r.gap, r.required)  # left to right, as the engine
        if self.score is not None:
            points = self.score
            gap = gap + float(points.status != MET) + _relative_gap(points.status, points.gap,
                                                                     float(thresholds["score"]["min_total"]))
        return (OUTCOME_RANK[self.overall], (self.score.actual if self.score is not None else NAN),
                (gap if self.overall != MET else 0.0))

    def unmet(self):
        """engine.Evaluation.unmet for this row: the same items, by the same Explainer."""
        if self.overall == MET:
            return []
        return unmet_items(Explainer(self, None, self.row), self.basic, self.main, self.score, self.has_year)


def rank_row(thresholds, row, on, year):
    """(outcome_rank, score or NaN, gap) of one firm's facts under a rule set: engine.evaluate's table row."""
    return _Judged(None, thresholds, row, on, year).rank(thresholds)


def explain_row(rule_set, row, on, year):
    """The unmet criteria of one firm's facts under a rule set: engine.Evaluation.unmet."""
    return _Judged(rule_set, rule_set.thresholds, row, on, year).unmet()


def judge_row(rule_set, row, on, year):
    """One firm's facts under a rule set, judged: `.overall` (engine status), `.score` (the score
    Result or None) and `.unmet()` (engine.Evaluation.unmet) — registry.eligibility.evaluate_firm."""
    return _Judged(rule_set, rule_set.thresholds, row, on, year)


def rule_for(rule_sets, region_path):
    """registry.eligibility.rules.assign_rule_sets for one row: the deepest matching jurisdiction, or None."""
    chosen = None
    for rule in rule_sets:
        path = rule.jurisdiction.path if rule.jurisdiction_id else ""
        if not path or (region_path or "").startswith(path):
            chosen = rule
    return chosen


def rank_rows(rows, rule_sets, on, year, explain=False):
    """The ranking columns judge() stores (firm_id, outcome_rank, score_key, gap, region_path) for a
    few firms' facts (registry.eligibility.facts.fact_rows, or a load_facts frame's records); with
    `explain`, also rule_set (its code) and unmet (engine.Evaluation.unmet's items)."""
    out = []
    for row in rows:
        rule = rule_for(rule_sets, row["region_path"])
        if rule is None:
            continue
        judged = _Judged(rule, rule.thresholds, row, on, year)
        outcome_rank, total, gap = judged.rank(rule.thresholds)
        record = (row["firm_id"], outcome_rank, -(-1e18 if math.isnan(total) else total), gap, row["region_path"])
        out.append(record + (rule.code, judged.unmet()) if explain else record)
    columns = ["firm_id", "outcome_rank", "score_key", "gap", "region_path"]
    return pd.DataFrame.from_records(out, columns=columns + (["rule_set", "unmet"] if explain else []))
