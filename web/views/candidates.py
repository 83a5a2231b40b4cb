"""候选企业: the candidate finder (registry.eligibility.find_candidates, the API's `candidates`), with gaps
explained, one-click pooling (htmx, web.views.pool.pool_add) and the candidate export."""

from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from registry import permissions
from registry.eligibility import find_candidates
from registry.pool import pool_entries
from web import choices
from web.access import page

PAGE_SIZE = 25
DEFAULT_STAGE = "hnte"


@page("candidates")
def candidate_list(request):
    params = {k: (request.GET.get(k) or "").strip() for k in ("stage", "tier", "region", "page")}
    params["stage"] = params["stage"] or DEFAULT_STAGE
    errors, result, number = {}, None, 1
    try:
        number = max(1, int(params["page"] or 1))
    except ValueError:
        errors["page"] = _("“%(value)s”不是页码。") % {"value": params["page"]}
    if not errors:
        try:
            result = find_candidates(params["stage"], params["tier"] or None, params["region"] or None,
                                     user=request.user, first=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
        except ValidationError as error:
            errors.update({k: " ".join(v) for k, v in getattr(error, "message_dict", {"stage": error.messages}).items()})
    pooled = set()
    year = timezone.localdate().year
    if result and result.items:
        pooled = set(pool_entries(request.user, target_stage=params["stage"], target_year=year)
                     .filter(firm_id__in=[c.firm.id for c in result.items]).values_list("firm_id", flat=True))
    query = urlencode({k: v for k, v in params.items() if v and k != "page"})
    total = result.total if result else 0
    return render(request, "web/candidates.html", {
        "params": params, "errors": errors, "result": result, "page": number,
        "pages": max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE), "total": total, "query": query,
        "pooled": pooled, "year": year, "writer": permissions.can_write(request.user),
        "stage_choices": choices.stage_choices(blank=False), "tier_choices": choices.tier_choices(),
    })
