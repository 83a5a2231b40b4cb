"""Number formats of the pages: thousands separators, percentages from fractions, blanks as —."""

from decimal import Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()
BLANK = "—"


@register.filter
def figure(value, kind="int"):
    if value is None or value == "":
        return BLANK
    if kind == "pct":
        return f"{float(value) * 100:.1f}%"
    if kind == "money":
        return number_format(Decimal(value).quantize(Decimal("1")) if isinstance(value, Decimal) else value,
                             decimal_pos=0, force_grouping=True)
    if kind == "ratio":
        return f"{float(value) * 100:.0f}%"
    return number_format(value, force_grouping=True)


@register.filter
def attr(obj, name):
    return getattr(obj, name, None) if obj is not None else None


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None
