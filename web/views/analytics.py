"""分析 (analytics): funnel, transition matrix, cohort table with drill-down, target progress over the
years — each with its CSV/XLSX export.

The numbers are registry.analytics' (the functions behind the GraphQL `funnel`, `stageTransitions`,
`cohortTable`, `cohortFirms` and `targetProgress`), always called with the signed-in user, so an
officer's chart points and export lines stay inside their regions; the tables shown and exported
are registry.analytics.tables', so a download matches the screen.
"""


from django import forms
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from importers.exports import CONTENT_TYPES, download
from registry import analytics, permissions
from registry.analytics import tables
from registry.cache import cached
from registry.models import PolicyTarget, Region, Stage
from web import choices
from web.access import page
from web.regions import local_name

FIRST_YEAR = 2000
COHORT_YEARS = 6  # cohort table rows: the chosen year and the five before it
TARGET_YEARS_AHEAD = 0  # target progress runs to the chosen year (later years have no actuals yet)
COHORT_PAGE = 100
TABLES = ("funnel", "transitions", "cohorts", "targets", "cohort-firms")


def national_stages():
    return list(Stage.objects.filter(region__isnull=True).order_by("rank"))


def region_choices(user):
    """Regions the user may choose: an officer's own (and everything under them); for everyone else
    provinces, cities and every region with a policy target (a national list of districts would be
    thousands of options — a district is reached by URL or from the firms page)."""
    scope = permissions.regions_in_scope(user)
    if scope is not None:
        regions = scope.exclude(level=Region.Kind.PARK)
    else:
        with_targets = PolicyTarget.objects.values("region_id")
        regions = Region.objects.filter(Q(level__in=[Region.Kind.PROVINCE, Region.Kind.CITY]) | Q(code__in=with_targets))
    indent = {Region.Kind.PROVINCE: 0, Region.Kind.CITY: 1, Region.Kind.DISTRICT: 2, Region.Kind.PARK: 3}
    return [(r.code, "\u3000" * indent.get(r.level, 0) + local_name(r)) for r in regions.order_by("path")]


class AnalyticsForm(forms.Form):
    year = forms.IntegerField(label=gettext_lazy("年份"), required=False, min_value=FIRST_YEAR)
    region = forms.CharField(label=gettext_lazy("地区"), required=False, max_length=6)
    stage = forms.CharField(label=gettext_lazy("起始阶段"), required=False, max_length=40)

    def __init__(self, data, user, *args, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.user = user
        self.today = timezone.localdate()
        self.fields["year"].max_value = self.today.year
        self.fields["year"].validators.append(_max_year(self.today.year))
        self.stages = national_stages()
        self.regions = region_choices(user)

    def clean_year(self):
        return self.cleaned_data["year"] or self.today.year - 1

    def clean_region(self):
        code = (self.cleaned_data["region"] or "").strip()
        if not code:
            return ""  # every region the user may see (an officer's analytics are scoped anyway)
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise ValidationError(_("未知的地区代码“%(code)s”。") % {"code": code}, code="unknown_region")
        paths = permissions.region_paths(self.user)
        if paths is not None and not any(region.path.startswith(p) for p in paths):
            raise ValidationError(_("地区“%(name)s”不在您的辖区内。") % {"name": local_name(region)}, code="out_of_scope")
        return code

    def clean_stage(self):
        code = (self.cleaned_data["stage"] or "").strip()
        if not code:
            return self.stages[0].code if self.stages else ""
        if code not in {s.code for s in self.stages[:-1]}:
            raise ValidationError(_("请选择一个起始阶段（最高一级之下）。"), code="unknown_stage")
        return code


def _max_year(year):
    def check(value):
        if value is not None and value > year:
            raise ValidationError(_("年份不能晚于 %(year)d 年。") % {"year": year}, code="max_value")
    return check


def funnel_stages(form):
    codes = [s.code for s in form.stages]
    return codes[codes.index(form.cleaned_data["stage"]):]


def target_region(form):
    """The region whose targets are shown: the chosen one, else the first in scope with targets."""
    if form.cleaned_data["region"]:
        return form.cleaned_data["region"]
    with_targets = PolicyTarget.objects.values_list("region_id", flat=True).order_by("region__path").distinct()
    scope = permissions.regions_in_scope(form.user)
    if scope is not None:
        with_targets = with_targets.filter(region__in=scope.values("code"))
    return with_targets.first() or ""


def target_years(region):
    years = PolicyTarget.objects.filter(region_id=region).values_list("year", flat=True)
    return sorted(set(years))


def compute(form, which):
    """The analytics result of one section, with the signed-in user's scope."""
    data, user = form.cleaned_data, form.user
    region = data["region"] or None
    if which == "funnel":
        return cached(analytics.funnel, funnel_stages(form), data["year"], region=region, user=user)
    if which == "transitions":
        return cached(analytics.stage_transitions, data["year"], region=region, user=user)
    if which == "cohorts":
        return analytics.cohort_table(data["stage"], region=region, user=user,
                                      first_year=data["year"] - COHORT_YEARS + 1, last_year=data["year"])
    if which == "targets":
        region = target_region(form)
        if not region:
            return region, []
        years = [y for y in target_years(region) if y <= data["year"] + TARGET_YEARS_AHEAD]
        return region, [(y, cached(analytics.target_progress, region, y, user=user)) for y in years]
    raise ValueError(which)


def _query(form, **extra):
    params = {k: form.cleaned_data[k] for k in ("year", "region", "stage") if form.cleaned_data.get(k)}
    params.update(extra)
    return urlencode(params)


def funnel_links(form, result):
    """Drill-down per funnel step: the cohort (step 0), or those of it that reached the step."""
    base = reverse("web:analytics_cohort")
    first = result["steps"][0]["stage"] if result["steps"] else ""
    links = []
    for k, step in enumerate(result["steps"]):
        extra = {"entry_year": result["cohort_year"], "stage": first}
        if k:
            extra.update(next_stage=step["stage"], reached=1)
        links.append(f"{base}?{_query(form, **extra)}")
    return links


def cohort_rows(form, result):
    """Cohort table rows with a drill-down link per cell (the firms that reached the next stage by then)."""
    base = reverse("web:analytics_cohort")
    out = []
    for row in result["rows"]:
        extra = {"entry_year": row["entry_year"], "stage": result["stage"], "next_stage": result["next_stage"]}
        cells = [(c, f"{base}?{_query(form, **extra, years=c['years_since_entry'], reached=1)}") for c in row["cells"]]
        out.append({"entry_year": row["entry_year"], "size": row["size"], "cells": cells,
                    "link": f"{base}?{_query(form, **extra)}"})
    return out


def target_chart(by_year):
    """ECharts data: per target line (a stage or tier, its kind, a window's start) its completion rate
    by year in per cent, with the counts for the tooltip. Rates, not counts: a stock of thousands of
    tech SMEs and a yearly flow of a few dozen unicorns share one axis (the table has the counts)."""
    stages, tiers = choices.names_by_code()
    kinds = {"STOCK": pgettext("target kind", "存量"), "FLOW": pgettext("target kind", "新增")}
    years = [year for year, _ in by_year]
    lines = {}
    for year, targets in by_year:
        for t in targets:
            what = tiers.get(t["tier"], t["tier"]) if t["tier"] else stages.get(t["stage"], t["stage"])
            # A year's own target continues the line of the years before; a window of years is a line of its own.
            window = (t["start_year"], t["year"]) if t["start_year"] and t["start_year"] < t["year"] else None
            line = lines.setdefault((t["stage"], t["tier"], t["kind"], window), {
                "name": f"{what} · {kinds[t['kind']]}" + (f" {window[0]}–{window[1]}" if window else ""), "points": {}})
            rate = None if t["ratio"] is None else round(t["ratio"] * 100, 1)
            line["points"][year] = {"value": rate, "actual": t["actual"], "target": t["target"]}
    return {"years": years, "axis": f"{_('完成率')} %",
            "series": [{"name": line["name"], "data": [line["points"].get(year) for year in years]}
                       for line in lines.values()]}


@page("analytics")
def analytics_page(request):
    form = AnalyticsForm(request.GET, request.user)
    if not form.is_valid():
        return render(request, "web/analytics/analytics.html", {"form": form}, status=400)
    names, tier_names = choices.names_by_code()  # in the page's language (the exports keep both)
    try:
        funnel = compute(form, "funnel")
        transitions = compute(form, "transitions")
        cohorts = compute(form, "cohorts")
        region, by_year = compute(form, "targets")
    except ValidationError as error:  # the analytics name the argument (stage, region…)
        _attach(form, error)
        return render(request, "web/analytics/analytics.html", {"form": form}, status=400)
    froms, tos, cells, _f, _t = tables.transition_matrix(transitions, names, no_stage=_("未入梯"))
    context = {
        "form": form, "query": _query(form),
        "funnel": funnel, "funnel_rows": list(zip(tables.funnel_table(funnel, names)[1], funnel_links(form, funnel))),
        "funnel_chart": [{"name": names.get(s["stage"], s["stage"]), "value": s["count"]} for s in funnel["steps"]],
        "matrix": {"froms": froms, "tos": tos, "rows": list(zip(froms, cells)),
                   "max": max([c for row in cells for c in row] or [0])},
        "transition_table": tables.transition_table(transitions, names),
        "cohorts": cohorts, "cohort_rows": cohort_rows(form, cohorts),
        "cohort_width": range(max((len(r["cells"]) for r in cohorts["rows"]), default=0)),
        "target_region": Region.objects.filter(code=region).first() if region else None,
        "targets": tables.target_table(by_year, names, tier_names), "target_chart": target_chart(by_year),
    }
    return render(request, "web/analytics/analytics.html", context)


class CohortForm(forms.Form):
    stage = forms.CharField(max_length=40)
    entry_year = forms.IntegerField(min_value=FIRST_YEAR, max_value=9999)
    next_stage = forms.CharField(required=False, max_length=40)
    years = forms.IntegerField(required=False, min_value=0, max_value=100)
    reached = forms.TypedChoiceField(required=False, choices=[("", ""), ("1", "1"), ("0", "0")],
                                     coerce=lambda v: v == "1", empty_value=None)
    region = forms.CharField(required=False, max_length=6)
    page = forms.IntegerField(required=False, min_value=1)


def cohort_firms(form, user):
    """The drill-down's rows, region names in the page's language: the page and its export both read
    them from here (the export says what the page shows, as the firms export does)."""
    data = form.cleaned_data
    rows = analytics.cohort_firms(
        data["stage"], data["entry_year"], next_stage=data["next_stage"] or None, years_since_entry=data["years"],
        reached=data["reached"], region=data["region"] or None, user=user,
    )
    for row in rows:
        row["region_name"] = local_name(row["firm"].region)
    return rows


def _region_in_scope(form, user):
    code = form.cleaned_data.get("region")
    if code:
        region = Region.objects.filter(code=code).first()
        paths = permissions.region_paths(user)
        if region is None or (paths is not None and not any(region.path.startswith(p) for p in paths)):
            form.add_error("region", _("地区“%(code)s”不存在或不在您的辖区内。") % {"code": code})
            return False
    return True


@page("analytics")
def cohort_page(request):
    """The firms behind a cohort or funnel number (drill-down), paged, each linked to its profile."""
    form = CohortForm(request.GET)
    rows = None
    if form.is_valid() and _region_in_scope(form, request.user):
        try:
            rows = cohort_firms(form, request.user)
        except ValidationError as error:
            _attach(form, error)
    if rows is None:
        return render(request, "web/analytics/cohort.html", {"form": form}, status=400)
    paginator = Paginator(rows, COHORT_PAGE)
    page_obj = paginator.get_page(form.cleaned_data["page"] or 1)
    params = request.GET.copy()
    params.pop("page", None)
    names = choices.names_by_code()[0]
    data = form.cleaned_data
    return render(request, "web/analytics/cohort.html", {
        "form": form, "page_obj": page_obj, "total": len(rows), "query": params.urlencode(),
        "stage_name": names.get(data["stage"], data["stage"]),
        "next_stage_name": names.get(data["next_stage"], data["next_stage"]) if data["next_stage"] else "",
        "region_name": local_name(Region.objects.filter(code=data["region"]).first()) if data["region"] else "",
    })


def _attach(form, error):
    """A registry ValidationError names its argument (stage, next_stage, region…): attach it there."""
    if hasattr(error, "message_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error.messages)


def table_for(which, form, request):
    """(header, rows, file stem) of one export — the same tables the page shows."""
    names = tables.stage_names()
    if which == "cohort-firms":
        header, rows = tables.cohort_firms_table(cohort_firms(form, request.user))
        return header, rows, f"cohort-{form.cleaned_data['stage']}-{form.cleaned_data['entry_year']}"
    year = form.cleaned_data["year"]
    if which == "funnel":
        header, rows = tables.funnel_table(compute(form, "funnel"), names)
    elif which == "transitions":
        header, rows = tables.transition_table(compute(form, "transitions"), names)
    elif which == "cohorts":
        header, rows = tables.cohort_table_rows(compute(form, "cohorts"))
    else:
        _region, by_year = compute(form, "targets")
        header, rows = tables.target_table(by_year, names)
    return header, rows, f"{which}-{year}"


@page("analytics")
def export(request, which, fmt):
    if which not in TABLES or fmt not in CONTENT_TYPES:
        raise Http404
    if which == "cohort-firms":
        form = CohortForm(request.GET)
        ok = form.is_valid() and _region_in_scope(form, request.user)
        template = "web/analytics/cohort.html"
    else:
        form = AnalyticsForm(request.GET, request.user)
        ok = form.is_valid()
        template = "web/analytics/analytics.html"
    if ok:
        try:
            header, rows, stem = table_for(which, form, request)
        except ValidationError as error:
            _attach(form, error)
            ok = False
    if not ok:
        return render(request, template, {"form": form}, status=400)
    return download([header, *rows], fmt, f"{stem}.{fmt}", which)
