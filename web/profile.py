"""What the firm profile shows, gathered from registry functions (the API's firm, timeline, eligibility, pool)."""

from django.core.exceptions import ValidationError
from django.utils import timezone

from registry import permissions
from registry.eligibility import evaluate_firm_targets
from registry.models import Certification, CertificationStatus, IndicatorDetail, IndicatorYear, Region
from registry.pool import pool_entries
from registry.services import ladder_for
from registry.timeline import build_timeline
from web.columns import DETAILS, indicator_columns
from web.forms import AddToPoolForm


def region_trail(region):
    """The region and its ancestors, top first (江苏省 › 苏州市 › 昆山市)."""
    codes = [code for code in region.path.split("/") if code]
    return list(Region.objects.filter(code__in=codes).order_by("path"))


def ladder(firm, certifications):
    """The firm's rungs: [(stage, state)] with state "here" (current stage), "held" (held before) or ""."""
    held = {c.stage_id for c in certifications if c.status != CertificationStatus.REVOKED}
    rungs = []
    for stage in ladder_for(firm.region):
        state = "here" if stage.id == firm.current_stage_id else ("held" if stage.id in held else "")
        rungs.append((stage, state))
    return rungs


def next_rungs(firm, rungs):
    current = firm.current_stage.rank if firm.current_stage_id else -1
    return [stage for stage, _ in rungs if stage.rank > current]


def eligibility(firm, stages):
    """[(stage, FirmEvaluation or None, problem)] for each target stage (the API's `eligibility` field),
    the firm's facts read once for every stage."""
    results = evaluate_firm_targets(firm, [(stage, None) for stage in stages])
    return [(stage, None, " ".join(result.messages)) if isinstance(result, ValidationError) else (stage, result, "")
            for stage, result in zip(stages, results)]


def indicator_chart(rows, columns):
    """ECharts series for the profile: money columns as bars (or counts, for roles that see no money)."""
    chosen = [c for c in columns if c[2] == "money" and c[0] != "valuation_usd"][:2] or \
             [c for c in columns if c[2] == "int"][:2]
    return {
        "years": [str(r.year) for r in rows],
        "series": [{"name": str(label), "data": [None if getattr(r, field) is None else float(getattr(r, field))
                                                 for r in rows]} for field, label, _ in chosen],
    }


DETAIL_YEARS = 3  # the latest years shown: the rules look back at most three years


def indicator_details(user, firm):
    """The firm's latest DETAIL_YEARS 补充年度指标 rows, oldest first (their `innovation_score`: the
    API's innovationScore). One query.
    Internal roles only, as the API's `indicatorDetails`; within the user's scope like the rest."""
    if not permissions.can_read_cultivation(user):
        return []
    rows = list(permissions.firms_visible_to(user, IndicatorDetail.objects.filter(firm=firm), via="firm__")
                .order_by("-year")[:DETAIL_YEARS])
    return rows[::-1]


def profile_context(request, firm):
    user = request.user
    certifications = list(permissions.certifications_visible_to(
        user, Certification.objects.filter(firm=firm).select_related("stage", "tier")).order_by("issued_on", "id"))
    rungs = ladder(firm, certifications)
    columns = indicator_columns(user)
    indicators = list(permissions.indicators_visible_to(user, IndicatorYear.objects.filter(firm=firm)).order_by("year"))
    internal = permissions.can_read_cultivation(user)
    context = {
        "firm": firm, "trail": region_trail(firm.region), "chains": list(firm.chains.order_by("path")),
        "rungs": rungs, "certifications": certifications, "timeline": build_timeline(certifications),
        "columns": columns, "indicators": indicators,
        "chart": indicator_chart(indicators, columns),
        "internal": internal,
        "details": indicator_details(user, firm), "detail_columns": DETAILS,
    }
    if internal:
        targets = next_rungs(firm, rungs)
        context["eligibility"] = eligibility(firm, targets)
        context["entries"] = list(pool_entries(user).filter(firm=firm).select_related(
            "target_stage", "target_tier", "owner").prefetch_related("notes"))
        if permissions.can_write_firm(user, firm):
            context["pool_form"] = AddToPoolForm(initial={
                "uscc": firm.uscc, "target_stage": targets[0].code if targets else "",
                "target_year": timezone.localdate().year,
            })
    return context
