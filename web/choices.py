"""Select options for the pages' forms, drawn from reference data and narrowed to the user's scope.

The reference rows are read once per process and kept until a stage, tier, region or chain is saved
or deleted (or a minute has passed): four queries on every firms page cost more than its own query
(bench/pages.py).
"""

import re
import time

from django.db.models.signals import post_delete, post_save
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from registry.models import IndustryChain, Region, Stage, Tier

TTL = 60.0
_rows = {}


def _reference(key, load):
    hit = _rows.get(key)
    if hit is None or time.monotonic() - hit[0] > TTL:
        hit = _rows[key] = (time.monotonic(), list(load()))
    return hit[1]


def forget(**kwargs):
    _rows.clear()


for _model in (Stage, Tier, Region, IndustryChain):
    post_save.connect(forget, sender=_model, dispatch_uid=f"web.choices.{_model.__name__}.save")
    post_delete.connect(forget, sender=_model, dispatch_uid=f"web.choices.{_model.__name__}.delete")

INDENT = "\u3000"  # an ideographic space per level, so the tree reads in a plain <select>


def _depth(path):
    return path.count("/") - 1


def _chains():
    return _reference("chains", lambda: IndustryChain.objects.order_by("path").values_list("code", "name", "name_en", "path"))


def chain_choices():
    return [("", _("全部产业链"))] + [(code, f"{INDENT * _depth(path)}{_local(name, name_en)}")
                                     for code, name, name_en, path in _chains()]


def chain_names():
    """{chain code: name} in the page's language."""
    return {code: _local(name, name_en) for code, name, name_en, _path in _chains()}


def local_name(obj):
    """Stages and tiers carry an English name (`name_en`); English pages use it."""
    return _local(obj.name, getattr(obj, "name_en", ""))


def english_page():
    """Whether the page is in English (else Chinese, the default)."""
    return (get_language() or "").startswith("en")


def _local(name, name_en):
    return (english_page() and name_en) or name


_HAN = re.compile("[\u3400-\u9fff]")


def in_page_language(label):
    """A bilingual choice label in the models' form "已过期 expired" in the page's language: its Chinese
    words, or its English ones (capitalised) on English pages. Any other label is shown as it is."""
    text = str(label)
    chinese, space, english = text.partition(" ")
    if not space or not _HAN.search(chinese) or _HAN.search(english):
        return text
    return english[:1].upper() + english[1:] if english_page() else chinese


def _stages():
    return _reference("stages", lambda: Stage.objects.order_by("rank").values_list("code", "name", "name_en"))


def stage_choices(blank=True):
    stages = [(code, _local(name, name_en)) for code, name, name_en in _stages()]
    return ([("", _("全部阶段"))] if blank else []) + stages


def names_by_code():
    """({stage code: name}, {tier code: name}) in the page's language (a stage and a tier may share a code)."""
    tiers = _reference("tier-codes", lambda: Tier.objects.values_list("code", "name", "name_en"))
    return ({code: _local(name, name_en) for code, name, name_en in _stages()},
            {code: _local(name, name_en) for code, name, name_en in tiers})


def stage_tier_names():
    """{("stage", id): name, ("tier", id): name} in the page's language (stage · tier rows of the tables)."""
    return _reference(("stage-tier-names", get_language()), lambda: [{
        **{("stage", pk): _local(name, name_en) for pk, name, name_en in Stage.objects.values_list("id", "name", "name_en")},
        **{("tier", pk): _local(name, name_en) for pk, name, name_en in Tier.objects.values_list("id", "name", "name_en")},
    }])[0]


def tier_choices():
    tiers = _reference("tiers", lambda: Tier.objects.order_by("stage__rank", "rank")
                       .values_list("code", "stage__name", "stage__name_en", "name", "name_en"))
    return [("", _("全部层级"))] + [(code, f"{_local(stage, stage_en)} · {_local(name, name_en)}")
                                    for code, stage, stage_en, name, name_en in tiers]
