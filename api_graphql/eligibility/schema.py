"""Eligibility queries (`eligibilitySchemes`, `schemeEligibility`, `whatIf`, `qualifications`) and the
writes of the facts the published criteria need (`recordQualification`, `deleteQualification`,
`upsertIndicatorDetails`). Thin: registry.eligibility judges, registry.services.qualifications writes.

A what-if never stores what the officer typed. Judging and what-if read internal indicators, so they
are refused to the investor role, like `eligibility` and `candidates`.
"""

import io
import json

import graphene
from django.utils import timezone
from graphql import GraphQLError
from graphql_relay import from_global_id

from api_graphql.analytics.schema import answer, require_internal
from api_graphql.core.mutations import MutationError, ServiceMutation, parse_date
from api_graphql.core.permissions import request_user
from api_graphql.eligibility.types import (
    BandInfoType, BandsType, ChangeType, CriterionType, EligibilityType, FigureInput, FigureType, IndicatorDetailType,
    QualificationType, SchemeType, ScreenedFirmType, ScreenOrder, ScreenPageType, UnmetCriterionType, WhatIfType,
)
from api_graphql.registry.mutations import require_writer, writable_firm
from importers.exports import write_csv
from registry import permissions
from registry import uscc as uscc_codes
from registry.eligibility import screening
from registry.eligibility.rules import schemes_in_force
from registry.eligibility.whatif import evaluate_scheme, what_if
from registry.models import IndicatorDetail, Qualification
from registry.services import qualifications as services
from registry.services.firms import resolve_region


def visible_firm(info, uscc):
    return permissions.firms_visible_to(request_user(info)).filter(uscc=uscc_codes.normalize(uscc)).first()


def eligibility_type(firm, result):
    return EligibilityType(
        firm=firm, stage=result.stage, tier=result.tier, eligible=result.eligible, outcome=result.outcome,
        score=result.score, rule_set=result.rule_set, evaluation_year=result.year,
        unmet=[UnmetCriterionType(**u) for u in result.unmet],
    )


def criteria_of(thresholds):
    out = []
    for key in ("basic", "direct", "criteria"):
        for spec in thresholds.get(key, []):
            rule = {k: v for k, v in spec.items() if k not in ("criterion", "label", "label_zh", "label_en", "clause")}
            out.append(CriterionType(criterion=spec["criterion"], label=spec.get("label_en") or spec["label"],
                                     label_zh=spec.get("label_zh"), clause=spec.get("clause"),
                                     rule=json.dumps(rule, ensure_ascii=False)))
    return out


def scheme_type(rule):
    scheme = rule.thresholds["scheme"]
    return SchemeType(
        code=rule.code, name=rule.name, name_en=scheme.get("name_en"), stage=rule.stage.code,
        tier=rule.tier.code if rule.tier_id else None, jurisdiction=rule.jurisdiction.code,
        jurisdiction_name=rule.jurisdiction.name, version=scheme.get("version"), effective_from=rule.effective_from,
        effective_to=rule.effective_to, source=scheme.get("source") or rule.source,
        source_note=scheme.get("source_note", ""), criteria=criteria_of(rule.thresholds),
    )


class EligibilityQuery(graphene.ObjectType):
    eligibility_schemes = graphene.List(
        graphene.NonNull(SchemeType), required=True, region=graphene.String(), on=graphene.Date(),
        description="Local schemes in force in a region (default: an officer's first region; others: all) on a date.",
    )
    scheme_eligibility = graphene.Field(
        EligibilityType, uscc=graphene.String(required=True), scheme=graphene.String(required=True),
        on=graphene.Date(), description="The firm judged against one local scheme; null when out of your scope.",
    )
    what_if = graphene.Field(
        WhatIfType, uscc=graphene.String(required=True), stage=graphene.String(), tier=graphene.String(),
        scheme=graphene.String(), on=graphene.Date(), figures=graphene.List(graphene.NonNull(FigureInput)),
        description="Smallest change per unmet figure, and the firm re-judged with the figures typed (never stored).",
    )
    qualifications = graphene.List(
        graphene.NonNull(QualificationType), required=True, uscc=graphene.String(required=True),
        description="A firm's awards, R&D institutions, standards led and honours (empty when out of your scope).",
    )
    indicator_details = graphene.List(
        graphene.NonNull(IndicatorDetailType), required=True, uscc=graphene.String(required=True),
        description="A firm's indicator details by year. Not available to investors.",
    )

    firm_screen = graphene.Field(
        ScreenPageType, required=True,
        revenue_band=graphene.List(graphene.NonNull(graphene.String)),
        growth_band=graphene.List(graphene.NonNull(graphene.String)),
        rd_intensity_band=graphene.List(graphene.NonNull(graphene.String)),
        headcount_band=graphene.List(graphene.NonNull(graphene.String)),
        founded_years_min=graphene.Int(), founded_years_max=graphene.Int(),
        region=graphene.String(), stage=graphene.String(),
        order_by=graphene.List(graphene.NonNull(ScreenOrder)), first=graphene.Int(), offset=graphene.Int(),
        description="Screen firms on bands and derived measures (investor-safe): filters and sort keys are bands; "
                    "raw figures appear only for roles that read them raw (docs/api.md, field policy).",
    )
    bands = graphene.Field(BandsType, required=True, description="The band codes and labels screens accept.")

    def resolve_firm_screen(root, info, founded_years_min=None, founded_years_max=None, region=None, stage=None,
                            order_by=None, first=None, offset=None, **bands):
        user = request_user(info)
        if not permissions.role_of(user):
            raise GraphQLError("Sign in to screen firms.")
        order = [o.value if hasattr(o, "value") else o for o in (order_by or [])]
        total, rows = answer(screening.screen, user, bands={k: v for k, v in bands.items() if v},
                             years_min=founded_years_min, years_max=founded_years_max, region=region, stage=stage,
                             order=order, first=first, offset=offset or 0)
        text = io.StringIO()
        write_csv(screening.screen_csv_rows(user, rows), text)
        fields = set(ScreenedFirmType._meta.fields)
        return ScreenPageType(total=total, csv=text.getvalue(),
                              items=[ScreenedFirmType(**{k: v for k, v in r.items() if k in fields}) for r in rows])

    def resolve_bands(root, info):
        return BandsType(**{name: [BandInfoType(code=c, label=l) for c, l in zip(band.codes, band.labels)]
                            for name, band in screening.BANDS.items()})

    def resolve_eligibility_schemes(root, info, region=None, on=None):
        user = request_user(info)
        if not permissions.role_of(user):
            raise GraphQLError("Sign in to read the local schemes.")
        on = on or timezone.localdate()
        if region:
            path = answer(resolve_region, region).path
        else:
            paths = permissions.region_paths(user)
            path = paths[0] if paths else ""
        return [scheme_type(rule) for rule in schemes_in_force(path, on)]

    def resolve_scheme_eligibility(root, info, uscc, scheme, on=None):
        require_internal(info, "schemeEligibility")
        firm = visible_firm(info, uscc)
        if firm is None:
            return None
        return eligibility_type(firm, answer(evaluate_scheme, firm, scheme, on=on))

    def resolve_what_if(root, info, uscc, stage=None, tier=None, scheme=None, on=None, figures=None):
        require_internal(info, "whatIf")
        firm = visible_firm(info, uscc)
        if firm is None:
            return None
        typed = [{"figure": f.figure, "year": f.year, "value": f.value} if f.year is not None
                 else {"figure": f.figure, "value": f.value} for f in (figures or [])]
        result = answer(what_if, firm, stage, tier, on=on, figures=typed, scheme_code=scheme)
        return WhatIfType(
            evaluation=eligibility_type(firm, result.evaluation),
            changes=[ChangeType(**vars(c)) for c in result.changes],
            figures=[FigureType(figure=f["figure"], year=f.get("year"), value=str(f["value"])) for f in typed],
        )

    def resolve_qualifications(root, info, uscc):
        return list(QualificationType.get_queryset(Qualification.objects.all(), info)
                    .filter(firm__uscc=uscc_codes.normalize(uscc)).order_by("awarded_on", "id"))

    def resolve_indicator_details(root, info, uscc):
        require_internal(info, "indicatorDetails")
        return list(IndicatorDetailType.get_queryset(IndicatorDetail.objects.all(), info)
                    .filter(firm__uscc=uscc_codes.normalize(uscc)).order_by("year"))


class RecordQualification(ServiceMutation):
    """Record an award, R&D institution, standard led or honour (or update the one with the same kind, name, date)."""

    class Arguments:
        uscc = graphene.String(required=True)
        kind = graphene.String(required=True, description="science_award, rd_institution, standard_led, honour, competition")
        level = graphene.String(required=True, description="international, national, industry, provincial, municipal, district")
        name = graphene.String(required=True)
        awarded_on = graphene.String(required=True, description="YYYY-MM-DD")
        valid_until = graphene.String(description="YYYY-MM-DD (R&D institutions, honours)")
        rank = graphene.Int(description="Place among the completing units (1 = lead)")
        issuer = graphene.String()
        reference = graphene.String()

    qualification = graphene.Field(QualificationType)
    outcome = graphene.String()

    @classmethod
    def perform(cls, info, uscc, **values):
        firm = writable_firm(info, uscc)
        values["awarded_on"] = parse_date(values["awarded_on"], "awardedOn")
        if values.get("valid_until") is not None:
            values["valid_until"] = parse_date(values["valid_until"], "validUntil")
        row, outcome = services.record_qualification(
            firm, actor=info.context.user, via="api", **{k: v for k, v in values.items() if v is not None})
        return {"qualification": row, "outcome": outcome}


class DeleteQualification(ServiceMutation):
    class Arguments:
        id = graphene.ID(required=True, description="The qualification's global id")

    deleted = graphene.Boolean()

    @classmethod
    def perform(cls, info, id):
        require_writer(info)
        not_found = MutationError("id", "No qualification with this id in your regions.", code="not_found")
        try:
            type_name, pk = from_global_id(id)
            pk = int(pk)
        except (ValueError, TypeError, UnicodeDecodeError):
            raise not_found from None
        row = Qualification.objects.select_related("firm__region").filter(pk=pk).first() \
            if type_name == QualificationType._meta.name else None
        if row is None or not permissions.can_write_firm(info.context.user, row.firm):
            raise not_found
        services.delete_qualification(row, actor=info.context.user, via="api")
        return {"deleted": True}


class UpsertIndicatorDetails(ServiceMutation):
    """Create or update a firm's indicator details for one year. Money in 万元; innovation items in whole points."""

    class Arguments:
        uscc = graphene.String(required=True)
        year = graphene.Int(required=True)
        rd_expense_domestic = graphene.Decimal()
        main_business_revenue = graphene.Decimal()
        innovation_ip = graphene.Int(description="知识产权, 0–30")
        innovation_conversion = graphene.Int(description="科技成果转化能力, 0–30")
        innovation_rd_management = graphene.Int(description="研究开发组织管理水平, 0–20")
        innovation_growth = graphene.Int(description="企业成长性, 0–20")

    indicator_details = graphene.Field(IndicatorDetailType)
    outcome = graphene.String()

    @classmethod
    def perform(cls, info, uscc, year, **values):
        firm = writable_firm(info, uscc)
        row, outcome = services.upsert_indicator_details(
            firm, year, {k: v for k, v in values.items() if v is not None}, actor=info.context.user, via="api")
        return {"indicator_details": IndicatorDetail.objects.get(pk=row.pk), "outcome": outcome}


class EligibilityMutation(graphene.ObjectType):
    record_qualification = RecordQualification.Field()
    delete_qualification = DeleteQualification.Field()
    upsert_indicator_details = UpsertIndicatorDetails.Field()


__all__ = ["EligibilityMutation", "EligibilityQuery"]
