"""GraphQL types of the registry (Firm → FirmType, …). Other domains import FirmType from here.

Relations resolve through per-request loaders (api_graphql/registry/dataloaders.py), so any list
of firms — a `firms` page, search hits, candidates — costs a constant number of queries.
Rows are scoped by ScopedObjectType.get_queryset; restricted fields by FieldScope (core/permissions.py).
"""

import graphene
from graphene import relay

from api_graphql.core.dataloaders import then
from api_graphql.core.permissions import ScopedObjectType
from api_graphql.registry import dataloaders as loaders
from registry import permissions
from registry.models import Certification, CertificationStatus, Firm, IndicatorYear, IndustryChain, Region, Stage, Tier
from registry.timeline import build_timeline


class CertificationStatusEnum(graphene.Enum):
    ACTIVE = CertificationStatus.ACTIVE.value
    EXPIRED = CertificationStatus.EXPIRED.value
    REVOKED = CertificationStatus.REVOKED.value
    SUPERSEDED = CertificationStatus.SUPERSEDED.value


class RegionType(ScopedObjectType):
    """An administrative region (GB/T 2260); `level` is province / city / district / park."""

    level = graphene.String(required=True)
    parent = graphene.Field(lambda: RegionType)

    class Meta:
        model = Region
        fields = ("code", "name", "level", "parent", "path", "aliases")
        convert_choices_to_enum = False

    @classmethod
    def visible_to(cls, user, queryset):
        return queryset  # reference data: every signed-in user may read the region tree

    # Read from rows (core/rows.py), see FirmType: a region, wherever it is selected, comes from the
    # cached copy of its province (as `resolve_region` does), not from a join.
    ROW_TABLE = staticmethod(lambda: loaders.region_rows)
    ROW_RELATIONS = {"parent": "parent"}

    def resolve_parent(self, info):
        if not self.parent_id:
            return None
        return loaders.region(info, self.parent_id)

    def resolve_aliases(self, info):
        return self.aliases or []

    aliases = graphene.List(graphene.NonNull(graphene.String), required=True)


class IndustryChainType(ScopedObjectType):
    parent = graphene.Field(lambda: IndustryChainType)

    class Meta:
        model = IndustryChain
        fields = ("code", "name", "name_en", "parent", "path")

    @classmethod
    def visible_to(cls, user, queryset):
        return queryset

    def resolve_parent(self, info):
        if not self.parent_id:
            return None
        return loaders.ChainByIdLoader.for_request(info).load(self.parent_id)


class TierType(ScopedObjectType):
    level = graphene.String(required=True)
    stage = graphene.Field(lambda: StageType, required=True)

    class Meta:
        model = Tier
        fields = ("code", "name", "name_en", "rank", "level", "stage", "validity_rule", "validity_months",
                  "is_list_membership")
        convert_choices_to_enum = False

    @classmethod
    def visible_to(cls, user, queryset):
        return queryset

    ROW_RELATIONS = {"stage": "stage"}

    def resolve_stage(self, info):
        return loaders.StageByIdLoader.for_request(info).load(self.stage_id)


class StageType(ScopedObjectType):
    tiers = graphene.List(graphene.NonNull(TierType), required=True, description="Tiers of the stage, lowest first.")
    region = graphene.Field(RegionType, description="Set for a rung only this region and its sub-regions use.")

    class Meta:
        model = Stage
        fields = ("code", "name", "name_en", "rank", "region", "tiers")

    @classmethod
    def visible_to(cls, user, queryset):
        return queryset

    def resolve_tiers(self, info):
        prefetched = getattr(self, "_prefetched_objects_cache", {}).get("tiers")
        if prefetched is not None:
            return sorted(prefetched, key=lambda t: (t.rank, t.id))
        return loaders.TiersByStageLoader.for_request(info).load(self.id)

    ROW_RELATIONS = {"region": "region"}

    def resolve_region(self, info):
        if not self.region_id:
            return None
        return loaders.region(info, self.region_id)


class IndicatorYearType(ScopedObjectType):
    """One year of a firm's indicators. Money in 万元 (Decimal), ratios as fractions (0.05 = 5 %)."""

    rd_intensity = graphene.Float(description="R&D expense / revenue, derived in the database.")
    valuation_usd = graphene.Decimal(description="Valuation in US dollars.")

    class Meta:
        model = IndicatorYear
        fields = (
            "year", "revenue", "revenue_growth", "rd_expense", "total_cost", "employees", "rd_staff", "ip_class1",
            "ip_class2", "invention_patents", "hightech_revenue", "total_assets", "debt_ratio",
            "new_equity_financing", "valuation_usd",
        )

    @classmethod
    def visible_to(cls, user, queryset):
        return permissions.indicators_visible_to(user, queryset)


class CertificationType(ScopedObjectType):
    """A recognition (认定/入库/评价/名单) a firm holds or held."""

    status = graphene.Field(CertificationStatusEnum, required=True)
    level = graphene.String(required=True)
    stage = graphene.Field(StageType, required=True)
    tier = graphene.Field(TierType, required=True)
    firm = graphene.Field(lambda: FirmType, required=True)
    renews = graphene.Field(lambda: CertificationType)

    class Meta:
        model = Certification
        interfaces = (relay.Node,)
        fields = (
            "id", "firm", "stage", "tier", "authority", "level", "batch", "batch_year", "certificate_no", "issued_on",
            "valid_from", "valid_until", "status", "revoked_on", "revocation_reason", "renews", "source_name",
            "source_row",
        )
        convert_choices_to_enum = False

    @classmethod
    def visible_to(cls, user, queryset):
        return permissions.certifications_visible_to(user, queryset)

    # Read from rows (core/rows.py), see FirmType: `status` answers its column as is.
    ROW_FIELDS = {"status": "status"}
    ROW_RELATIONS = {"stage": "stage", "tier": "tier"}

    def resolve_status(self, info):
        return str(self.status)  # the plain value; a TextChoices member is not our graphene Enum

    def resolve_stage(self, info):
        if "stage" in self._state.fields_cache:
            return self.stage
        return loaders.StageByIdLoader.for_request(info).load(self.stage_id)

    def resolve_tier(self, info):
        if "tier" in self._state.fields_cache:
            return self.tier
        return loaders.TierByIdLoader.for_request(info).load(self.tier_id)

    def resolve_firm(self, info):
        if "firm" in self._state.fields_cache:
            return self.firm
        return loaders.FirmByIdLoader.for_request(info).load(self.firm_id)

    def resolve_renews(self, info):
        return None if not self.renews_id else Certification.objects.select_related("stage", "tier").get(pk=self.renews_id)


class TimelineEventType(graphene.ObjectType):
    """One step of a firm's path up the ladder (registry.timeline.build_timeline)."""

    date = graphene.Date(required=True)
    kind = graphene.String(required=True, description="entered, upgraded, renewed, recognized, expired or revoked")
    stage = graphene.Field(StageType, required=True)
    tier = graphene.Field(TierType, required=True)
    certification = graphene.Field(CertificationType, required=True)


class FirmType(ScopedObjectType):
    """A firm (企业), keyed by its Unified Social Credit Code (统一社会信用代码)."""

    former_names = graphene.List(graphene.NonNull(graphene.String), required=True)
    listing_status = graphene.String(required=True)
    region = graphene.Field(RegionType, required=True)
    chains = graphene.List(graphene.NonNull(IndustryChainType), required=True)
    current_stage = graphene.Field(StageType)
    current_tier = graphene.Field(TierType)
    certifications = graphene.List(graphene.NonNull(CertificationType), required=True,
                                   description="Every recognition, oldest first.")
    timeline = graphene.List(graphene.NonNull(TimelineEventType), required=True)
    indicators = graphene.List(graphene.NonNull(IndicatorYearType), required=True, description="Yearly, oldest first.")
    latest_indicators = graphene.Field(IndicatorYearType)

    class Meta:
        model = Firm
        interfaces = (relay.Node,)
        fields = (
            "id", "uscc", "name", "former_names", "founded_on", "region", "chains", "industry_code",
            "registered_capital", "registered_capital_currency", "description", "main_products", "technologies",
            "listing_status", "current_stage", "current_tier", "latest_indicators", "created_at", "updated_at",
        )
        convert_choices_to_enum = False

    @classmethod
    def visible_to(cls, user, queryset):
        return permissions.firms_visible_to(user, queryset)

    # GraphQL field → the columns it needs; to-many relations resolved by loaders need only the id.
    KEY_COLUMNS = ("id", "region")
    COLUMNS = {
        "id": (), "uscc": ("uscc",), "name": ("name",), "formerNames": ("former_names",), "foundedOn": ("founded_on",),
        "region": ("region",), "chains": (), "industryCode": ("industry_code",),
        "registeredCapital": ("registered_capital",), "registeredCapitalCurrency": ("registered_capital_currency",),
        "description": ("description",),
        "mainProducts": ("main_products",), "technologies": ("technologies",), "listingStatus": ("listing_status",),
        "currentStage": ("current_stage",), "currentTier": ("current_tier",),
        "latestIndicators": ("latest_indicators",), "createdAt": ("created_at",), "updatedAt": ("updated_at",),
        "certifications": (), "timeline": (), "indicators": (), "__typename": (),
    }
    # To-one relations joined into the page query when selected (no loader round trip, no futures).
    # (Not regions: reference data, see loaders.region.)
    JOINED = {"currentStage": ("current_stage", StageType),
              "currentTier": ("current_tier", TierType), "latestIndicators": ("latest_indicators", IndicatorYearType)}

    # To-one relations whose resolver answers the related row (null when the foreign key is): a page
    # selecting only their columns is read from `values()` rows (core/rows.py).
    ROW_RELATIONS = {"region": "region", "currentStage": "current_stage", "currentTier": "current_tier",
                     "latestIndicators": "latest_indicators"}
    # To-many relations read for a whole page in one `values()` query each (core/rows.py):
    # (model, foreign key to the firm, order) — the rows and order of the loader their resolver uses.
    ROW_LISTS = {"certifications": (Certification, "firm_id", ("issued_on", "id")),
                 "indicators": (IndicatorYear, "firm_id", ("year",))}

    @classmethod
    def plan(cls, queryset, selected):
        """Shape a firm queryset for the fields a query selected (a prefetch plan from the selection tree).

        Joins the selected to-one relations and reads only the columns the selected fields need, on
        the firm and on each joined row (see ScopedObjectType.columns); a field of unknown needs
        (another domain's addition) means every column of that row. To-many relations stay with
        the per-request loaders, so the plan never causes N+1 whatever is selected.
        """
        joined = sorted((relation, node_type, selected[name]) for name, (relation, node_type) in cls.JOINED.items()
                        if name in selected)
        if joined:
            queryset = queryset.select_related(*(relation for relation, _, _ in joined))
        columns = cls.columns(selected)
        if columns is None:
            return queryset
        for relation, node_type, below in joined:
            related = node_type.columns(below)
            columns |= {relation} if related is None else {f"{relation}__{c}" for c in related}
        return queryset.only(*sorted(columns))

    def resolve_former_names(self, info):
        return list(self.former_names or [])

    def resolve_region(self, info):
        return loaders.region(info, self.region_id)

    def resolve_chains(self, info):
        return loaders.ChainsByFirmLoader.for_request(info).load(self.id)

    def resolve_current_stage(self, info):
        if not self.current_stage_id or "current_stage" in self._state.fields_cache:
            return self.current_stage if self.current_stage_id else None
        return loaders.StageByIdLoader.for_request(info).load(self.current_stage_id)

    def resolve_current_tier(self, info):
        if not self.current_tier_id or "current_tier" in self._state.fields_cache:
            return self.current_tier if self.current_tier_id else None
        return loaders.TierByIdLoader.for_request(info).load(self.current_tier_id)

    def resolve_certifications(self, info):
        return loaders.CertificationsByFirmLoader.for_request(info).load(self.id)

    def resolve_timeline(self, info):
        return then(loaders.CertificationsByFirmLoader.for_request(info).load(self.id), build_timeline)

    def resolve_indicators(self, info):
        return loaders.IndicatorsByFirmLoader.for_request(info).load(self.id)

    def resolve_latest_indicators(self, info):
        if not self.latest_indicators_id or "latest_indicators" in self._state.fields_cache:
            return self.latest_indicators if self.latest_indicators_id else None
        return loaders.IndicatorByIdLoader.for_request(info).load(self.latest_indicators_id)
