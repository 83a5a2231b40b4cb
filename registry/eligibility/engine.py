"""Vectorised evaluation of an eligibility rule set over a frame of firms (one row per firm).

The same code judges one firm (a one-row frame) and a whole region (the candidate finder), so the
score an officer sees on a firm page and the candidates ranking can never disagree.

Three outcomes per criterion and per firm: MET, FAILED and MISSING. Missing data is never read as
zero: a criterion whose input is unknown is MISSING, and a firm is only FAILED when a criterion it
needs fails on known data. A points sheet whose unknown items could still lift it over the bar is
MISSING too; its `score` is then the lower bound from the known items.

Comparisons at band edges use a tolerance of 1e-9 (ratios are floats computed from 万元 decimals):
R&D/revenue exactly 6 % scores 50, 5.999 % scores 40.
"""

import datetime
import math
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
    "main_business_share": ("main-business share of revenue", None),
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
    "age_years": ((), 0),
    "unlisted": ((), 0),
}


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


class Metrics:
    """Derived metrics over the frame, computed on first use."""

    def __init__(self, df, on):
        self.df, self.on, self._cache = df, on, {}

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

    def m_staff_share(self):
        return _ratio(self.col("rd_staff"), self.col("employees"))

    def m_rd_to_revenue(self):
        return _ratio(self.col("rd_expense"), self.col("revenue"))

    def m_rd_to_cost(self):
        return _ratio(self.col("rd_expense"), self.col("total_cost"))

    def _pairs(self, years):
        """R&D and revenue summed over the evaluation year and up to `years - 1` earlier years with both known."""
        rd, rev = self.col("rd_expense"), self.col("revenue")
        known = rd.notna() & rev.notna()
        rd_sum, rev_sum = rd.where(known), rev.where(known)
        for back in range(1, years):
            prd, prev = self.col("rd_expense", back), self.col("revenue", back)
            both = prd.notna() & prev.notna() & known
            rd_sum = rd_sum + prd.where(both, 0)
            rev_sum = rev_sum + prev.where(both, 0)
        return rd_sum, rev_sum

    def m_rd_intensity_3y(self):
        rd_sum, rev_sum = self._pairs(3)
        return _ratio(rd_sum, rev_sum)

    def m_revenue_3y(self):
        return self._pairs(3)[1]

    def m_rd_intensity_2y_min(self):
        this = self["rd_to_revenue"]
        last = _ratio(self.col("rd_expense", 1), self.col("revenue", 1))
        return np.fmin(this, last).where(this.notna() & last.notna())

    def m_rd_min_2y(self):
        a, b = self.col("rd_expense"), self.col("rd_expense", 1)
        return np.fmin(a, b).where(a.notna() & b.notna())

    def m_rd_total_2y(self):
        return self.col("rd_expense") + self.col("rd_expense", 1)

    def _cagr(self, years):
        """Revenue CAGR over the longest span available up to `years` (a shorter history counts actual years)."""
        rev = self.col("revenue")
        out = pd.Series(np.nan, index=self.df.index, dtype="float64")
        for back in range(years, 0, -1):
            base = self.col("revenue", back)
            ok = out.isna() & rev.notna() & (base > 0)
            out = out.where(~ok, (rev / base.where(base > 0)) ** (1 / back) - 1)
        return out

    def m_revenue_cagr_3y(self):
        return self._cagr(3)

    def m_revenue_cagr_2y(self):
        return self._cagr(2)

    def m_hightech_share(self):
        return _ratio(self.col("hightech_revenue"), self.col("revenue"))

    def m_new_equity_2y(self):
        this, last = self.col("new_equity_financing"), self.col("new_equity_financing", 1)
        return this + last.fillna(0)

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
    if "any_of" in spec or "all_of" in spec:
        children = [evaluate_leaf(child, metrics, df) for child in spec.get("any_of") or spec["all_of"]]
        combine = combine_any if "any_of" in spec else combine_all
        return Result(spec, combine([c.status for c in children], index), children=children)

    actual = metrics[spec["metric"]]
    if "bands" in spec:
        required, band = band_lookup(metrics[spec["bands"]["by"]], spec["bands"], index)
    else:
        required, band = pd.Series(float(spec["value"]), index=index), None
    op = spec.get("op", ">=")
    if op == ">=":
        ok, gap = actual >= required - EPS, required - actual
    elif op == ">":
        ok, gap = actual > required + EPS, required - actual
    elif op == "<=":
        ok, gap = actual <= required + EPS, actual - required
    else:
        raise ValueError(f"Unknown operator {op!r} in criterion {spec.get('criterion')}")
    known = actual.notna() & (required.notna() | (band is not None))
    status = pd.Series(np.where(~known, MISSING, np.where(ok & required.notna(), MET, FAILED)), index=index, dtype="int8")
    extra = {}
    if spec.get("more"):
        extra["basis"] = metrics[spec["more"]["basis"]]
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
        if not has_year:
            return [{"criterion": "indicators", "required": None, "actual": None, "gap": None, "unit": None,
                     "missing": True, "text": f"no {self.year} indicators"}]
        items = []
        for result in self.basic + self.main + ([self.score] if self.score is not None else []):
            items.extend(describe(result, position, self.year))
        return items


def evaluate(thresholds, df, on, year, rule_set=None):
    """Evaluate a rule set's thresholds over `df` (firm facts; see registry.eligibility.facts)."""
    metrics = Metrics(df, on)
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

def fmt(value, unit):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "?"
    if unit == "ratio":
        return f"{round(value * 100, 3):g} %"
    if unit == "money":
        if abs(value) >= 10000 and round(value / 10000, 2) == round(value / 10000):
            return f"{round(value / 10000):g}亿"
        return f"{round(value, 1):,.10g}万"
    if unit == "usd":
        return f"US${value / 1e9:g} bn" if value >= 1e9 else f"US${value / 1e6:g} m"
    if unit == "years":
        return f"{round(value, 1):g} years"
    if unit == "flag":
        return "yes" if value else "no"
    return f"{round(value, 2):g}"


def _num_at(series, position):
    if series is None:
        return None
    value = series.iloc[position]
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def missing_text(spec, year):
    label, years = METRICS.get(spec.get("metric"), (spec.get("metric"), (0,)))
    if years is None:
        return f"{label} not recorded in the registry"
    if not years:
        return f"no {label}"
    span = sorted({year - back for back in years})
    when = str(span[0]) if len(span) == 1 else f"{span[0]}–{span[-1]}"
    return f"no {when} {label}"


def describe(result, position, year):
    status = int(result.status.iloc[position])
    if status == MET:
        return []
    spec = result.spec
    name = spec.get("criterion")
    if spec.get("criterion") == "score":
        return describe_score(result, position, year)
    if "holds" in spec:
        return [{"criterion": name, "required": None, "actual": None, "gap": None, "unit": None, "missing": False,
                 "text": f"no {spec['label']} on the evaluation date"}]
    if result.children:
        child_items = [item for child in result.children for item in describe(child, position, year)]
        if "all_of" in spec:
            return child_items
        numeric = [i for i in child_items if i["gap"] is not None and not i["missing"]]
        best = min(numeric, key=lambda i: i["gap"] / (abs(i["required"]) or 1)) if numeric else None
        return [{"criterion": name, "required": best and best["required"], "actual": best and best["actual"],
                 "gap": best and best["gap"], "unit": best and best["unit"], "missing": status == MISSING,
                 "text": f"{spec['label']}: " + "; ".join(i["text"] for i in child_items)}]
    unit = spec.get("unit")
    actual, required = _num_at(result.actual, position), _num_at(result.required, position)
    if status == MISSING:
        return [{"criterion": name, "required": required, "actual": None, "gap": None, "unit": unit, "missing": True,
                 "text": missing_text(spec, year)}]
    band = result.band.iloc[position] if result.band is not None else None
    if required is None:
        return [{"criterion": name, "required": None, "actual": actual, "gap": None, "unit": unit, "missing": False,
                 "text": f"{spec['label']}: no such route for {band}"}]
    gap = _num_at(result.gap, position)
    sign = "<" if spec.get("op", ">=") in (">=", ">") else ">"
    text = f"{spec['label']} {fmt(actual, unit)} {sign} {fmt(required, unit)}"
    if band:
        text += f" for {band}"
    more = spec.get("more")
    basis = _num_at(result.extra.get("basis"), position) if more else None
    if more and basis is not None and gap is not None:
        amount = gap * basis
        if more["unit"] == "count":
            amount = math.ceil(amount - EPS)
        text += f": about {fmt(amount, more['unit'])} more {more['what']}"
    return [{"criterion": name, "required": required, "actual": actual, "gap": gap, "unit": unit, "missing": False,
             "text": text}]


def describe_score(result, position, year):
    items = []
    components = result.extra["components"]
    for name, nz in result.extra["nonzero"].items():
        lower, _, _, comp = components[name]
        if int(nz.iloc[position]) == FAILED:
            items.append({"criterion": f"score_{name}", "required": 0.0, "actual": 0.0, "gap": None, "unit": "points",
                          "missing": False, "text": f"{comp['label']} sub-score is 0 (must be above 0)"})
    total, minimum = _num_at(result.actual, position), _num_at(result.required, position)
    complete = bool(result.extra["complete"].iloc[position])
    parts = ", ".join(f"{c['label']} {lower.iloc[position]:g}/{c['max']}" for lower, _, _, c in components.values())
    if total < minimum - EPS:
        prefix = "score" if complete else "score (known items only)"
        items.append({"criterion": "score", "required": minimum, "actual": total, "gap": minimum - total,
                      "unit": "points", "missing": not complete,
                      "text": f"{prefix} {total:g} < {minimum:g} ({parts})"})
    for name, (lower, comp_complete, _, comp) in components.items():
        if not bool(comp_complete.iloc[position]) and (total < minimum - EPS or name in result.extra["nonzero"]):
            metrics_missing = [alt["metric"] for alt, known in zip(comp["best_of"], components[name][2])
                               if not bool(known.iloc[position])]
            items.append({"criterion": f"score_{name}", "required": None, "actual": None, "gap": None, "unit": "points",
                          "missing": True, "text": f"{comp['label']}: " + "; ".join(
                              missing_text({"metric": m}, year) for m in metrics_missing)})
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
