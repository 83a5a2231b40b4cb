"""Number formats of the pages: thousands separators, percentages from fractions, blanks as —."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format

from web.regions import local_name

register = template.Library()
BLANK = "—"


@register.filter
def figure(value, kind="int"):
    if value is None or value == "":
        return BLANK
    if kind == "pct":
        return f"{float(value) * 100:.1f}%"
    # Both page languages group thousands with "," (zh-hans and en formats), so Python's own grouping
    # gives what number_format(force_grouping=True) does at a fraction of its cost (~50 µs a cell).
    if kind == "money":
        return f"{Decimal(value):,.0f}"
    if kind == "ratio":
        return f"{float(value) * 100:.0f}%"
    if isinstance(value, int):
        return f"{value:,}"
    return number_format(value, force_grouping=True)


@register.filter
def attr(obj, name):
    return getattr(obj, name, None) if obj is not None else None


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def region_name(region):
    """A region's name in the page's language (web.regions.local_name: 昆山市, or Kunshan on English pages)."""
    return local_name(region)


@register.filter
def named(obj):
    """A stage's or tier's name in the page's language: `name_en` on English pages when recorded."""
    from web.choices import local_name

    return local_name(obj) if obj is not None else ""


@register.simple_tag
def region_picker(name, value, element_id):
    """{% region_picker "region" params.region "c-region" %}: the searchable region tree (web/widgets.py)."""
    from web.widgets import region_picker_html

    return region_picker_html(name, value, element_id)
