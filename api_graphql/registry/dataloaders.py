"""Batch loaders for the registry types: a page of firms costs one query per relation, not per firm."""

from api_graphql.core.dataloaders import BaseLoader, ByKeyLoader, ListByKeyLoader, then
from registry import permissions
from registry.filtersets import cached_province, province_of, province_tables
from registry.models import Certification, Firm, IndicatorYear, IndustryChain, Region, Stage, Tier


class RegionByCodeLoader(ByKeyLoader):
    def queryset(self, keys):
        return Region.objects.filter(code__in=keys)


class ProvinceLoader(BaseLoader):
    """The provinces a request needs that are not held yet, in one query per execution level."""

    def batch_load(self, prefixes):
        tables = province_tables(prefixes)
        return [tables[prefix] for prefix in prefixes]


def region(info, code):
    """The region with this code, from the process's copy of its province's regions (reference data,
    ~100–200 rows a province, re-read after CodeCache.ttl; registry.filtersets.province_tables, the
    same copy the pages' national table fills); a province not held yet is read through
    a loader (one query for all a level needs); a region added since the copy through its own loader.

    A page of firms then needs no join on regions (PostgreSQL took ~0.5 ms longer to plan the page
    with it) and no region query at all once the provinces are held; a first request does not read
    the 3,300 national divisions (~0.1–0.2 s) to answer one firm's region.
    """
    table = cached_province(province_of(code))
    if table is None:
        return then(ProvinceLoader.for_request(info).load(province_of(code)), lambda loaded: loaded.get(code))
    found = table.get(code)
    return found if found is not None else RegionByCodeLoader.for_request(info).load(code)


class RegionRows:
    """code → {column: value} from the same per-province copies as `region`, for pages read from rows
    (core/rows.py); a code missing here sends that page down the ordinary path, to the loader."""

    def __init__(self):
        self.derived = {}  # prefix → (the province's table, its rows), derived once per copy

    def preload(self, region_codes):
        missing = [prefix for prefix in {province_of(code) for code in region_codes if code}
                   if cached_province(prefix) is None]
        if missing:
            province_tables(missing)

    def get(self, code):
        prefix = province_of(code)
        table = cached_province(prefix)
        if table is None:
            table = province_tables([prefix])[prefix]
        derived = self.derived.get(prefix)
        if derived is None or derived[0] is not table:
            derived = (table, {key: {f.attname: getattr(row, f.attname) for f in Region._meta.concrete_fields}
                               for key, row in table.items()})
            self.derived[prefix] = derived
        return derived[1].get(code)


region_rows = RegionRows()


class StageByIdLoader(ByKeyLoader):
    def queryset(self, keys):
        return Stage.objects.filter(id__in=keys)


class TierByIdLoader(ByKeyLoader):
    def queryset(self, keys):
        return Tier.objects.filter(id__in=keys)


class TiersByStageLoader(ListByKeyLoader):
    def queryset(self, keys):
        return Tier.objects.filter(stage_id__in=keys).order_by("rank", "id")

    def key_of(self, row):
        return row.stage_id


class ChainsByFirmLoader(ListByKeyLoader):
    def queryset(self, keys):
        return (
            Firm.chains.through.objects.filter(firm_id__in=keys)
            .select_related("industrychain")
            .order_by("industrychain__code")
        )

    def key_of(self, row):
        return row.firm_id

    def batch_load(self, keys):
        return [[link.industrychain for link in links] for links in super().batch_load(keys)]


class CertificationsByFirmLoader(ListByKeyLoader):
    def queryset(self, keys):
        return (
            Certification.objects.filter(firm_id__in=keys)
            .select_related("stage", "tier")
            .order_by("issued_on", "id")
        )

    def key_of(self, row):
        return row.firm_id


class IndicatorsByFirmLoader(ListByKeyLoader):
    def queryset(self, keys):
        return IndicatorYear.objects.filter(firm_id__in=keys).order_by("year")

    def key_of(self, row):
        return row.firm_id


class IndicatorByIdLoader(ByKeyLoader):
    def queryset(self, keys):
        return IndicatorYear.objects.filter(id__in=keys)


class FirmByIdLoader(ByKeyLoader):
    """Firms by id, narrowed to the caller's scope (a certification never leads outside it)."""

    def queryset(self, keys):
        return permissions.firms_visible_to(getattr(self.context, "user", None), Firm.objects.filter(id__in=keys))


class ChainByIdLoader(ByKeyLoader):
    def queryset(self, keys):
        return IndustryChain.objects.filter(id__in=keys)
