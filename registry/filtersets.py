"""FilterSets behind list fields (NetBox's `filtersets.py`), usable by GraphQL, admin and scripts alike.

Codes are the business keys users know (stage `hnte`, region `320583`, chain `ic.design`); an
unknown code raises a ValidationError naming the filter, never an empty result that looks like
"no firms". Region and chain filters include everything under the node (materialised `path`).
Comparisons: `founded_after`/`founded_before` and `certificate_expiring_before` are strict (> and <);
`*_min`/`*_max` are inclusive. Indicator filters look at the firm's latest indicator year.
"""

import functools
import operator
import time

import django_filters
from django.core.exceptions import ValidationError
from django.db.models import Q, Subquery

from registry.models import Certification, CertificationStatus, Firm, IndustryChain, Region, Stage, Tier


def unknown(name, value, what):
    return ValidationError({name: [ValidationError(f"Unknown {what} code “{value}”.", code="unknown_code")]})


class CodeCache:
    """Reference-data lookups (stage/tier ids, region subtrees) remembered for a short while per process.

    Only hits are cached, so a code added a second ago is found at once; stages, tiers and regions
    are never renamed in place (PROTECT foreign keys), so a cached hit stays right for its TTL.
    """

    ttl = 60.0

    def __init__(self):
        self.entries = {}

    def get(self, key, load):
        now = time.monotonic()
        hit = self.entries.get(key)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        value = load()
        if value is not None and value != []:
            self.entries[key] = (now, value)
        return value

    def forget(self, key):
        self.entries.pop(key, None)

    def clear(self):
        self.entries.clear()


codes = CodeCache()


def province_of(code):
    return str(code or "")[:2]


def region_table():
    """code → Region: the process's copy of the region table (reference data, re-read after CodeCache.ttl).

    One copy of the regions serves the pages and the API. The pages' firm rows and region picker
    (web/) read this national table, so a list of firms needs no join on regions; the GraphQL loaders
    read one province at a time (`province_tables`), so a first API request does not read all 3,300
    divisions. Reading the national table also fills every province's copy (the same Region
    objects): the server's warm-up (api_graphql/warmup.py) reads it once for both.
    """
    def load():
        table, provinces = {}, {}
        for row in Region.objects.all():
            table[row.code] = row
            provinces.setdefault(province_of(row.code), {})[row.code] = row
        for prefix, province in provinces.items():
            codes.get(("region-table", prefix), lambda province=province: province)
        return table

    return codes.get(("region-table",), load)


def cached_province(prefix):
    """code → Region for one province (GB/T 2260 prefix), if this process holds a fresh copy, else None."""
    return codes.get(("region-table", prefix), lambda: None)


def province_tables(prefixes):
    """{prefix: {code: Region}} for these provinces: the copies held, the others read in one query and kept
    (re-read after CodeCache.ttl; a province read here is ~100–200 rows, not the 3,300 of the nation)."""
    prefixes = sorted(set(prefixes))
    tables = {prefix: cached_province(prefix) for prefix in prefixes}
    missing = [prefix for prefix, table in tables.items() if table is None]
    if missing:
        read = {prefix: {} for prefix in missing}
        for row in Region.objects.filter(functools.reduce(operator.or_, (Q(code__startswith=p) for p in missing))):
            read[province_of(row.code)][row.code] = row
        tables.update({prefix: codes.get(("region-table", prefix), lambda table=table: table)
                       for prefix, table in read.items()})
    return tables


def stage_id(code, name="stage"):
    code = str(code).strip()
    found = codes.get(("stage", code), lambda: Stage.objects.filter(code=code).values_list("id", flat=True).first())
    if found is None:
        raise unknown(name, code, "stage")
    return found


def tier_id(code, name="tier"):
    code = str(code).strip()
    found = codes.get(("tier", code), lambda: Tier.objects.filter(code=code).values_list("id", flat=True).first())
    if found is None:
        raise unknown(name, code, "tier")
    return found


def region_codes_under(code, name="region"):
    """Codes of the region and every region under it (one query on the small Region table, then cached)."""
    code = str(code).strip()

    def load():
        path = Region.objects.filter(code=code).values("path")[:1]
        return list(Region.objects.filter(path__startswith=Subquery(path)).values_list("code", flat=True))

    found = codes.get(("region", code), load)
    if not found:
        raise unknown(name, code, "region")
    return found


class FirmFilterSet(django_filters.FilterSet):
    stage = django_filters.CharFilter(method="filter_stage", label="Current stage code (e.g. hnte)")
    tier = django_filters.CharFilter(method="filter_tier", label="Current tier code (e.g. srdi_little_giant)")
    region = django_filters.CharFilter(method="filter_region", label="Region code; includes sub-regions")
    chain = django_filters.CharFilter(method="filter_chain", label="Industry chain code; includes sub-chains")
    founded_after = django_filters.DateFilter(field_name="founded_on", lookup_expr="gt", label="Founded after (strict)")
    founded_before = django_filters.DateFilter(field_name="founded_on", lookup_expr="lt", label="Founded before (strict)")
    revenue_min = django_filters.NumberFilter(
        field_name="latest_indicators__revenue", lookup_expr="gte", label="Latest revenue ≥ (万元)"
    )
    revenue_max = django_filters.NumberFilter(
        field_name="latest_indicators__revenue", lookup_expr="lte", label="Latest revenue ≤ (万元)"
    )
    rd_intensity_min = django_filters.NumberFilter(
        field_name="latest_indicators__rd_intensity", lookup_expr="gte", label="Latest R&D/revenue ≥ (fraction)"
    )
    revenue_growth_min = django_filters.NumberFilter(
        field_name="latest_indicators__revenue_growth", lookup_expr="gte", label="Latest revenue growth ≥ (fraction)"
    )
    certificate_expiring_before = django_filters.DateFilter(
        method="filter_certificate_expiring_before", label="Holds an ACTIVE recognition valid until before this date"
    )
    # Band filters (registry.eligibility.screening.BANDS): open to every role, investors included —
    # they reveal a band, never a figure. Comma-separated codes match any of them.
    revenue_band = django_filters.CharFilter(method="filter_band", label="Latest revenue band, e.g. 5000w_2yi")
    growth_band = django_filters.CharFilter(method="filter_band", label="Latest revenue growth band, e.g. 10_20pct")
    rd_intensity_band = django_filters.CharFilter(method="filter_band", label="Latest R&D intensity band, e.g. 3_5pct")
    headcount_band = django_filters.CharFilter(method="filter_band", label="Latest headcount band, e.g. 100_300")
    founded_years_min = django_filters.NumberFilter(method="filter_founded_years", label="Whole years since founding ≥")
    founded_years_max = django_filters.NumberFilter(method="filter_founded_years", label="Whole years since founding ≤")

    class Meta:
        model = Firm
        fields = []

    def filter_stage(self, queryset, name, value):
        return queryset.filter(current_stage_id=stage_id(value, name))

    def filter_tier(self, queryset, name, value):
        return queryset.filter(current_tier_id=tier_id(value, name))

    def filter_region(self, queryset, name, value):
        return queryset.filter(region_id__in=region_codes_under(value, name))

    def filter_chain(self, queryset, name, value):
        path = IndustryChain.objects.filter(code=value.strip()).values_list("path", flat=True).first()
        if path is None:
            raise unknown(name, value, "industry chain")
        on_chain = Firm.chains.through.objects.filter(industrychain__path__startswith=path).values("firm_id")
        return queryset.filter(id__in=on_chain)

    def filter_certificate_expiring_before(self, queryset, name, value):
        expiring = Certification.objects.filter(status=CertificationStatus.ACTIVE, valid_until__lt=value)
        return queryset.filter(id__in=expiring.values("firm_id"))

    def filter_band(self, queryset, name, value):
        from registry.eligibility.screening import band_filters

        return band_filters(queryset, {name: [c.strip() for c in str(value).split(",") if c.strip()]})

    def filter_founded_years(self, queryset, name, value):
        from django.utils import timezone

        from registry.eligibility.screening import founded_window

        years = int(value)
        if years < 0 or years != value:
            raise ValidationError({name: [ValidationError("Give a whole number of years ≥ 0.", code="invalid")]})
        bounds = {"years_min": years} if name.endswith("_min") else {"years_max": years}
        return queryset.filter(founded_window(on=timezone.localdate(), **{"years_min": None, "years_max": None, **bounds}))


class CertificationFilterSet(django_filters.FilterSet):
    """Filters of `expiringCertificates`: ACTIVE recognitions valid until before a date."""

    before = django_filters.DateFilter(field_name="valid_until", lookup_expr="lt", required=True)
    region = django_filters.CharFilter(method="filter_region")
    stage = django_filters.CharFilter(method="filter_stage")

    class Meta:
        model = Certification
        fields = []

    def filter_region(self, queryset, name, value):
        return queryset.filter(firm__region_id__in=region_codes_under(value, name))

    def filter_stage(self, queryset, name, value):
        return queryset.filter(stage_id=stage_id(value, name))

    @property
    def qs(self):
        return super().qs.filter(Q(status=CertificationStatus.ACTIVE))
