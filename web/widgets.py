"""Form widgets rendered in Python.

Django renders every <option> of a Select through a template include: ~0.1 ms an option, so a region
select (hundreds of regions; thousands with the national list) cost the firms page more than its
query. FastSelect writes the same markup with format_html (every label and value escaped).
"""

from functools import lru_cache

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import mark_safe


@lru_cache(maxsize=64)
def _options(choices):
    """Each option's markup, escaped once per list of choices (the national region list has 3,300
    options: escaping them on every request cost the firms page 140 ms): [(value, plain, selected)]."""
    return [(str(code), format_html('<option value="{}">{}</option>', code, label),
             format_html('<option value="{}" selected>{}</option>', code, label)) for code, label in choices]


class FastSelect(forms.Select):
    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        attrs["name"] = name
        chosen = {str(v) for v in (value if isinstance(value, (list, tuple)) else [value]) if v is not None}
        # labels may be lazy translations: the cache key holds their text in the active language
        key = tuple((code, str(label)) for code, label in self.choices)
        options = "".join(selected if code in chosen else plain for code, plain, selected in _options(key))
        return format_html("<select{}>{}</select>", flatatt(attrs), mark_safe(options))


class FastInputMixin:
    """An <input> written with format_html (same markup as Django's input.html template)."""

    def render(self, name, value, attrs=None, renderer=None):
        context = self.get_context(name, value, attrs)["widget"]
        attrs = dict(context["attrs"], type=context["type"], name=context["name"])
        if context["value"] is not None:
            attrs["value"] = context["value"]
        return format_html("<input{}>", flatatt(attrs))


class FastDateInput(FastInputMixin, forms.DateInput):
    pass


class FastNumberInput(FastInputMixin, forms.NumberInput):
    pass


def region_picker_html(name, value, element_id):
    """The region picker (web/static/web/regions.js): a searchable, lazily loaded tree of the user's regions
    in place of a <select> of 3,300 options. Without JavaScript it is a text box for a region code; the
    script turns that box into the hidden value and adds the tree (children from /regions/)."""
    from django.urls import reverse
    from django.utils.translation import gettext as _

    from web import regions

    value = (value or "").strip()
    shown = regions.label(value) if value else _("全部地区")
    return format_html(
        '<div class="region-picker" data-url="{url}" data-all="{all}">'
        '<input type="text" name="{name}" id="{id}" value="{value}" class="rp-value" maxlength="6" '
        'inputmode="numeric" placeholder="{code}" title="{code}">'
        '<button type="button" class="rp-toggle" aria-haspopup="tree" aria-expanded="false" '
        'aria-controls="{id}-panel">{shown}</button>'
        '<div class="rp-panel" id="{id}-panel" hidden>'
        '<input type="search" class="rp-search" placeholder="{search}" aria-label="{search}" autocomplete="off">'
        '<button type="button" class="rp-all link">{all}</button>'
        '<ul class="rp-results" role="listbox" hidden></ul>'
        '<ul class="rp-tree" role="tree" aria-label="{label}"></ul>'
        '<p class="rp-empty muted" hidden>{none}</p>'
        '</div></div>',
        url=reverse("web:regions"), all=_("全部地区"), name=name, id=element_id, value=value,
        code=_("地区代码（6 位）"), shown=shown or value, search=_("搜索地区：名称、拼音或代码"),
        label=_("地区"), none=_("没有匹配的地区。"),
    )


class RegionPicker(forms.TextInput):
    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs)
        return region_picker_html(name, value if isinstance(value, str) else "", attrs.get("id") or f"id_{name}")
