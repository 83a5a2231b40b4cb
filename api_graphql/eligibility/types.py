"""GraphQL types of the eligibility domain: qualifications, indicator details, local schemes, what-if."""

import graphene

from api_graphql.analytics.types import EligibilityType, UnmetCriterionType
from api_graphql.core.permissions import ScopedObjectType
from registry import permissions
from registry.models import IndicatorDetail, Qualification


class QualificationType(ScopedObjectType):
    """An award, R&D institution, standard led or honour (资质/奖项) that a direct route can read."""

    class Meta:
        model = Qualification
        fields = ("id", "kind", "level", "name", "issuer", "awarded_on", "valid_until", "rank", "reference")

    kind = graphene.String(required=True, description="science_award, rd_institution, standard_led, honour, competition")
    level = graphene.String(required=True, description="international, national, industry, provincial, municipal, district")

    @classmethod
    def visible_to(cls, user, queryset):
        return permissions.firms_visible_to(user, queryset, via="firm__")


class IndicatorDetailType(ScopedObjectType):
    """Yearly figures beyond the statistics return (万元; innovation items in whole points)."""

    class Meta:
        model = IndicatorDetail
        fields = ("id", "year", "rd_expense_domestic", "main_business_revenue", "innovation_ip",
                  "innovation_conversion", "innovation_rd_management", "innovation_growth")

    innovation_score = graphene.Int(description="Sum of the four 高企 innovation items; null while any is unknown")

    @classmethod
    def visible_to(cls, user, queryset):
        return permissions.firms_visible_to(user, queryset, via="firm__")

    def resolve_innovation_score(root, info):
        return root.innovation_score


class CriterionType(graphene.ObjectType):
    """One criterion of a rule set, as published (for officers reading a scheme)."""

    criterion = graphene.String(required=True)
    label = graphene.String(required=True)
    label_zh = graphene.String()
    clause = graphene.String()
    rule = graphene.String(description="The threshold as JSON (metric, op, value / bands / routes)")


class SchemeType(graphene.ObjectType):
    """A local scheme (苏州市瞪羚计划, 园区瞪羚, 无锡雏鹰库, …) in force: a versioned rule set with its sources."""

    code = graphene.String(required=True)
    name = graphene.String(required=True)
    name_en = graphene.String()
    stage = graphene.String(required=True)
    tier = graphene.String()
    jurisdiction = graphene.String(required=True, description="Region code")
    jurisdiction_name = graphene.String(required=True)
    version = graphene.String()
    effective_from = graphene.Date(required=True)
    effective_to = graphene.Date()
    source = graphene.String(required=True, description="Published sources")
    source_note = graphene.String(required=True, description="What is encoded and what the sources leave out")
    criteria = graphene.List(graphene.NonNull(CriterionType), required=True)


class FigureInput(graphene.InputObjectType):
    """A figure typed for a what-if (never stored). Money in 万元, ratios as fractions; founded_on as YYYY-MM-DD."""

    figure = graphene.String(required=True, description="e.g. revenue, rd_expense, main_business_revenue")
    year = graphene.Int(description="Default: the evaluation year")
    value = graphene.String(required=True)


class FigureType(graphene.ObjectType):
    figure = graphene.String(required=True)
    year = graphene.Int()
    value = graphene.String(required=True)


class ChangeType(graphene.ObjectType):
    """The smallest change of one figure that meets one unmet criterion, the other figures unchanged."""

    criterion = graphene.String(required=True)
    metric = graphene.String(required=True)
    actual = graphene.Float(required=True)
    required = graphene.Float(required=True)
    unit = graphene.String()
    figure = graphene.String(description="The figure to change (null when no single figure moves the metric)")
    figure_year = graphene.Int()
    figure_actual = graphene.Float()
    figure_change = graphene.Float(description="Signed: + raise, − lower; in figure_unit")
    figure_unit = graphene.String()


class WhatIfType(graphene.ObjectType):
    evaluation = graphene.Field(EligibilityType, required=True)
    changes = graphene.List(graphene.NonNull(ChangeType), required=True)
    figures = graphene.List(graphene.NonNull(FigureType), required=True, description="The figures typed (not stored)")


__all__ = ["ChangeType", "CriterionType", "EligibilityType", "FigureInput", "FigureType", "IndicatorDetailType",
           "QualificationType", "SchemeType", "UnmetCriterionType", "WhatIfType"]


class BandInfoType(graphene.ObjectType):
    code = graphene.String(required=True)
    label = graphene.String(required=True)


class ScreenedFirmType(graphene.ObjectType):
    """A firm as a screen shows it: bands and derived measures. The raw figures below are filled only for
    roles that read them raw (registry.permissions.FIELD_POLICY); for others they are refused."""

    uscc = graphene.String(required=True)
    name = graphene.String(required=True)
    region = graphene.String(required=True, description="Region code")
    stage = graphene.String()
    tier = graphene.String()
    year = graphene.Int(description="Year of the latest indicators the bands come from")
    years_since_founding = graphene.Int()
    revenue_band = graphene.String()
    growth_band = graphene.String()
    rd_intensity_band = graphene.String()
    headcount_band = graphene.String()
    revenue = graphene.Float(description="万元 (raw: not for banded roles)")
    revenue_growth = graphene.Float(description="fraction (raw: not for banded roles)")
    rd_intensity = graphene.Float(description="fraction (raw: not for banded roles)")
    employees = graphene.Float(description="count (raw: not for banded roles)")


class ScreenPageType(graphene.ObjectType):
    total = graphene.Int(required=True)
    items = graphene.List(graphene.NonNull(ScreenedFirmType), required=True)
    csv = graphene.String(required=True, description="This page as CSV, with the same field rules (formula cells neutralised)")


class ScreenOrder(graphene.Enum):
    """Sort keys of a screen: band ordinals (then firm id), never raw figures."""

    REVENUE_BAND = "revenue_band"
    REVENUE_BAND_DESC = "-revenue_band"
    GROWTH_BAND = "growth_band"
    GROWTH_BAND_DESC = "-growth_band"
    RD_INTENSITY_BAND = "rd_intensity_band"
    RD_INTENSITY_BAND_DESC = "-rd_intensity_band"
    HEADCOUNT_BAND = "headcount_band"
    HEADCOUNT_BAND_DESC = "-headcount_band"
    YEARS_SINCE_FOUNDING = "years_since_founding"
    YEARS_SINCE_FOUNDING_DESC = "-years_since_founding"


class BandsType(graphene.ObjectType):
    """The band codes and labels a screen accepts."""

    revenue_band = graphene.List(graphene.NonNull(BandInfoType), required=True)
    growth_band = graphene.List(graphene.NonNull(BandInfoType), required=True)
    rd_intensity_band = graphene.List(graphene.NonNull(BandInfoType), required=True)
    headcount_band = graphene.List(graphene.NonNull(BandInfoType), required=True)
