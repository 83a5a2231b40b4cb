"""Batch loaders for the registry types: a page of firms costs one query per relation, not per firm."""

from api_graphql.core.dataloaders import ByKeyLoader, ListByKeyLoader
from registry import permissions
from registry.filtersets import codes
from registry.models import Certification, Firm, IndicatorYear, IndustryChain, Region, Stage, Tier


class RegionByCodeLoader(ByKeyLoader):
    def queryset(self, keys):
        return Region.objects.filter(code__in=keys)


def region_table():
    return codes.get(("region-table",), lambda: {row.code: row for row in Region.objects.all()})


def region(info, code):
    """The region with this code: from the process's copy of the region table (reference data, ~3,300 rows,
    re-read after CodeCache.ttl), else — a region added since — through the loader.

    A page of firms then needs no join on regions (PostgreSQL took ~0.5 ms longer to plan the page
    with it) and no region query at all once the table is cached.
    """
    found = region_table().get(code)
    return found if found is not None else RegionByCodeLoader.for_request(info).load(code)


_region_rows = (None, {})


def region_rows():
    """The same cached region table as `region`, as code → {column: value} (for pages read from rows,
    core/rows.py); a code missing here sends that page down the ordinary path, to the loader."""
    global _region_rows
    table = region_table()
    if _region_rows[0] is not table:  # derived once per copy of the table, so both paths answer alike
        _region_rows = (table, {code: {f.attname: getattr(row, f.attname) for f in Region._meta.concrete_fields}
                                for code, row in table.items()})
    return _region_rows[1]


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
