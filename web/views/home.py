"""The home page, one per role. Officers (and admins, over every region) see their targets, stages,
lapsing recognitions, candidates and pool; analysts a funnel and the year's transitions; investors
their saved screens and recent searches. Every number comes from registry functions with the user's scope.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from registry import analytics
from registry.cache import cached
from registry.eligibility import find_candidates
from registry.filtersets import CertificationFilterSet
from registry.models import Certification, PolicyTarget, Region, Role, Stage
from registry.permissions import certifications_visible_to, firms_visible_to, regions_in_scope
from registry.pool import pool_entries
from web import choices, history
from web.access import page
from web.views.pool import COLUMNS as POOL_COLUMNS

LAPSING_WINDOWS = (90, 180)


@page("home")
def home(request):
    role = request.role
    if role == Role.INVESTOR:
        return render(request, "web/home_investor.html", {
            "screens": history.saved_screens(request.user), "searches": history.recent_searches(request.user),
        })
    if role == Role.ANALYST:
        return render(request, "web/home_analyst.html", analyst_context(request))
    return render(request, "web/home_officer.html", officer_context(request))


def target_label(row, names, tier_names):
    what = tier_names.get(row["tier"]) if row["tier"] else names.get(row["stage"], row["stage"])
    when = f"{row['start_year']}–{row['year']}" if row["start_year"] else str(row["year"])
    return f"{what} {row['kind']} {when}"


def target_regions(user, year):
    """Regions in the user's scope with a target shown for `year` (targets of that year, or a FLOW window still running)."""
    shown = PolicyTarget.objects.filter(year__gte=year).values("region_id")
    regions = Region.objects.filter(code__in=shown)
    scope = regions_in_scope(user)
    if scope is not None:
        regions = regions.filter(code__in=scope.values("code"))
    return list(regions.order_by("path"))


def officer_context(request):
    user, today = request.user, timezone.localdate()
    year = today.year
    names, tier_names = choices.names_by_code()
    targets = []
    for region in target_regions(user, year):
        rows = cached(analytics.target_progress, region.code, year, user=user)
        if not rows:
            continue
        for row in rows:
            row["label"] = target_label(row, names, tier_names)
        targets.append({"region": region, "rows": rows, "chart": {
            "labels": [r["label"] for r in rows], "actual": [r["actual"] for r in rows],
            "target": [r["target"] for r in rows],
        }})
    per_stage = cached(firms_per_stage, user=user)
    stages = list(Stage.objects.order_by("rank"))
    stage_counts = [(s, per_stage.get(s.id, 0)) for s in stages]
    unstaged = per_stage.get(None, 0)
    counted = cached(lapsing_counts, today, user=user)
    lapsing = [(days, counted[days]) for days in LAPSING_WINDOWS]
    soonest = list(CertificationFilterSet(
        data={"before": today + datetime.timedelta(days=LAPSING_WINDOWS[0])},
        queryset=certifications_visible_to(user, Certification.objects.select_related("firm", "tier")),
    ).qs.order_by("valid_until", "id")[:10])
    counts = cached(candidate_counts, [s.code for s in stages if s.region_id is None], user=user)
    candidates = [(stage, counts[stage.code]) for stage in stages if stage.code in counts]
    pool = dict(pool_entries(user).order_by().values_list("status").annotate(n=Count("id")))
    return {
        "year": year, "targets": targets, "stage_counts": stage_counts, "unstaged": unstaged,
        "lapsing": lapsing, "soonest": soonest, "candidates": candidates,
        # each lapsing count links to its firms: the firms page's certificate_expiring_before
        "lapsing_before": {days: today + datetime.timedelta(days=days) for days in LAPSING_WINDOWS},
        "pool": [(status, pool.get(status, 0)) for status in POOL_COLUMNS],
    }


def firms_per_stage(*, user=None):
    """{current stage id (None: no stage): firms} in the user's scope. Remembered per data version
    (registry.cache.cached), as the GraphQL twin's per-stage totalCount is. Staged and unstaged firms
    are counted apart, each with the stage named, so PostgreSQL reads the index firm_stage_region
    alone: one GROUP BY over the district's firms fetched every firm row (300 ms for 27,736 firms,
    against 35 ms, at 1,000,000 firms)."""
    firms = firms_visible_to(user).order_by()
    stage_ids = list(Stage.objects.values_list("id", flat=True))
    counts = dict(firms.filter(current_stage_id__in=stage_ids).values_list("current_stage_id").annotate(n=Count("*")))
    counts[None] = firms.filter(current_stage__isnull=True).count()
    return counts


def candidate_counts(codes, *, user=None):
    """{national rung code (`codes`, the home's stages already read): (its candidates in the user's
    scope, how many of them are eligible now), or None when no rules are in force}. Remembered per
    data version and day (the ranking is rebuilt under a new version): the five counts over the stored
    ranking were most of a warm officer's home at 1,000,000 firms."""
    counts = {}
    for code in codes:
        try:
            found = find_candidates(code, user=user, first=0)
        except ValidationError:  # no rules in force for this rung
            counts[code] = None
        else:
            counts[code] = (found.total, found.eligible)
    return counts


def lapsing_counts(today, *, user=None):
    """{days: active recognitions in the user's scope valid until before today + days}, every window in
    one pass over the widest. Counting valid_until (not id) lets PostgreSQL answer from the index
    cert_active_firm_until alone, a nested loop from the district's firms (COUNT(id) needed the table:
    it hash-joined every recognition lapsing nationally, 0.6 s at 1,000,000 firms). Remembered per
    data version and day."""
    befores = {days: today + datetime.timedelta(days=days) for days in LAPSING_WINDOWS}
    widest = CertificationFilterSet(data={"before": befores[max(LAPSING_WINDOWS)]},
                                    queryset=certifications_visible_to(user)).qs.order_by()
    counted = widest.aggregate(**{f"d{days}": Count("valid_until", filter=Q(valid_until__lt=before))
                                  for days, before in befores.items()})
    return {days: counted[f"d{days}"] for days in LAPSING_WINDOWS}


def analyst_context(request):
    """Funnel and transitions for a chosen year and region (the analytics page has the rest)."""
    today = timezone.localdate()
    raw_year, region = (request.GET.get("year") or "").strip(), (request.GET.get("region") or "").strip()
    errors, funnel, transitions = {}, None, []
    year = today.year - 1
    if raw_year:
        try:
            year = int(raw_year)
            if not 2000 <= year <= today.year:
                raise ValueError
        except ValueError:
            errors["year"] = _("“%(value)s”不是 2000 至今年之间的年份。") % {"value": raw_year}
    names = choices.names_by_code()[0]
    if not errors:
        try:
            codes = list(Stage.objects.filter(region__isnull=True).order_by("rank").values_list("code", flat=True))
            funnel = cached(analytics.funnel, codes, year, region=region or None, user=request.user)
            transitions = cached(analytics.stage_transitions, year, region=region or None, user=request.user)
        except ValidationError as error:
            errors.update({k: " ".join(v) for k, v in getattr(error, "message_dict", {"region": error.messages}).items()})
    if funnel:
        for step in funnel["steps"]:
            step["name"] = names.get(step["stage"], step["stage"])
    for row in transitions:
        row["from_name"] = names.get(row["from_stage"]) if row["from_stage"] else _("（未入梯）")
        row["to_name"] = names.get(row["to_stage"]) if row["to_stage"] else _("（离开）")
    return {
        "year": year, "region": region, "errors": errors, "funnel": funnel, "transitions": transitions,
        "funnel_chart": {"steps": [{"name": s["name"], "value": s["count"]} for s in funnel["steps"]]} if funnel else None,
    }
