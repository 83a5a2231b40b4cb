"""企业: the screening table (FirmFilterSet over firms_visible_to), its export, and the firm profile."""

from html import escape  # the stdlib function Django's escape() wraps, without its lazy-string wrapper
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from api_graphql.registry.schema import narrowed
from importers.exports import CONTENT_TYPES, download
from registry import cache as data_cache
from registry import uscc as uscc_codes
from registry.filtersets import FirmFilterSet, region_table
from registry.models import Firm, Role
from registry.permissions import INVESTOR_RESTRICTED_FIRM_FILTERS, firms_visible_to, role_of
from web import history
from web.access import page
from web.choices import stage_tier_names
from web.columns import FIRM_TABLE_INDICATORS, indicator_columns
from web.forms import FirmFilterForm, first_error, form_errors
from web.templatetags.firm_links import firm_url
from web.templatetags.web_format import BLANK, figure, region_name

PAGE_SIZE = 50


def restricted_filters(user):
    return INVESTOR_RESTRICTED_FIRM_FILTERS if role_of(user) == Role.INVESTOR else frozenset()


def screen(request):
    """(form, page rows, total, page number, columns): the firms the filters select, this page only.

    Rows are dicts from one values() query: the firm's columns and the shown indicator columns (the
    one join). Region, stage and tier names come from the cached reference tables (region_table(),
    web.choices), not from joins or model instances: building fifty instances over four tables cost
    the page as much as its GraphQL twin's whole answer (bench/pages.py).
    """
    form, queryset, columns = filtered(request)
    if queryset is None:
        return form, [], 0, 1, columns
    total = data_cache.count(queryset)  # the GraphQL twin's totalCount: remembered per data version (registry/cache.py)
    last_page = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    number = min(form.cleaned_data.get("page") or 1, last_page)
    rows = list(row_values(queryset, form, columns)[(number - 1) * PAGE_SIZE: number * PAGE_SIZE])
    return form, list(firm_rows(rows, columns)), total, number, columns


def row_values(queryset, form, columns):
    """The firms' table rows as values() in the screen's order: the columns firm_row reads."""
    return queryset.order_by(*form.ordering()).values(
        *ROW_COLUMNS, *(f"latest_indicators__{field}" for field, _label, _kind in columns))


def firm_rows(rows, columns):
    """firm_row over values() rows, with the region and stage/tier names read once."""
    regions, names = region_table(), stage_tier_names()
    return (firm_row(row, columns, regions, names) for row in rows)


def filtered(request):
    """(form, the firms the filters select in the user's scope — None when a filter is refused —, the
    indicator columns the user may read)."""
    form = FirmFilterForm(request.GET, user=request.user, restricted=restricted_filters(request.user))
    columns = indicator_columns(request.user, FIRM_TABLE_INDICATORS)
    if not form.is_valid():
        return form, None, columns
    data = form.filterset_data()
    # Only the filters given, as the GraphQL twin builds it: a FilterSet deep-copies every declared filter.
    filterset = narrowed(FirmFilterSet, frozenset(data))(data=data, queryset=firms_visible_to(request.user))
    try:
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        queryset = filterset.qs
    except ValidationError as error:  # e.g. a code removed since the page was drawn: name the field
        for field, problems in getattr(error, "message_dict", {"__all__": error.messages}).items():
            form.add_error(field if field in form.fields else None, " ".join(problems))
        return form, None, columns
    return form, queryset, columns


ROW_COLUMNS = ("uscc", "name", "founded_on", "region_id", "current_stage_id", "current_tier_id")


def firm_row(row, columns, regions, names):
    """A values() row with the names the table shows: region, stage and tier (local language) and the
    indicators as `figures` in column order."""
    region = regions.get(row["region_id"])
    return {
        "uscc": row["uscc"], "name": row["name"], "founded_on": row["founded_on"],
        "region": region_name(region) if region is not None else row["region_id"],
        "stage": names.get(("stage", row["current_stage_id"])), "tier": names.get(("tier", row["current_tier_id"])),
        "figures": [row[f"latest_indicators__{field}"] for field, _label, _kind in columns],
    }


def query_without(request, *names):
    return urlencode([(k, v) for k, v in request.GET.items() if k not in names and v != ""])


@page("firms")
def firm_list(request):
    form, firms, total, number, columns = screen(request)
    sort = request.GET.get("sort") or "id"
    return render(request, "web/firms.html", {
        "form": form, "filters_html": filters_html(form), "firms": firms, "rows_html": table_html(firms, columns),
        "total": total, "page": number, "export_cap": export_cap(),
        "pages": max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE), "columns": columns, "sort": sort,
        "base_query": query_without(request, "page", "sort"), "page_query": query_without(request, "page"),
        "export_query": query_without(request),
    })


def filters_html(form):
    """The filter fields (label, widget, errors) written here: Django renders each label through a
    template (label_tag), which cost the page more than its whole table (bench/pages.py)."""
    parts = []
    for field in form.visible_fields():
        if field.name == "sort":
            continue
        errors = format_html_join("", '<p class="field-error">{}: {}</p>', ((field.label, e) for e in field.errors))
        parts.append(format_html('<div class="field"><label for="{}">{}{}</label>{}{}</div>',
                                 field.id_for_label, field.label, form.label_suffix, field.as_widget(), errors))
    return mark_safe("\n".join(parts))


def table_rows(firms, columns):
    """The on-screen table as rows for an export: header, then one row per firm, in the page's order."""
    yield [_("统一社会信用代码"), _("企业名称"), _("地区"), _("当前阶段"), _("当前层级"), _("成立日期")] + \
          [str(label) for _, label, _ in columns]
    for firm in firms:
        yield [firm["uscc"], firm["name"], firm["region"], firm["stage"] or "", firm["tier"] or "",
               firm["founded_on"]] + firm["figures"]


ROW_HTML = ('<tr><td class="mono"><a href="{link}">{uscc}</a></td><td><a href="{link}">{name}</a></td>'
            '<td>{region}</td><td>{stage}</td><td>{tier}</td><td>{founded}</td>{figures}</tr>')


def table_html(firms, columns):
    """The table body: one precompiled row (ROW_HTML) filled per firm, every text escaped, rather than a
    template loop or format_html per cell: fifty rows of eleven cells were the page's largest cost after
    its query (bench/pages.py)."""
    if not firms:
        return format_html('<tr><td colspan="{}" class="muted">{}</td></tr>', len(columns) + 6, _("没有符合条件的企业。"))
    kinds = [kind for _field, _label, kind in columns]
    rows = []
    for firm in firms:
        link = escape(firm_url(firm["uscc"]))
        rows.append(ROW_HTML.format(
            link=link, uscc=escape(firm["uscc"]), name=escape(firm["name"]), region=escape(firm["region"]),
            stage=escape(firm["stage"] or BLANK), tier=escape(firm["tier"] or BLANK),
            founded=firm["founded_on"].isoformat() if firm["founded_on"] else BLANK,
            figures="".join(f'<td class="num">{escape(figure(value, kind))}</td>'
                            for value, kind in zip(firm["figures"], kinds))))
    return mark_safe("\n".join(rows))


def export_cap():
    """The most firms one export holds (EXPORT_PAGE_ROWS, as importers.exports pages its exports)."""
    return settings.EXPORT_PAGE_ROWS


@page("firms")
def firm_export(request, fmt):
    """What is on screen (the filters, sort, page and columns of the request) as CSV or XLSX, through
    importers.exports' writers (formula-injection guard); with `all=1` every firm of the screen, in the
    same order, up to export_cap() (the page says so when there are more)."""
    if fmt not in CONTENT_TYPES:
        raise Http404
    if request.GET.get("all") != "1":
        form, firms, _total, number, columns = screen(request)
        if not form.is_valid():
            return HttpResponseBadRequest(form_errors(form), content_type="text/plain; charset=utf-8")
        return download(table_rows(firms, columns), fmt, f"firms-{timezone.localdate():%Y%m%d}-p{number}.{fmt}",
                        "firms")
    form, queryset, columns = filtered(request)
    if queryset is None:
        return HttpResponseBadRequest(form_errors(form), content_type="text/plain; charset=utf-8")
    firms = firm_rows(row_values(queryset, form, columns)[:export_cap()].iterator(chunk_size=2000), columns)
    return download(table_rows(firms, columns), fmt, f"firms-{timezone.localdate():%Y%m%d}-all.{fmt}", "firms")


@require_POST
@page("firms")
def save_screen(request):
    query = request.POST.get("query", "")
    try:
        screen_ = history.save_screen(request.user, request.POST.get("name"), query)
    except ValidationError as error:
        messages.error(request, first_error(error))
        return redirect(f"{reverse('web:firms')}?{history.screen_query(query)}")
    messages.success(request, _("已保存筛选方案“%(name)s”。") % {"name": screen_.name})
    return redirect(f"{reverse('web:firms')}?{screen_.query}")


@require_POST
@page("firms")
def delete_screen(request, screen_id):
    if history.delete_screen(request.user, screen_id):
        messages.success(request, _("已删除筛选方案。"))
    return redirect("web:home")


def visible_firm_or_404(user, uscc):
    """The firm if the user may read it; 404 whether it is absent or outside the user's regions."""
    firm = firms_visible_to(user, Firm.objects.select_related("region", "current_stage", "current_tier")) \
        .filter(uscc=uscc_codes.normalize(uscc)).first()
    if firm is None:
        raise Http404
    return firm


@page("firms")
def firm_profile(request, uscc):
    from web.profile import profile_context

    firm = visible_firm_or_404(request.user, uscc)
    return render(request, "web/firm.html", profile_context(request, firm))

