"""Select options for the pages' forms, drawn from reference data and narrowed to the user's scope."""

from django.utils.translation import gettext as _

from registry.models import IndustryChain, Region, Stage, Tier
from registry.permissions import regions_in_scope

INDENT = "\u3000"  # an ideographic space per level, so the tree reads in a plain <select>


def _depth(path):
    return path.count("/") - 1


def region_choices(user):
    """(code, indented name) of every region the user may filter by: an officer's regions and below."""
    scope = regions_in_scope(user)
    regions = (Region.objects.all() if scope is None else scope).order_by("path").values_list("code", "name", "path")
    rows = list(regions)
    top = min((_depth(p) for _, _, p in rows), default=0)
    return [("", _("全部地区"))] + [(code, f"{INDENT * (_depth(path) - top)}{name} {code}") for code, name, path in rows]


def chain_choices():
    chains = IndustryChain.objects.order_by("path").values_list("code", "name", "path")
    return [("", _("全部产业链"))] + [(code, f"{INDENT * _depth(path)}{name}") for code, name, path in chains]


def stage_choices(blank=True):
    stages = list(Stage.objects.order_by("rank").values_list("code", "name"))
    return ([("", _("全部阶段"))] if blank else []) + stages


def tier_choices():
    tiers = Tier.objects.select_related("stage").order_by("stage__rank", "rank")
    return [("", _("全部层级"))] + [(t.code, f"{t.stage.name} · {t.name}") for t in tiers]
