"""Select options for the pages' forms, drawn from reference data and narrowed to the user's scope.

The reference rows are read once per process and kept until a stage, tier, region or chain is saved
or deleted (or a minute has passed): four queries on every firms page cost more than its own query
(bench/pages.py).
"""

import time

from django.db.models.signals import post_delete, post_save
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from registry.models import IndustryChain, Region, Stage, Tier
from registry.permissions import region_paths

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


def region_choices(user):
    """(code, indented name) of every region the user may filter by: an officer's regions and below.
    Built once per scope and language (kept with the region rows, so forgotten with them)."""
    paths = region_paths(user)
    scope = None if paths is None else tuple(sorted(paths))
    return _reference(("region_choices", scope, get_language()), lambda: _region_choices(scope))


def _region_choices(paths):
    rows = _reference("regions", lambda: Region.objects.order_by("path").values_list("code", "name", "path"))
    if paths is not None:
        rows = [row for row in rows if row[2].startswith(paths)] if paths else []
    top = min((_depth(p) for _, _, p in rows), default=0)
    return [("", _("全部地区"))] + [(code, f"{INDENT * (_depth(path) - top)}{name} {code}") for code, name, path in rows]


def chain_choices():
    chains = _reference("chains", lambda: IndustryChain.objects.order_by("path").values_list("code", "name", "path"))
    return [("", _("全部产业链"))] + [(code, f"{INDENT * _depth(path)}{name}") for code, name, path in chains]


def local_name(obj):
    """Stages and tiers carry an English name (`name_en`); English pages use it."""
    return _local(obj.name, getattr(obj, "name_en", ""))


def _local(name, name_en):
    return ((get_language() or "").startswith("en") and name_en) or name


def stage_choices(blank=True):
    rows = _reference("stages", lambda: Stage.objects.order_by("rank").values_list("code", "name", "name_en"))
    stages = [(code, _local(name, name_en)) for code, name, name_en in rows]
    return ([("", _("全部阶段"))] if blank else []) + stages


def tier_choices():
    tiers = _reference("tiers", lambda: Tier.objects.order_by("stage__rank", "rank")
                       .values_list("code", "stage__name", "stage__name_en", "name", "name_en"))
    return [("", _("全部层级"))] + [(code, f"{_local(stage, stage_en)} · {_local(name, name_en)}")
                                    for code, stage, stage_en, name, name_en in tiers]
