"""Investor-safe screening (筛选): filter and sort firms on bands and derived measures, never on raw figures.

A band is a half-open range of a firm's latest indicator figure (lower bound inclusive): revenue band,
growth band, R&D-intensity band, headcount band; `years_since_founding` is whole years on the day.
Which figures a role reads raw, banded or not at all is registry.permissions.FIELD_POLICY; a row
carries a raw figure only for a role that may read it raw, so neither the GraphQL answer nor the CSV
export of a banded role holds one (sorting is by band ordinal then id, so not even the order inside
a band reveals the figure).
"""

from dataclasses import dataclass

from django.db.models import Case, IntegerField, Q, Value, When
from django.utils import timezone

from registry import permissions
from registry.models import Firm
from registry.services.errors import field_error
from registry.services.ladder import add_months


@dataclass(frozen=True)
class Band:
    figure: str
    edges: tuple
    codes: tuple
    labels: tuple

    @property
    def field(self):
        return f"latest_indicators__{self.figure}"

    def code_of(self, value):
        if value is None:
            return None
        position = sum(1 for edge in self.edges if value >= edge)
        return self.codes[position]

    def q(self, code, name):
        if code not in self.codes:
            raise field_error(name, f"Unknown band “{code}”; one of {', '.join(self.codes)}.", code="unknown_band")
        position = self.codes.index(code)
        q = Q(**{f"{self.field}__isnull": False})
        if position > 0:
            q &= Q(**{f"{self.field}__gte": self.edges[position - 1]})
        if position < len(self.edges):
            q &= Q(**{f"{self.field}__lt": self.edges[position]})
        return q

    def ordinal(self):
        """The band's position as a SQL expression (null when the figure is unknown)."""
        whens = [When(**{f"{self.field}__lt": edge, "then": Value(k)}) for k, edge in enumerate(self.edges)]
        return Case(When(**{f"{self.field}__isnull": True, "then": Value(None)}), *whens,
                    default=Value(len(self.edges)), output_field=IntegerField())


# Money in 万元, ratios as fractions. Labels are what users read (中文 first).
BANDS = {
    "revenue_band": Band("revenue", (1000, 5000, 20000, 100000),
                         ("lt_1000w", "1000w_5000w", "5000w_2yi", "2yi_10yi", "ge_10yi"),
                         ("1,000万以下", "1,000万–5,000万", "5,000万–2亿", "2亿–10亿", "10亿及以上")),
    "growth_band": Band("revenue_growth", (0, 0.10, 0.20, 0.50),
                        ("negative", "0_10pct", "10_20pct", "20_50pct", "ge_50pct"),
                        ("负增长", "0–10%", "10%–20%", "20%–50%", "50%及以上")),
    "rd_intensity_band": Band("rd_intensity", (0.03, 0.05, 0.10),
                              ("lt_3pct", "3_5pct", "5_10pct", "ge_10pct"),
                              ("3%以下", "3%–5%", "5%–10%", "10%及以上")),
    "headcount_band": Band("employees", (20, 100, 300, 1000),
                           ("lt_20", "20_100", "100_300", "300_1000", "ge_1000"),
                           ("20人以下", "20–100人", "100–300人", "300–1,000人", "1,000人及以上")),
}
ORDERS = {**{name: name for name in BANDS}, "years_since_founding": "years_since_founding"}
MAX_PAGE = 100


def years_since(founded, on):
    if founded is None:
        return None
    return on.year - founded.year - ((on.month, on.day) < (founded.month, founded.day))


def founded_window(years_min, years_max, on):
    """Q on founded_on for whole years since founding within [years_min, years_max]."""
    q = Q()
    if years_min is not None:
        q &= Q(founded_on__lte=add_months(on, -12 * years_min))
    if years_max is not None:
        q &= Q(founded_on__gt=add_months(on, -12 * (years_max + 1)))
    return q


def band_filters(queryset, bands, name_of=lambda name: name):
    """`bands`: {band name: [codes]} (any of the codes). Unknown codes raise a field error naming the filter."""
    for name, codes in bands.items():
        if not codes:
            continue
        q = Q()
        for code in codes:
            q |= BANDS[name].q(code, name_of(name))
        queryset = queryset.filter(q)
    return queryset


def screen(user, *, bands=None, years_min=None, years_max=None, region=None, stage=None, order=(), first=20,
           offset=0, on=None):
    """(total, rows) of the firms the user may read, filtered and sorted on bands; rows hold raw figures
    only where registry.permissions lets the user's role read them raw."""
    from registry.services.firms import resolve_region

    on = on or timezone.localdate()
    if first is None:
        first = 20
    if not 0 <= first <= MAX_PAGE:
        raise field_error("first", f"first must be between 0 and {MAX_PAGE}.", code="page_size")
    if offset < 0:
        raise field_error("offset", "offset cannot be negative.", code="invalid")
    for name, value in (("years_min", years_min), ("years_max", years_max)):
        if value is not None and value < 0:
            raise field_error(name, f"{name} cannot be negative.", code="invalid")
    firms = permissions.firms_visible_to(user, Firm.objects.all())
    if region:
        firms = firms.filter(region__path__startswith=resolve_region(region).path)
    if stage:
        firms = firms.filter(current_stage__code=stage)
    firms = band_filters(firms, bands or {}).filter(founded_window(years_min, years_max, on))
    sort = []
    for item in order:
        descending = item.startswith("-")
        name = item.lstrip("-")
        if name not in ORDERS:
            raise field_error("order_by", f"Unknown ordering “{item}”.", code="invalid")
        if name == "years_since_founding":  # older first when descending; founded_on is a public firm fact
            sort.append("founded_on" if descending else "-founded_on")
            continue
        firms = firms.annotate(**{f"_{name}": BANDS[name].ordinal()})
        expression = f"_{name}"
        sort.append(f"-{expression}" if descending else expression)
    total = firms.count()
    role = permissions.role_of(user)
    raw = [f for f in ("revenue", "revenue_growth", "rd_intensity", "employees")
           if permissions.field_access(role, f) == permissions.RAW]
    columns = ["id", "uscc", "name", "region_id", "founded_on", "current_stage__code", "current_tier__code",
               "latest_indicators__year"] + [BANDS[b].field for b in BANDS]
    page = firms.order_by(*sort, "id").values(*columns)[offset: offset + first]
    rows = []
    for record in page:
        row = {"id": record["id"], "uscc": record["uscc"], "name": record["name"], "region": record["region_id"],
               "stage": record["current_stage__code"], "tier": record["current_tier__code"],
               "year": record["latest_indicators__year"],
               "years_since_founding": years_since(record["founded_on"], on)}
        for name, band in BANDS.items():
            value = record[band.field]
            row[name] = band.code_of(None if value is None else float(value))
        for figure in raw:  # only what this role reads raw
            value = record[f"latest_indicators__{figure}"]
            row[figure] = None if value is None else float(value)
        rows.append(row)
    return total, rows


def label_of(band_name, code):
    band = BANDS[band_name]
    return band.labels[band.codes.index(code)] if code in band.codes else ""


def screen_csv_rows(user, rows):
    """The screen as export rows (header first): bands as labels; raw columns only for roles that read them raw."""
    role = permissions.role_of(user)
    raw = [f for f in ("revenue", "revenue_growth", "rd_intensity", "employees")
           if permissions.field_access(role, f) == permissions.RAW]
    header = ["统一社会信用代码 USCC", "企业名称 name", "地区代码 region", "当前阶段 stage", "成立年数 years since founding",
              "指标年度 year", "营收区间 revenue band", "增长区间 growth band", "研发强度区间 R&D intensity band",
              "人数区间 headcount band"] + raw
    yield header
    for row in rows:
        yield [row["uscc"], row["name"], row["region"], row["stage"] or "", row["years_since_founding"], row["year"],
               label_of("revenue_band", row["revenue_band"]), label_of("growth_band", row["growth_band"]),
               label_of("rd_intensity_band", row["rd_intensity_band"]),
               label_of("headcount_band", row["headcount_band"])] + [row.get(f) for f in raw]


__all__ = ["BANDS", "Band", "screen", "screen_csv_rows", "years_since"]
