"""Number formats of the pages: thousands separators, percentages from fractions, blanks as —."""

import html
from decimal import Decimal

from django import template
from django.template.defaultfilters import floatformat
from django.utils.formats import number_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy

from web.choices import english_page
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
def unmet_list(items):
    """Unmet criteria as list items (the profile's and the candidates table's, see UnmetList)."""
    return UnmetList()(items)


# A gap's unit code (the rule sets' "unit", registry.eligibility) as the page says it, and the factor its
# figure is shown at: shares as percentage points (0.02 ratio → 2 个百分点), counts and flags bare.
GAP_UNITS = {
    "money": (pgettext_lazy("gap unit", "万元"), 1), "usd": (pgettext_lazy("gap unit", "美元"), 1),
    "ratio": (pgettext_lazy("gap unit", "个百分点"), 100), "points": (pgettext_lazy("gap unit", "分"), 1),
    "years": (pgettext_lazy("gap unit", "年"), 1), "date": (pgettext_lazy("gap unit", "天"), 1),
    "count": ("", 1), "flag": ("", 1),
}


class UnmetList:
    """Unmet criteria as HTML list items: a tag (缺数据 or 差距), the text in the page's language, the gap.
    Written in Python, not as an include per item: the includes were most of the candidates page's time
    (bench/pages.py). Made once per page: the language and the translated tags are looked up once."""

    def __init__(self):
        self.english = english_page()
        self.missing = f'<span class="tag warn">{html.escape(_("缺数据"))}</span>'
        self.short = f'<span class="tag no">{html.escape(_("差距"))}</span>'
        self.gap_word = html.escape(_("差"))
        self.units = {code: (f" {html.escape(str(word))}" if str(word) else "", scale)
                      for code, (word, scale) in GAP_UNITS.items()}

    def __call__(self, items):
        parts = []
        for item in items or ():
            text = (item.get("text_en") if self.english else item.get("text_zh")) or item.get("text")
            gap = ""
            if item.get("gap") is not None and not item.get("missing"):
                code = item.get("unit")
                unit, scale = self.units.get(code, (f" {html.escape(code)}" if code else "", 1))
                shown = floatformat(item["gap"] * scale, "-2")
                gap = f' <span class="muted">（{self.gap_word} {html.escape(shown)}{unit}）</span>'
            parts.append(f"<li>{self.missing if item.get('missing') else self.short} {html.escape(text)}{gap}</li>")
        return mark_safe("".join(parts))


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
def in_page_language(label):
    """A bilingual choice label in the page's language (web.choices.in_page_language)."""
    from web.choices import in_page_language as local_label

    return local_label(label)


@register.filter
def named(obj):
    """A stage's, tier's or industry chain's name in the page's language: `name_en` on English pages when recorded."""
    from web.choices import local_name

    return local_name(obj) if obj is not None else ""


@register.simple_tag
def region_picker(name, value, element_id):
    """{% region_picker "region" params.region "c-region" %}: the searchable region tree (web/widgets.py)."""
    from web.widgets import region_picker_html

    return region_picker_html(name, value, element_id)
