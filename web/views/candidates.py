"""候选企业: the candidate finder (registry.eligibility.find_candidates, the API's `candidates`), with gaps
explained, one-click pooling (htmx, web.views.pool.pool_add) and the candidate export."""

from html import escape
from urllib.parse import urlencode

from django.core.exceptions import ValidationError
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.template.defaultfilters import floatformat
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from registry import permissions
from registry.eligibility import find_candidates
from registry.models import CultivationEntry
from web import choices
from web.access import page
from web.templatetags.firm_links import firm_url
from web.templatetags.web_format import BLANK, UnmetList, named, region_name

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
        # These firms came through find_candidates' scope, so their entries are the user's to see: no
        # second scope filter (pool_entries') and its region query per page.
        pooled = set(CultivationEntry.objects.filter(
            firm_id__in=[c.firm.id for c in result.items], target_stage__code=params["stage"], target_year=year,
        ).values_list("firm_id", flat=True))
    query = urlencode({k: v for k, v in params.items() if v and k != "page"})
    total = result.total if result else 0
    # The lag note ({% analytics_lag %}) of the ranking this page was read from, with no query of its
    # own; without a result (a refused parameter) the tag reads the state itself.
    lag = {} if result is None else {"lag_as_of": result.as_of}
    return render(request, "web/candidates.html", {**lag,
        "params": params, "errors": errors, "result": result, "page": number,
        "pages": max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE), "total": total, "query": query,
        "writer": permissions.can_write(request.user),
        "rows_html": rows_html(request, result.items if result else (), pooled, params, year),
        "stage_choices": choices.stage_choices(blank=False), "tier_choices": choices.tier_choices(),
    })


ROW_HTML = ('<tr><td><a href="{link}">{name}</a><br><span class="mono muted">{uscc}</span></td><td>{region}</td>'
            '<td>{tier}</td><td>{outcome}</td><td class="num">{score}</td><td>{unmet}</td>{pool}</tr>')
POOL_FORM = ('<td><form method="post" action="{action}" hx-post="{action}" hx-target="this" hx-swap="outerHTML">'
             '<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">'
             '<input type="hidden" name="uscc" value="{uscc}"><input type="hidden" name="target_stage" value="{stage}">'
             '<input type="hidden" name="target_tier" value="{tier}"><input type="hidden" name="target_year" value="{year}">'
             '<input type="hidden" name="next" value="{next}">'
             '<button type="submit" class="small primary">{label}</button></form></td>')


def rows_html(request, items, pooled, params, year):
    """The table body: one precompiled row per candidate, every text escaped (html.escape: Django's
    escape costs a lazy-string wrapper per call), rather than a template loop with an include per
    unmet criterion (the page's largest cost after its query, bench/pages.py).
    Writers get the one-click 加入培育库 form (or 已在培育库) in the last column."""
    if not items:
        return mark_safe(f'<tr><td colspan="7" class="muted">{escape(_("没有候选企业。"))}</td></tr>')
    eligible = f'<span class="tag ok">{escape(_("符合"))}</span>'
    missing = f'<span class="tag warn">{escape(_("数据不全"))}</span>'
    unmet = f'<span class="tag no">{escape(_("未满足"))}</span>'
    in_pool = f'<td><span class="tag ok">{escape(_("已在培育库"))}</span></td>'
    form = None
    if permissions.can_write(request.user):
        form = {"action": escape(reverse("web:pool_add")), "csrf": escape(get_token(request)),
                    "stage": escape(params["stage"]), "tier": escape(params["tier"]), "year": year,
                    "next": escape(request.get_full_path()), "label": escape(_("加入培育库"))}
    unmet_list, rows = UnmetList(), []
    for c in items:
        firm = c.firm
        pool = "" if form is None else in_pool if firm.id in pooled else POOL_FORM.format(uscc=escape(firm.uscc), **form)
        rows.append(ROW_HTML.format(
            link=escape(firm_url(firm.uscc)), name=escape(firm.name), uscc=escape(firm.uscc),
            region=escape(region_name(firm.region)), tier=escape(named(firm.current_tier) or BLANK),
            outcome=eligible if c.eligible else missing if c.outcome == "missing_data" else unmet,
            score=escape(floatformat(c.score, 0)) if c.score is not None else BLANK,
            unmet=f'<ul class="plain">{unmet_list(c.unmet)}</ul>' if c.unmet else BLANK, pool=pool))
    return mark_safe("\n".join(rows))
