"""Vectorised evaluation of an eligibility rule set over a frame of firms (one row per firm).

The same code judges one firm (a one-row frame) and a whole region (the candidate finder), so the
score an officer sees on a firm page and the candidates ranking can never disagree.

Three outcomes per criterion and per firm: MET, FAILED and MISSING. Missing data is never read as
zero: a criterion whose input is unknown is MISSING, and a firm is only FAILED when a criterion it
needs fails on known data. A points sheet whose unknown items could still lift it over the bar is
MISSING too; its `score` is then the lower bound from the known items.

Comparisons at band edges use a tolerance of 1e-9 (ratios are floats computed from 万元 decimals):
R&D/revenue exactly 6 % scores 50, 5.999 % scores 40.

Multi-year metrics name the years they need: the evaluation year and each earlier year of the
window the firm existed in (founded in or before it; an unknown founding date needs them all). A
needed year that is not recorded makes the metric unknown (MISSING, with the year and the figure
listed as the gap) — never averaged away over the years present, never counted as zero. Only a
firm too young to have a year is judged on the years it has.

Explanations print each value at the precision that decides the comparison (4.9998 % < 5 %, never
"5 % < 5 %"; "registered 11 months < 1 year"), in Chinese (`text_zh`) and English (`text`,
`text_en`), with the rule set and the clause the criterion comes from.
"""

import datetime
import math
from decimal import ROUND_HALF_UP, Decimal
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from registry.services.ladder import add_months

EPS = 1e-9
MET, FAILED, MISSING = 0, 1, 2
OUTCOME = {MET: "eligible", FAILED: "not_eligible", MISSING: "missing_data"}

# metric → (label for "missing" messages, years it needs relative to the evaluation year)
METRICS = {
    "revenue": ("revenue", (0,)),
    "rd_expense": ("R&D expense", (0,)),
    "employees": ("employees", (0,)),
    "total_assets": ("total assets", (0,)),
    "debt_ratio": ("debt ratio", (0,)),
    "valuation_usd": ("valuation", (0,)),
    "revenue_growth": ("revenue growth", (0,)),
    "ip_class1": ("Class I IP count", (0,)),
    "ip_class2": ("Class II IP count", (0,)),
    "ip_count": ("IP count", (0,)),
    "staff_share": ("R&D staff or employees", (0,)),
    "rd_to_revenue": ("R&D expense or revenue", (0,)),
    "rd_to_cost": ("R&D expense or total cost", (0,)),
    "rd_intensity_3y": ("R&D expense or revenue", (0,)),
    "rd_intensity_2y_min": ("R&D expense or revenue", (0, 1)),
    "rd_min_2y": ("R&D expense", (0, 1)),
    "rd_total_2y": ("R&D expense", (0, 1)),
    "revenue_cagr_3y": ("revenue for growth", (0, 1)),
    "revenue_cagr_2y": ("revenue for growth", (0, 1)),
    "hightech_share": ("high-tech revenue or revenue", (0,)),
    "new_equity_2y": ("new equity financing", (0,)),
    "age_years": ("founding date", ()),
    "unlisted": ("listing status", ()),
    "strategic_field": ("main-product field", None),
    "main_business_share": ("main-business revenue or revenue", (0,)),
    "main_business_revenue": ("main-business revenue", (0,)),
    "main_business_growth": ("main-business revenue", (0, 1)),
    "rd_domestic_share_3y": ("R&D inside China or R&D expense", (0,)),
    "innovation_score": ("innovation-score items", (0,)),
    "founded_on": ("founding date", ()),
    "new_equity_3y": ("new equity financing", (0,)),
    "rd_avg_3y": ("R&D expense", (0,)),
}


# metric → (indicator columns it reads, how many earlier years it needs)
METRIC_COLUMNS = {
    "ip_class1": (("ip_class1", "invention_patents"), 0),
    "ip_count": (("ip_class1", "invention_patents", "ip_class2"), 0),
    "staff_share": (("rd_staff", "employees"), 0),
    "rd_to_revenue": (("rd_expense", "revenue"), 0),
    "rd_to_cost": (("rd_expense", "total_cost"), 0),
    "rd_intensity_3y": (("rd_expense", "revenue"), 2),
    "revenue_3y": (("rd_expense", "revenue"), 2),
    "rd_intensity_2y_min": (("rd_expense", "revenue"), 1),
    "rd_min_2y": (("rd_expense",), 1),
    "rd_total_2y": (("rd_expense",), 1),
    "revenue_cagr_3y": (("revenue",), 3),
    "revenue_cagr_2y": (("revenue",), 2),
    "hightech_share": (("hightech_revenue", "revenue"), 0),
    "new_equity_2y": (("new_equity_financing",), 1),
    "new_equity_3y": (("new_equity_financing",), 2),
    "age_years": ((), 0),
    "founded_on": ((), 0),
    "unlisted": ((), 0),
    "main_business_share": (("main_business_revenue", "revenue"), 0),
    "main_business_growth": (("main_business_revenue",), 1),
    "rd_domestic_share_3y": (("rd_expense_domestic", "rd_expense"), 2),
    "rd_avg_3y": (("rd_expense",), 2),
    "innovation_score": (("innovation_ip", "innovation_conversion", "innovation_rd_management", "innovation_growth"), 0),
}

# Figures as users know them, for the "missing" gap list: column → (中文, English).
FIGURES = {
    "revenue": ("营业收入", "revenue"), "revenue_growth": ("营收增长率", "revenue growth"),
    "rd_expense": ("研发费用", "R&D expense"), "total_cost": ("成本费用总额", "total cost"),
    "employees": ("从业人员", "employees"), "rd_staff": ("研发/科技人员", "R&D staff"),
    "ip_class1": ("Ⅰ类知识产权", "Class I IP count"), "ip_class2": ("Ⅱ类知识产权", "Class II IP count"),
    "invention_patents": ("发明专利", "invention patents"), "hightech_revenue": ("高新技术产品（服务）收入", "high-tech revenue"),
    "total_assets": ("资产总额", "total assets"), "debt_ratio": ("资产负债率", "debt ratio"),
    "new_equity_financing": ("新增股权融资", "new equity financing"), "valuation_usd": ("估值", "valuation"),
    "rd_expense_domestic": ("境内研发费用", "R&D inside China"), "main_business_revenue": ("主营业务收入", "main-business revenue"),
    "innovation_ip": ("创新能力·知识产权", "innovation score: IP"),
    "innovation_conversion": ("创新能力·科技成果转化", "innovation score: conversion"),
    "innovation_rd_management": ("创新能力·研发组织管理", "innovation score: R&D management"),
    "innovation_growth": ("创新能力·成长性", "innovation score: growth"),
    "founded_on": ("成立日期", "founding date"), "listing_status": ("上市状态", "listing status"),
}
# metric → inputs (column, years back) whose absence is the gap; default: its columns over its window.
METRIC_INPUTS = {
    "ip_class1": (("ip_class1", 0),),
    "ip_count": (("ip_class1", 0), ("ip_class2", 0)),
    "age_years": (("founded_on", 0),),
    "founded_on": (("founded_on", 0),),
    "unlisted": (("listing_status", 0),),
    "revenue_cagr_3y": (("revenue", 0), ("revenue", 3)),
    "revenue_cagr_2y": (("revenue", 0), ("revenue", 2)),
}


def metric_inputs(name):
    if name in METRIC_INPUTS:
        return METRIC_INPUTS[name]
    columns, back = METRIC_COLUMNS.get(name, ((name,), 0))
    return tuple((c, b) for b in range(back + 1) for c in columns)


def qualification_key(spec):
    """The facts column naming a qualification route (registry.eligibility.facts computes it)."""
    import json

    return "qualification:" + json.dumps(spec, sort_keys=True, ensure_ascii=False)


def metrics_used(thresholds):
    names = set()

    def walk(specs):
        for spec in specs:
            if "metric" in spec:
                names.add(spec["metric"])
            if "bands" in spec:
                names.add(spec["bands"]["by"])
            if spec.get("more"):
                names.add(spec["more"]["basis"])
            walk(spec.get("any_of", []) + spec.get("all_of", []))

    for key in ("basic", "direct", "criteria"):
        walk(thresholds.get(key, []))
    for component in (thresholds.get("score") or {}).get("components", []):
        names.update(alt["metric"] for alt in component["best_of"])
    return names


def columns_needed(thresholds):
    """(indicator columns, years of history) the rule set reads, so only those are fetched."""
    columns, history = set(), 0
    for name in metrics_used(thresholds):
        cols, back = METRIC_COLUMNS.get(name, ((name,), 0))
        columns.update(cols)
        history = max(history, back)
    return columns, history


def _num(df, column):
    if column not in df:
        return pd.Series(np.nan, index=df.index, dtype="float64")
    return pd.to_numeric(df[column], errors="coerce").astype("float64")


def _ratio(numerator, denominator):
    out = numerator / denominator.where(denominator > 0)
    return out.where(numerator.notna() & denominator.notna())


def age_in_years(founded, on):
    """Exact age: N on the N-th anniversary, plus the fraction of the current anniversary year."""
    if founded is None or (isinstance(founded, float) and math.isnan(founded)) or founded is pd.NaT:
        return np.nan
    if isinstance(founded, pd.Timestamp):
        founded = founded.date()
    years = on.year - founded.year - ((on.month, on.day) < (founded.month, founded.day))
    last = add_months(founded, 12 * years)
    following = add_months(founded, 12 * (years + 1))
    return years + (on - last).days / (following - last).days


def _anniversary(founded, years):
    """Vectorised founded + `years` years (29 February → 28 February in common years)."""
    year = founded.dt.year + years
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    day = founded.dt.day.where(~((founded.dt.month == 2) & (founded.dt.day == 29) & ~leap), 28)
    return pd.to_datetime(pd.DataFrame({"year": year, "month": founded.dt.month, "day": day}), errors="coerce")


def ages_in_years(founded, on):
    """age_in_years over a datetime Series (NaT → NaN)."""
    on_ts = pd.Timestamp(on)
    before = (on.month * 100 + on.day) < (founded.dt.month * 100 + founded.dt.day)
    years = (on.year - founded.dt.year - before.astype("Int64")).astype("float64")
    whole = years.fillna(0).astype("int64")
    last, following = _anniversary(founded, whole), _anniversary(founded, whole + 1)
    fraction = (on_ts - last).dt.days / (following - last).dt.days
    return (years + fraction).where(founded.notna())


class MetricRecipes:
    """Which facts make each derived metric, written once over the primitives a subclass gives —
    `col`, `window`, `years_in_window`, `_each_year_min`, `_cagr` and `ratio`: Metrics computes them
    over a whole frame (pandas), eligibility.single.RowMetrics over one row (floats)."""

    def m_staff_share(self):
        return self.ratio(self.col("rd_staff"), self.col("employees"))

    def m_rd_to_revenue(self):
        return self.ratio(self.col("rd_expense"), self.col("revenue"))

    def m_rd_to_cost(self):
        return self.ratio(self.col("rd_expense"), self.col("total_cost"))

    def m_rd_intensity_3y(self):
        return self.ratio(self.window("rd_expense", 3), self.window("revenue", 3))

    def m_revenue_3y(self):
        return self.window("revenue", 3)

    def m_rd_expense_3y(self):
        return self.window("rd_expense", 3)

    def m_rd_intensity_2y_min(self):
        return self._each_year_min(self["rd_to_revenue"], self.ratio(self.col("rd_expense", 1), self.col("revenue", 1)))

    def m_rd_min_2y(self):
        return self._each_year_min(self.col("rd_expense"), self.col("rd_expense", 1))

    def m_rd_total_2y(self):
        return self.window("rd_expense", 2)

    def m_rd_avg_3y(self):
        return self.window("rd_expense", 3) / self.years_in_window(3)

    def m_revenue_cagr_3y(self):
        return self._cagr(3)

    def m_revenue_cagr_2y(self):
        return self._cagr(2)

    def m_hightech_share(self):
        return self.ratio(self.col("hightech_revenue"), self.col("revenue"))

    def m_new_equity_2y(self):
        return self.window("new_equity_financing", 2)

    def m_new_equity_3y(self):
        return self.window("new_equity_financing", 3)

    def m_main_business_share(self):
        return self.ratio(self.col("main_business_revenue"), self.col("revenue"))

    def m_main_business_revenue(self):
        return self.col("main_business_revenue")

    def m_rd_domestic_share_3y(self):
        return self.ratio(self.window("rd_expense_domestic", 3), self.window("rd_expense", 3))

    def m_innovation_score(self):
        items = ("innovation_ip", "innovation_conversion", "innovation_rd_management", "innovation_growth")
        return sum(self.col(c) for c in items)  # any unknown item leaves the total unknown


class Metrics(MetricRecipes):
    """Derived metrics over the frame, computed on first use."""

    ratio = staticmethod(_ratio)

    def __init__(self, df, on, year=None):
        self.df, self.on, self._cache = df, on, {}
        self.year = evaluation_year(on) if year is None else year

    def __getitem__(self, name):
        if name not in self._cache:
            self._cache[name] = getattr(self, f"m_{name}", lambda: _num(self.df, name))()
        return self._cache[name]

    def col(self, name, back=0):
        return _num(self.df, name if back == 0 else f"{name}_p{back}")

    def m_ip_class1(self):
        ip1 = self.col("ip_class1")
        return ip1.fillna(self.col("invention_patents"))

    def m_ip_count(self):
        ip1, ip2 = self["ip_class1"], self.col("ip_class2")
        total = ip1.fillna(0) + ip2.fillna(0)
        # One known positive count is enough to know "at least one"; two unknowns are unknown.
        return total.where(ip1.notna() & ip2.notna() | (total > 0))

    def exists(self, back):
        """Rows whose firm existed in year `year - back` (so must have its figures); unknown founding → yes."""
        if back == 0 or "founded_on" not in self.df:
            return pd.Series(True, index=self.df.index)
        founded = pd.to_datetime(self.df["founded_on"])
        return founded.isna() | (founded.dt.year <= self.year - back)

    def window(self, column, years):
        """`column` summed over the evaluation year and the `years - 1` before it that the firm existed
        in; NaN when any of those years is unknown (a missing year is never read as zero)."""
        total = self.col(column)
        for back in range(1, years):
            total = total + self.col(column, back).where(self.exists(back), 0.0)
        return total

    def years_in_window(self, years):
        return sum(self.exists(back).astype("float64") for back in range(years))

    def _each_year_min(self, this, last):
        """The smaller of this year's and last year's value; this year's alone for a firm too young for last year."""
        both = np.fmin(this, last).where(this.notna() & last.notna())
        return both.where(self.exists(1), this)

    def _cagr(self, years):
        """Revenue CAGR from `years` back. A firm that existed then needs that year's revenue; only a
        younger firm is measured over the longest span it has."""
        rev = self.col("revenue")
        base = self.col("revenue", years)
        exact = (rev / base.where(base > 0)) ** (1 / years) - 1
        young = pd.Series(np.nan, index=self.df.index, dtype="float64")
        for back in range(years - 1, 0, -1):
            earlier = self.col("revenue", back)
            ok = young.isna() & rev.notna() & (earlier > 0)
            young = young.where(~ok, (rev / earlier.where(earlier > 0)) ** (1 / back) - 1)
        return exact.where(self.exists(years), young)

    def m_main_business_growth(self):
        this, last = self.col("main_business_revenue"), self.col("main_business_revenue", 1)
        return (this / last.where(last > 0) - 1).where(this.notna())

    def m_founded_on(self):
        """Founding date as days since 1970-01-01, so it compares with a date threshold."""
        if "founded_on" not in self.df:
            return pd.Series(np.nan, index=self.df.index, dtype="float64")
        founded = pd.to_datetime(self.df["founded_on"])
        return ((founded - pd.Timestamp("1970-01-01")).dt.days).astype("float64")

    def m_age_years(self):
        if "founded_on" not in self.df:
            return pd.Series(np.nan, index=self.df.index, dtype="float64")
        return ages_in_years(pd.to_datetime(self.df["founded_on"]), self.on)

    def m_unlisted(self):
        if "listing_status" not in self.df:
            return pd.Series(np.nan, index=self.df.index, dtype="float64")
        status = self.df["listing_status"]
        return (status == "unlisted").astype("float64").where(status.notna())


@dataclass
class Result:
    """Per-firm outcome of one criterion (or a combination)."""

    spec: dict
    status: pd.Series
    actual: pd.Series = None
    required: pd.Series = None
    gap: pd.Series = None
    band: pd.Series = None
    children: list = field(default_factory=list)
    extra: dict = field(default_factory=dict)

    @property
    def relative_gap(self):
        if self.gap is None:
            return pd.Series(np.where(self.status == FAILED, 1.0, 0.0), index=self.status.index)
        req = self.required.abs().where(self.required.abs() > 0, 1)
        return (self.gap / req).clip(lower=0, upper=1).fillna(1.0).where(self.status == FAILED, 0.0)


def combine_all(statuses, index):
    out = pd.Series(MET, index=index, dtype="int8")
    for s in statuses:
        out = out.where(~((s == MISSING) & (out == MET)), MISSING)
    for s in statuses:
        out = out.where(s != FAILED, FAILED)
    return out


def combine_any(statuses, index):
    if not statuses:
        return pd.Series(FAILED, index=index, dtype="int8")
    out = pd.Series(FAILED, index=index, dtype="int8")
    for s in statuses:
        out = out.where(~(s == MISSING) | (out == MET), MISSING)
    for s in statuses:
        out = out.where(s != MET, MET)
    return out


def band_lookup(value, bands_spec, index):
    """(required value, band label) per row from the band the `by` metric falls in."""
    by = value
    edges, values = bands_spec["edges"], bands_spec["values"]
    labels = bands_spec.get("labels") or [None] * len(values)
    upper_closed = bands_spec.get("closed", "lower") == "upper"
    position = pd.Series(0, index=index)
    for edge in edges:
        beyond = (by >= edge - EPS) if upper_closed else (by > edge + EPS)
        position = position + beyond.astype(int)
    table = np.array([np.nan if v is None else v for v in values], dtype="float64")
    required = pd.Series(table[position.to_numpy()], index=index).where(by.notna())
    label = pd.Series(np.array(labels, dtype=object)[position.to_numpy()], index=index).where(by.notna())
    return required, label


def threshold_value(spec):
    """A criterion's fixed threshold as a float; dates ("date" unit) as days since 1970-01-01."""
    if spec.get("unit") == "date":
        return float((as_date(spec["value"]) - datetime.date(1970, 1, 1)).days)
    return float(spec["value"])


def compare(spec, actual, required):
    """(met, gap) of a criterion's comparison, for one firm (floats) or a whole frame (Series) alike;
    the gap is how far the actual value is from the requirement, positive when short."""
    op = spec.get("op", ">=")
    if op == ">=":
        return actual >= required - EPS, required - actual
    if op == ">":
        return actual > required + EPS, required - actual
    if op == "<=":
        return actual <= required + EPS, actual - required
    if op == "<":
        return actual < required - EPS, actual - required
    raise ValueError(f"Unknown operator {op!r} in criterion {spec.get('criterion')}")


def evaluate_leaf(spec, metrics, df):
    index = df.index
    if "holds" in spec:
        held = pd.Series(False, index=index)
        for code in spec["holds"]:
            col = f"holds__{code}"
            if col in df:
                held = held | df[col].fillna(False).astype(bool)
        status = pd.Series(np.where(held, MET, FAILED), index=index, dtype="int8")
        return Result(spec, status)
    if "qualification" in spec:  # a recorded award / R&D institution / standard (registry.eligibility.facts)
        column = qualification_key(spec["qualification"])
        held = df[column].fillna(False).astype(bool) if column in df else pd.Series(False, index=index)
        return Result(spec, pd.Series(np.where(held, MET, FAILED), index=index, dtype="int8"))
    if "any_of" in spec or "all_of" in spec:
        children = [evaluate_leaf(child, metrics, df) for child in spec.get("any_of") or spec["all_of"]]
        combine = combine_any if "any_of" in spec else combine_all
        return Result(spec, combine([c.status for c in children], index), children=children)

    actual = metrics[spec["metric"]]
    if "bands" in spec:
        required, band = band_lookup(metrics[spec["bands"]["by"]], spec["bands"], index)
    else:
        required, band = pd.Series(threshold_value(spec), index=index), None
    ok, gap = compare(spec, actual, required)
    known = actual.notna() & (required.notna() | (band is not None))
    status = pd.Series(np.where(~known, MISSING, np.where(ok & required.notna(), MET, FAILED)), index=index, dtype="int8")
    extra = {}
    if spec.get("more"):
        extra["basis"] = metrics[spec["more"]["basis"]]
    if spec["metric"] == "age_years" and "founded_on" in df:
        extra["founded"] = pd.to_datetime(df["founded_on"])
    extra["on"] = metrics.on
    return Result(spec, status, actual, required, gap.clip(lower=0), band, extra=extra)


def points(value, component_alt):
    if "bands" in component_alt:
        out = pd.Series(0.0, index=value.index)
        for threshold, pts in sorted(component_alt["bands"], key=lambda b: b[0]):
            out = out.where(~(value >= threshold - EPS), float(pts))
    else:
        out = pd.Series(0.0, index=value.index)
        for threshold, pts in sorted(component_alt["bands_max"], key=lambda b: -b[0]):
            out = out.where(~(value <= threshold + EPS), float(pts))
    return out.where(value.notna())


def evaluate_score(spec, metrics, df):
    index = df.index
    total = pd.Series(0.0, index=index)
    complete = pd.Series(True, index=index)
    components = {}
    for comp in spec["components"]:
        alts = [points(metrics[alt["metric"]], alt) for alt in comp["best_of"]]
        known_each = [alt.notna() for alt in alts]
        lower = pd.concat(alts, axis=1).max(axis=1).fillna(0.0)
        all_known = pd.concat(alts, axis=1).notna().all(axis=1)
        comp_complete = all_known | (lower >= comp["max"] - EPS)
        components[comp["name"]] = (lower, comp_complete, known_each, comp)
        total = total + lower
        complete = complete & comp_complete
    passes = total >= spec["min_total"] - EPS
    status = pd.Series(np.where(passes, MET, np.where(complete, FAILED, MISSING)), index=index, dtype="int8")
    nonzero = []
    for name in spec.get("nonzero", []):
        lower, comp_complete, _, comp = components[name]
        nz = pd.Series(np.where(lower > 0, MET, np.where(comp_complete, FAILED, MISSING)), index=index, dtype="int8")
        nonzero.append(nz)
    status = combine_all([status] + nonzero, index)
    gap = (spec["min_total"] - total).clip(lower=0)
    return Result({"criterion": "score", "label": "score", "unit": "points", **{k: v for k, v in spec.items() if k == "min_total"}},
                  status, total, pd.Series(float(spec["min_total"]), index=index), gap,
                  extra={"components": components, "nonzero": dict(zip(spec.get("nonzero", []), nonzero)), "complete": complete})


@dataclass
class Evaluation:
    """The outcome of one rule set over a frame; `table` has outcome/eligible/score/gap per row."""

    rule_set: object
    frame: pd.DataFrame
    table: pd.DataFrame
    basic: list
    main: list
    score: Result
    year: int

    def unmet(self, position):
        """The unmet criteria of the row at `position`, as dicts (empty when eligible)."""
        if self.table["outcome"].iloc[position] == "eligible":
            return []
        has_year = bool(self.frame["has_year"].iloc[position]) if "has_year" in self.frame else True
        return unmet_items(Explainer(self, position), self.basic, self.main, self.score, has_year)

    def array(self, series):
        """`series` as an array, converted once per Evaluation: explaining every row of a chunk for the
        stored ranking reads each result by position thousands of times (Series.iloc costs ~10 µs)."""
        arrays = self.__dict__.setdefault("_arrays", {})
        key = id(series)
        if key not in arrays:
            arrays[key] = (series, series.array if series.dtype.kind == "M" else series.to_numpy())
        return arrays[key][1]


def unmet_items(explainer, basic, main, score, has_year):
    """One firm's unmet criteria under a rule set: the vectorised engine's results at a row, or
    registry.eligibility.single's for one row — the same Explainer, so the texts cannot differ."""
    year = explainer.year
    if not has_year:
        return [explainer.item({}, "indicators", f"no {year} indicators", f"缺少{year}年度指标",
                               missing=True, gaps=[{"year": year, "figure": "indicators",
                                                    "label_zh": "年度指标", "label_en": "indicators"}])]
    items = []
    for result in basic + main + ([score] if score is not None else []):
        items.extend(explainer.describe(result))
    return items


def evaluate(thresholds, df, on, year, rule_set=None):
    """Evaluate a rule set's thresholds over `df` (firm facts; see registry.eligibility.facts)."""
    metrics = Metrics(df, on, year)
    index = df.index
    basic = [evaluate_leaf(s, metrics, df) for s in thresholds.get("basic", [])]
    direct = [evaluate_leaf(s, metrics, df) for s in thresholds.get("direct", [])]
    main = [evaluate_leaf(s, metrics, df) for s in thresholds.get("criteria", [])]
    score = evaluate_score(thresholds["score"], metrics, df) if thresholds.get("score") else None
    main_status = combine_all([r.status for r in main] + ([score.status] if score else []), index)
    route = combine_any([r.status for r in direct] + [main_status], index)
    overall = combine_all([r.status for r in basic] + [route], index)
    if "has_year" in df:
        overall = overall.where(df["has_year"].astype(bool) | (overall == MET), MISSING)

    leaves = basic + main
    gap = pd.Series(0.0, index=index)
    for r in leaves:
        gap = gap + (r.status != MET).astype(float) + r.relative_gap
    if score is not None:
        gap = gap + (score.status != MET).astype(float) + score.relative_gap
    table = pd.DataFrame({
        "outcome": overall.map(OUTCOME),
        "eligible": overall == MET,
        "outcome_rank": overall.map({MET: 0, FAILED: 1, MISSING: 2}),
        "score": score.actual if score is not None else pd.Series(np.nan, index=index),
        "gap": gap.where(overall != MET, 0.0),
    }, index=index)
    return Evaluation(rule_set, df, table, basic, main, score, year)


# ---------------------------------------------------------------- human text, in the user's units

# A failed comparison is printed with the sign that is true of the two values shown.
FAILED_SIGN = {">=": "<", ">": "≤", "<=": ">", "<": "≥"}
BASE_DIGITS = {"ratio": 3, "money": 1, "usd": 0, "years": 1, "count": 2, "points": 2}


def _trim(value, digits):
    # Half-up on the decimal value (4.99975 → 4.9998), after dropping float noise beyond 10 decimals.
    exact = Decimal(repr(round(float(value), 10))).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    text = f"{exact:,.{digits}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def fmt(value, unit, digits=None, lang="en", scale=None):
    """One value in the user's units; `digits` decimals (after the unit's scaling) at most."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "?"
    digits = BASE_DIGITS.get(unit, 2) if digits is None else digits
    if unit == "ratio":
        return f"{_trim(value * 100, digits)} %"
    if unit == "money":
        if scale == "yi" or (scale is None and abs(value) >= 10000 and round(value / 10000, 2) == round(value / 10000)):
            return f"{_trim(value / 10000, max(digits - 1, 0) if scale is None else digits + 1)}亿"
        return f"{_trim(value, digits)}万"
    if unit == "usd":
        if value >= 1e9:
            return f"US${_trim(value / 1e9, digits + 2)} bn"
        return f"US${_trim(value / 1e6, digits + 2)} m"
    if unit == "years":
        whole = round(value, digits)
        if lang == "zh":
            return f"{_trim(whole, digits)}年"
        return f"{_trim(whole, digits)} year{'' if whole == 1 else 's'}"
    if unit == "date":
        return (datetime.date(1970, 1, 1) + datetime.timedelta(days=int(value))).isoformat()
    if unit == "flag":
        return ("是" if value else "否") if lang == "zh" else ("yes" if value else "no")
    return _trim(value, digits)


def fmt_nonzero(value, unit, lang="en"):
    """A positive amount with enough decimals not to print as 0 ("about 0.01万 more", never "0万")."""
    base = BASE_DIGITS.get(unit, 2)
    for digits in range(base, base + 6):
        text = fmt(value, unit, digits, lang)
        if any(ch in "123456789" for ch in text):
            return text
    return text


def _money_scale(actual, required):
    """亿 only when both values are whole 百万 multiples of at least 1亿; otherwise 万, so both print alike."""
    def clean(v):
        return v is not None and abs(v) >= 10000 and abs(round(v / 100) - v / 100) < 1e-9
    return "yi" if clean(actual) and clean(required) else "wan"


def decisive_pair(actual, required, unit, lang="en"):
    """(actual, required) printed with the fewest decimals at which two different values look different:
    4.9998 % < 5 %, 99.99万 < 100万, 2.0001亿 > 2亿 — never "5 % < 5 %"."""
    scale = _money_scale(actual, required) if unit == "money" else None
    base = BASE_DIGITS.get(unit, 2)
    for digits in range(base, base + 8):
        a, r = fmt(actual, unit, digits, lang, scale), fmt(required, unit, digits, lang, scale)
        if a != r or actual is None or required is None or abs(actual - required) <= EPS * max(1.0, abs(required)):
            return a, r
    return a, r


def age_text(founded, on, lang="en"):
    """An exact age from the founding date: "11 months", "10 years 4 days" (the parts that are not zero)."""
    if isinstance(founded, pd.Timestamp):
        founded = founded.date()
    years = on.year - founded.year - ((on.month, on.day) < (founded.month, founded.day))
    months = 0
    while months < 11 and add_months(founded, 12 * years + months + 1) <= on:
        months += 1
    days = (on - add_months(founded, 12 * years + months)).days
    parts = [(years, "year", "年"), (months, "month", "个月"), (days, "day", "天")]
    shown = [(n, en, zh) for n, en, zh in parts if n] or [(0, "day", "天")]
    if lang == "zh":
        return "".join(f"{n}{zh}" for n, _, zh in shown)
    return " ".join(f"{n} {en}{'' if n == 1 else 's'}" for n, en, _ in shown)


def labels(spec):
    """(中文, English) label of a criterion; a rule set may give `label_zh`/`label_en`, else `label`."""
    return spec.get("label_zh") or spec.get("label", ""), spec.get("label_en") or spec.get("label", "")


def missing_text(spec, year):
    label, years = METRICS.get(spec.get("metric"), (spec.get("metric"), (0,)))
    if years is None:
        return f"{label} not recorded in the registry"
    if not years:
        return f"no {label}"
    span = sorted({year - back for back in years})
    when = str(span[0]) if len(span) == 1 else f"{span[0]}–{span[-1]}"
    return f"no {when} {label}"


def gaps_of(spec, fact, year):
    """[{year, figure, label_zh, label_en}] of the needed figures not recorded for this row.

    `fact(column)`: the row's value of a facts column, None when the frame has no such column.
    A year counts as needed when the firm existed in it (founded in or before it, or founding
    date unknown); the evaluation year is always needed.
    """
    metric_names = [spec["metric"]] if "metric" in spec else []
    if "bands" in spec:
        metric_names.append(spec["bands"]["by"])
    founded = fact("founded_on")
    founded_year = None if founded is None or pd.isna(founded) else pd.Timestamp(founded).year
    gaps, seen = [], set()
    for name in metric_names:
        for column, back in metric_inputs(name):
            if back and founded_year is not None and founded_year > year - back:
                continue
            key = column if back == 0 else f"{column}_p{back}"
            value = fact(key)
            if value is not None and not pd.isna(value):
                continue
            if (column, back) in seen:
                continue
            seen.add((column, back))
            zh, en = FIGURES.get(column, (column, column))
            when = None if column in ("founded_on", "listing_status") else year - back
            gaps.append({"year": when, "figure": column, "label_zh": zh, "label_en": en})
    return gaps


def gap_texts(gaps):
    en = "no " + ", ".join(f"{g['year']} {g['label_en']}" if g["year"] else g["label_en"] for g in gaps)
    zh = "缺少" + "、".join(f"{g['year']}年{g['label_zh']}" if g["year"] else g["label_zh"] for g in gaps)
    return en, zh


class Explainer:
    """Turns one row's results into explanation items (dicts; web-core and GraphQL read them).

    Each item: criterion, required, actual, gap, unit, missing, text (English, as before), text_en and
    text_zh (with the source appended), gaps (the figures to collect, by year), rule_set, clause.

    The results are the vectorised engine's (Series, read at `position`) or, with `position` None,
    registry.eligibility.single's for one row (plain values); `facts` is then the row's dict.
    """

    def __init__(self, evaluation, position, facts=None):
        self.ev, self.position, self.year = evaluation, position, evaluation.year
        rule = evaluation.rule_set
        self.rule_code = getattr(rule, "code", None)
        self.rule_name = getattr(rule, "name", None)
        self.facts = facts

    def at(self, value):
        """A result's value for this row: a Series (or array) at the position, a plain value as it is."""
        if self.position is None or value is None or not isinstance(value, pd.Series):
            return value
        return self.ev.array(value)[self.position]

    def num(self, value):
        value = self.at(value)
        return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)

    def fact(self, column):
        if self.position is None:
            return self.facts.get(column)
        frame = self.ev.frame
        return self.ev.array(frame[column])[self.position] if column in frame else None

    def source(self, spec):
        clause = spec.get("clause", "")
        return " ".join(p for p in (self.rule_name or self.rule_code or "", clause) if p)

    def item(self, spec, criterion, en, zh, *, required=None, actual=None, gap=None, unit=None, missing=False, gaps=()):
        source = self.source(spec)
        return {"criterion": criterion, "required": required, "actual": actual, "gap": gap, "unit": unit,
                "missing": missing, "text": en,
                "text_en": f"{en} [{source}]" if source else en, "text_zh": f"{zh}【{source}】" if source else zh,
                "gaps": list(gaps), "rule_set": self.rule_code, "clause": spec.get("clause", "")}

    def describe(self, result):
        year = self.year
        status = int(self.at(result.status))
        if status == MET:
            return []
        spec = result.spec
        name = spec.get("criterion")
        zh_label, en_label = labels(spec)
        if name == "score":
            return self.describe_score(result)
        if "holds" in spec or "qualification" in spec:
            return [self.item(spec, name, f"no {en_label} on the evaluation date", f"评价日无{zh_label}")]
        if result.children:
            child_items = [i for child in result.children for i in self.describe(child)]
            if "all_of" in spec:
                return child_items
            numeric = [i for i in child_items if i["gap"] is not None and not i["missing"]]
            best = min(numeric, key=lambda i: i["gap"] / (abs(i["required"]) or 1)) if numeric else None
            return [self.item(
                spec, name, f"{en_label}: " + "; ".join(i["text"] for i in child_items),
                f"{zh_label}：" + "；".join(i["text_zh"].split("【")[0] for i in child_items),
                required=best and best["required"], actual=best and best["actual"], gap=best and best["gap"],
                unit=best and best["unit"], missing=status == MISSING,
                gaps=[g for i in child_items for g in i["gaps"]])]
        unit = spec.get("unit")
        actual, required = self.num(result.actual), self.num(result.required)
        if status == MISSING:
            gaps = gaps_of(spec, self.fact, year)
            if gaps:
                en, zh = gap_texts(gaps)
            else:
                en, zh = missing_text(spec, year), f"缺少{zh_label}数据"
            return [self.item(spec, name, en, zh, required=required, unit=unit, missing=True, gaps=gaps)]
        band = self.at(result.band)
        if required is None:
            return [self.item(spec, name, f"{en_label}: no such route for {band}", f"{zh_label}：{band}无此途径",
                              actual=actual, unit=unit)]
        gap = self.num(result.gap)
        sign = FAILED_SIGN[spec.get("op", ">=")]
        founded = result.extra.get("founded")
        founded = self.at(founded)
        if unit == "years" and founded is not None and not pd.isna(founded):
            on = result.extra["on"]
            a_en, a_zh = age_text(founded, on), age_text(founded, on, "zh")
            r_en, r_zh = fmt(required, unit, 2), fmt(required, unit, 2, "zh")
        else:
            a_en, r_en = decisive_pair(actual, required, unit)
            a_zh, r_zh = decisive_pair(actual, required, unit, "zh")
        en, zh = f"{en_label} {a_en} {sign} {r_en}", f"{zh_label} {a_zh} {sign} {r_zh}"
        if band:
            en += f" for {band}"
            zh += f"（{band}）"
        more = spec.get("more")
        basis = self.num(result.extra.get("basis")) if more else None
        if more and basis is not None and gap is not None:
            amount = gap * basis
            if more["unit"] == "count":
                amount = math.ceil(amount - EPS)
            en += f": about {fmt_nonzero(amount, more['unit'])} more {more['what']}"
            zh += f"：约需增加{more.get('what_zh', more['what'])} {fmt_nonzero(amount, more['unit'], 'zh')}"
        return [self.item(spec, name, en, zh, required=required, actual=actual, gap=gap, unit=unit)]

    def describe_score(self, result):
        year = self.year
        spec = {"criterion": "score", "clause": result.spec.get("clause", "")}
        items = []
        components = result.extra["components"]
        for name, nz in result.extra["nonzero"].items():
            lower, _, _, comp = components[name]
            if int(self.at(nz)) == FAILED:
                items.append(self.item(spec, f"score_{name}", f"{comp['label']} sub-score is 0 (must be above 0)",
                                       f"{comp['label']} 得分为 0（须大于 0）", required=0.0, actual=0.0, unit="points"))
        total, minimum = self.num(result.actual), self.num(result.required)
        complete = bool(self.at(result.extra["complete"]))
        parts = ", ".join(f"{c['label']} {self.at(lower):g}/{c['max']}" for lower, _, _, c in components.values())
        if total < minimum - EPS:
            prefix, prefix_zh = ("score", "评分") if complete else ("score (known items only)", "评分（仅已知项）")
            items.append(self.item(spec, "score", f"{prefix} {total:g} < {minimum:g} ({parts})",
                                   f"{prefix_zh} {total:g} < {minimum:g}（{parts}）", required=minimum, actual=total,
                                   gap=minimum - total, unit="points", missing=not complete))
        for name, (lower, comp_complete, _, comp) in components.items():
            if not bool(self.at(comp_complete)) and (total < minimum - EPS or name in result.extra["nonzero"]):
                metrics_missing = [alt["metric"] for alt, known in zip(comp["best_of"], components[name][2])
                                   if not bool(self.at(known))]
                gaps = [g for m in metrics_missing for g in gaps_of({"metric": m}, self.fact, year)]
                en = f"{comp['label']}: " + "; ".join(missing_text({"metric": m}, year) for m in metrics_missing)
                zh = f"{comp['label']}：" + (gap_texts(gaps)[1] if gaps else "数据缺失")
                items.append(self.item(spec, f"score_{name}", en, zh, unit="points", missing=True, gaps=gaps))
        return items


def evaluation_year(on):
    """Indicators of the last full calendar year before the evaluation date are used."""
    return on.year - 1


def as_date(value):
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value))
