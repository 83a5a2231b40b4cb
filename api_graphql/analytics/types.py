"""GraphQL types of the analytics domain: funnel, transitions, targets, cohorts, candidates, the pool."""

import graphene
from graphene import relay

from api_graphql.core.permissions import ScopedObjectType
from api_graphql.registry.types import CertificationType, FirmType, StageType, TierType
from registry import permissions
from registry.models import CultivationEntry, CultivationNote, PoolStatus


class FunnelStepType(graphene.ObjectType):
    stage = graphene.String(required=True)
    count = graphene.Int(required=True)
    conversion_from_previous = graphene.Float(description="count / previous step's count (null for the first step)")
    conversion_from_first = graphene.Float()
    median_years_from_previous = graphene.Float(description="Median years between the previous step and this one")


class FunnelType(graphene.ObjectType):
    cohort_year = graphene.Int(required=True)
    window_years = graphene.Int()
    steps = graphene.List(graphene.NonNull(FunnelStepType), required=True)


class StageTransitionType(graphene.ObjectType):
    from_stage = graphene.String(description="null = new entry (no stage at the start of the year)")
    to_stage = graphene.String(description="null = lapsed or revoked (no stage at the end of the year)")
    kind = graphene.String(required=True, description="entry, upgrade, stay, downgrade, lapse or revocation")
    count = graphene.Int(required=True)


class TargetProgressType(graphene.ObjectType):
    stage = graphene.String(required=True)
    tier = graphene.String(description="null = any tier of the stage")
    kind = graphene.String(required=True, description="STOCK (held at year end) or FLOW (newly gained)")
    start_year = graphene.Int(description="FLOW: first year counted")
    year = graphene.Int(required=True, description="The target's year")
    target = graphene.Int(required=True)
    actual = graphene.Int(required=True)
    ratio = graphene.Float(description="actual / target")
    source = graphene.String()
    note = graphene.String()


class CohortCellType(graphene.ObjectType):
    years_since_entry = graphene.Int(required=True)
    reached = graphene.Int(required=True)
    share = graphene.Float(required=True)


class CohortRowType(graphene.ObjectType):
    entry_year = graphene.Int(required=True)
    size = graphene.Int(required=True)
    cells = graphene.List(graphene.NonNull(CohortCellType), required=True)


class CohortTableType(graphene.ObjectType):
    stage = graphene.String(required=True)
    next_stage = graphene.String(required=True)
    rows = graphene.List(graphene.NonNull(CohortRowType), required=True)


class CohortFirmType(graphene.ObjectType):
    firm = graphene.Field(FirmType, required=True)
    entered_on = graphene.Date(required=True)
    reached_on = graphene.Date()


class CohortFirmsType(graphene.ObjectType):
    total = graphene.Int(required=True)
    firms = graphene.List(graphene.NonNull(CohortFirmType), required=True)
    csv = graphene.String(required=True, description="The whole list as CSV (formula cells neutralised)")


class MissingFigureType(graphene.ObjectType):
    """A figure a criterion needs and the registry lacks (issue 16: the year and the figure to collect)."""

    year = graphene.Int(description="Null for undated facts (founding date, listing status)")
    figure = graphene.String(required=True, description="Field name, e.g. rd_expense")
    label_zh = graphene.String(required=True)
    label_en = graphene.String(required=True)


class UnmetCriterionType(graphene.ObjectType):
    criterion = graphene.String(required=True)
    required = graphene.Float(description="Threshold, in `unit` (ratios as fractions, money in 万元)")
    actual = graphene.Float()
    gap = graphene.Float(description="How far the firm is from the threshold, in `unit`")
    unit = graphene.String()
    missing = graphene.Boolean(required=True, description="True when the data needed is not recorded")
    text = graphene.String(required=True, description="Human explanation in the user's units")
    text_zh = graphene.String(description="中文说明，附规则集与条款")
    text_en = graphene.String(description="English explanation with the rule set and clause")
    rule_set = graphene.String(description="Code of the rule set the criterion comes from")
    clause = graphene.String(description="Article / clause of the rule set")
    gaps = graphene.List(graphene.NonNull(MissingFigureType), description="Figures to collect, by year")

    def resolve_gaps(root, info):
        return [MissingFigureType(**g) for g in (root.gaps or [])]


class CandidateType(graphene.ObjectType):
    firm = graphene.Field(FirmType, required=True)
    eligible = graphene.Boolean(required=True)
    outcome = graphene.String(required=True, description="eligible, not_eligible or missing_data")
    score = graphene.Float(description="Points, where the rules score (科小: of 100)")
    unmet = graphene.List(graphene.NonNull(UnmetCriterionType), required=True)
    rule_set = graphene.String(required=True)


class EligibilityType(graphene.ObjectType):
    """One firm judged against a target stage/tier on a date."""

    firm = graphene.Field(FirmType, required=True)
    stage = graphene.String(required=True)
    tier = graphene.String()
    eligible = graphene.Boolean(required=True)
    outcome = graphene.String(required=True, description="eligible, not_eligible or missing_data")
    score = graphene.Float()
    unmet = graphene.List(graphene.NonNull(UnmetCriterionType), required=True)
    rule_set = graphene.String(required=True)
    evaluation_year = graphene.Int(required=True)


class CandidateConnection(relay.Connection):
    class Meta:
        node = CandidateType

    total_count = graphene.Int(required=True)
    eligible_count = graphene.Int(required=True, description="Of totalCount, the firms that meet the criteria now")
    evaluation_year = graphene.Int(required=True, description="Year of the indicators used")


class CultivationNoteType(ScopedObjectType):
    author = graphene.String()

    class Meta:
        model = CultivationNote
        fields = ("noted_on", "status", "text", "created_at")
        convert_choices_to_enum = False

    def resolve_author(self, info):
        return self.author.get_username() if self.author_id else None


class CultivationEntryType(ScopedObjectType):
    """A firm in the cultivation pool (培育库) for a target stage/tier and year. Never shown to investors."""

    firm = graphene.Field(FirmType, required=True)
    target_stage = graphene.Field(StageType, required=True)
    target_tier = graphene.Field(TierType)
    certification = graphene.Field(CertificationType)
    owner = graphene.String(description="Username of the officer in charge")
    status = graphene.String(required=True, description=", ".join(PoolStatus.values))
    notes = graphene.List(graphene.NonNull(CultivationNoteType), required=True)

    class Meta:
        model = CultivationEntry
        interfaces = (relay.Node,)
        fields = ("id", "firm", "target_stage", "target_tier", "target_year", "status", "owner", "certification",
                  "created_at", "updated_at", "closed_on")
        convert_choices_to_enum = False

    @classmethod
    def visible_to(cls, user, queryset):
        return permissions.cultivation_entries_visible_to(user, queryset)

    def resolve_owner(self, info):
        return self.owner.get_username() if self.owner_id else None

    def resolve_notes(self, info):
        return list(self.notes.select_related("author").all())
