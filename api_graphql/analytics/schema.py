"""Analytics queries (`funnel`, `stageTransitions`, `targetProgress`, `cohortTable`, `cohortFirms`,
`candidates`) and the cultivation-pool mutations (`addToCultivationPool`, `updateCultivationEntry`).

The resolvers are thin: the numbers come from registry.analytics and registry.eligibility, always
within the caller's region scope (registry.permissions). `expiringCertificates` lives in the
registry domain (api_graphql/registry/schema.py).
"""

import graphene
from django.core.exceptions import ValidationError
from graphene import relay
from graphene.utils.str_converters import to_camel_case
from graphql import GraphQLError
from graphql_relay import cursor_to_offset, from_global_id, offset_to_cursor

from api_graphql.analytics.types import (
    CandidateConnection, CandidateType, CohortFirmsType, CohortFirmType, CohortTableType, CultivationEntryType,
    EligibilityType, FunnelType, StageTransitionType, TargetProgressType, UnmetCriterionType,
)
from api_graphql.core.limits import check_page_size
from api_graphql.core.mutations import MutationError, ServiceMutation, parse_date
from api_graphql.core.permissions import request_role, request_user
from api_graphql.registry.mutations import require_writer, writable_firm
from registry import analytics, eligibility, permissions, pool
from registry import uscc as uscc_codes
from registry.cache import cached
from registry.models import CultivationEntry
from registry.services import cultivation
from registry.services.cultivation import UNSET


def answer(fn, *args, **kwargs):
    """Run an analytics function; a ValidationError becomes a GraphQL error naming the argument."""
    try:
        return fn(*args, **kwargs)
    except ValidationError as error:
        if hasattr(error, "message_dict"):
            raise GraphQLError(" ".join(f"Invalid argument '{to_camel_case(f)}': "
                                        f"{' '.join(m)}" for f, m in error.message_dict.items())) from None
        raise GraphQLError(" ".join(error.messages)) from None


def require_internal(info, field):
    """Candidates and cohort firm lists show internal indicators: not for the investor role."""
    if not permissions.can_read_cultivation(request_user(info)):
        raise GraphQLError(f"Field '{field}' is not available to the {request_role(info)} role.")


class AnalyticsQuery(graphene.ObjectType):
    funnel = graphene.Field(
        FunnelType, required=True, stages=graphene.List(graphene.NonNull(graphene.String), required=True),
        cohort_year=graphene.Int(description="Year of first recognition at the first stage (default: last year)"),
        region=graphene.String(), chain=graphene.String(), window_years=graphene.Int(),
        description="Cohort funnel through the listed stages (lowest first); see docs/analytics.md.",
    )
    stage_transitions = graphene.List(
        graphene.NonNull(StageTransitionType), required=True, year=graphene.Int(required=True), region=graphene.String(),
        description="From→to counts of firms' stage at the start (31 Dec of the year before) vs the end of the year.",
    )
    target_progress = graphene.List(
        graphene.NonNull(TargetProgressType), required=True, region=graphene.String(required=True),
        year=graphene.Int(required=True), description="The region's policy targets against the registry.",
    )
    cohort_table = graphene.Field(
        CohortTableType, required=True, stage=graphene.String(required=True), next_stage=graphene.String(),
        region=graphene.String(), chain=graphene.String(), first_year=graphene.Int(), last_year=graphene.Int(),
        description="Entry year × years since entry → share that reached the next stage (cumulative).",
    )
    cohort_firms = graphene.Field(
        CohortFirmsType, required=True, stage=graphene.String(required=True), entry_year=graphene.Int(required=True),
        next_stage=graphene.String(), years_since_entry=graphene.Int(), reached=graphene.Boolean(),
        region=graphene.String(), chain=graphene.String(), first=graphene.Int(),
        description="The firms behind a cohort-table number (drill-down), with CSV export.",
    )
    candidates = graphene.Field(
        CandidateConnection, required=True, stage=graphene.String(required=True), tier=graphene.String(),
        region=graphene.String(), first=graphene.Int(), after=graphene.String(),
        on=graphene.Date(description="Evaluation date (default today): picks the rules in force"),
        description="Firms one rung below the target, eligible or nearest first.",
    )

    eligibility = graphene.Field(
        EligibilityType, uscc=graphene.String(required=True), stage=graphene.String(required=True),
        tier=graphene.String(), on=graphene.Date(description="Evaluation date (default today)"),
        description="Is this firm eligible for the target? Score and unmet criteria; null when out of your scope.",
    )
    cultivation_pool = graphene.List(
        graphene.NonNull(CultivationEntryType), required=True, region=graphene.String(), status=graphene.String(),
        target_stage=graphene.String(), target_year=graphene.Int(), first=graphene.Int(),
        description="Pool entries (培育库) in your regions, newest first. Not available to investors.",
    )

    def resolve_eligibility(root, info, uscc, stage, tier=None, on=None):
        require_internal(info, "eligibility")
        firm = permissions.firms_visible_to(request_user(info)).filter(uscc=uscc_codes.normalize(uscc)).first()
        if firm is None:
            return None
        result = answer(eligibility.evaluate_firm, firm, stage, tier, on=on)
        return EligibilityType(
            firm=firm, stage=result.stage, tier=result.tier, eligible=result.eligible, outcome=result.outcome,
            score=result.score, rule_set=result.rule_set, evaluation_year=result.year,
            unmet=[UnmetCriterionType(**u) for u in result.unmet],
        )

    def resolve_cultivation_pool(root, info, region=None, status=None, target_stage=None, target_year=None,
                                 first=None):
        require_internal(info, "cultivationPool")
        first = check_page_size(first)
        entries = answer(pool.pool_entries, request_user(info), region=region, status=status,
                         target_stage=target_stage, target_year=target_year)
        return list(entries[:first])

    def resolve_funnel(root, info, stages, cohort_year=None, region=None, chain=None, window_years=None):
        from django.utils import timezone

        cohort_year = cohort_year or timezone.localdate().year - 1
        return FunnelType(**answer(cached, analytics.funnel, stages, cohort_year, region=region, chain=chain,
                                   window_years=window_years, user=request_user(info)))

    def resolve_stage_transitions(root, info, year, region=None):
        return [StageTransitionType(**row)
                for row in answer(cached, analytics.stage_transitions, year, region=region, user=request_user(info))]

    def resolve_target_progress(root, info, region, year):
        return [TargetProgressType(**row)
                for row in answer(cached, analytics.target_progress, region, year, user=request_user(info))]

    def resolve_cohort_table(root, info, stage, next_stage=None, region=None, chain=None, first_year=None,
                             last_year=None):
        return answer(analytics.cohort_table, stage, next_stage, region=region, chain=chain, user=request_user(info),
                      first_year=first_year, last_year=last_year)

    def resolve_cohort_firms(root, info, stage, entry_year, next_stage=None, years_since_entry=None, reached=None,
                             region=None, chain=None, first=None):
        require_internal(info, "cohortFirms")
        first = check_page_size(first)
        rows = answer(analytics.cohort_firms, stage, entry_year, next_stage=next_stage,
                      years_since_entry=years_since_entry, reached=reached, region=region, chain=chain,
                      user=request_user(info))
        return CohortFirmsType(
            total=len(rows), csv=analytics.firms_csv(rows),
            firms=[CohortFirmType(firm=r["firm"], entered_on=r["entered_on"], reached_on=r["reached_on"])
                   for r in rows[:first]],
        )

    def resolve_candidates(root, info, stage, tier=None, region=None, first=None, after=None, on=None):
        require_internal(info, "candidates")
        first = check_page_size(first)
        offset = 0
        if after:
            offset = cursor_to_offset(after)
            if offset is None:
                raise GraphQLError(f"Invalid cursor “{after}” for candidates.")
            offset += 1
        page = answer(eligibility.find_candidates, stage, tier, region, user=request_user(info), on=on, first=first,
                      offset=offset)
        edges = [
            CandidateConnection.Edge(cursor=offset_to_cursor(offset + i), node=CandidateType(
                firm=c.firm, eligible=c.eligible, outcome=c.outcome, score=c.score, rule_set=c.rule_set,
                unmet=[UnmetCriterionType(**u) for u in c.unmet],
            ))
            for i, c in enumerate(page.items)
        ]
        return CandidateConnection(
            edges=edges, total_count=page.total, eligible_count=page.eligible, evaluation_year=page.year,
            page_info=relay.PageInfo(
                has_next_page=offset + len(edges) < page.total, has_previous_page=offset > 0,
                start_cursor=edges[0].cursor if edges else None, end_cursor=edges[-1].cursor if edges else None,
            ),
        )


class AddToCultivationPool(ServiceMutation):
    """Put a firm into the cultivation pool (培育库) for a target stage/tier and year (officers, admins)."""

    class Arguments:
        uscc = graphene.String(required=True)
        target_stage = graphene.String(required=True)
        target_tier = graphene.String()
        target_year = graphene.Int(required=True)
        owner = graphene.String(
            description="Username of the officer in charge: an officer of the firm's region or an admin")
        note = graphene.String()

    entry = graphene.Field(CultivationEntryType)

    @classmethod
    def perform(cls, info, uscc, target_stage, target_year, target_tier=None, owner=None, note=""):
        firm = writable_firm(info, uscc)
        entry = cultivation.add_to_cultivation_pool(
            firm, target_stage, target_tier, target_year, owner=pool.owner_for(firm, owner),
            actor=info.context.user, note=note or "", via="api",
        )
        return {"entry": CultivationEntry.objects.get(pk=entry.pk)}


class UpdateCultivationEntry(ServiceMutation):
    """Move a pool entry along (pooled → coaching → applied → recognized / rejected), add a note, set the owner."""

    class Arguments:
        id = graphene.ID(required=True)
        status = graphene.String(description="pooled, coaching, applied, recognized or rejected")
        note = graphene.String()
        owner = graphene.String(
            description="Username (an officer of the firm's region or an admin); empty string clears the owner")
        noted_on = graphene.String(description="YYYY-MM-DD (default today)")

    entry = graphene.Field(CultivationEntryType)

    @classmethod
    def perform(cls, info, id, status=None, note=None, owner=None, noted_on=None):
        require_writer(info)
        user = info.context.user
        try:
            kind, pk = from_global_id(id)
            pk = int(pk) if kind == CultivationEntryType._meta.name else int(id)
        except (ValueError, TypeError, UnicodeDecodeError):
            raise MutationError("id", "No pool entry with this id in your regions.", code="not_found") from None
        entry = pool.writable_entry(user, pk)
        if entry is None:
            raise MutationError("id", "No pool entry with this id in your regions.", code="not_found")
        owner = UNSET if owner is None else pool.owner_for(entry.firm, owner)
        entry = cultivation.update_cultivation_entry(
            entry, status=status, note=note, owner=owner, actor=user, via="api", noted_on=parse_date(noted_on, "notedOn"),
        )
        return {"entry": CultivationEntry.objects.get(pk=entry.pk)}


class AnalyticsMutation(graphene.ObjectType):
    add_to_cultivation_pool = AddToCultivationPool.Field()
    update_cultivation_entry = UpdateCultivationEntry.Field()
