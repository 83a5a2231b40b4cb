"""Which role may use which page: the ONE table behind the navigation bar and the access check.

The navigation shows a page only to the roles listed here, and `web.access.page` refuses every
other role on direct access (HTTP 403 with a page that says so). Derived from registry.permissions
and docs/api.md: investors (投资团队) read firm profiles and public indicators only, so the
candidate finder, the cultivation pool and the analytics drill-downs (internal indicators) are
not theirs; imports write, so only officers and admins import.
"""

import functools
from dataclasses import dataclass

from django.urls import NoReverseMatch, get_script_prefix, reverse
from django.utils.translation import gettext_lazy as _

from registry.models import Role

EVERYONE = frozenset(Role.values)
INTERNAL = frozenset({Role.ADMIN, Role.OFFICER, Role.ANALYST})  # registry.permissions.can_read_cultivation
WRITERS = frozenset({Role.ADMIN, Role.OFFICER})  # importers.services: admins and officers import


@dataclass(frozen=True)
class Page:
    key: str
    label: str
    url_name: str
    roles: frozenset


PAGES = (
    Page("home", _("首页"), "web:home", EVERYONE),
    Page("firms", _("企业"), "web:firms", EVERYONE),
    Page("search", _("搜索"), "web:search", EVERYONE),
    Page("candidates", _("候选企业"), "web:candidates", INTERNAL),
    Page("pool", _("培育库"), "web:pool", INTERNAL),
    Page("analytics", _("分析"), "web:analytics", INTERNAL),
    Page("imports", _("名单导入"), "web:imports", WRITERS),
)
BY_KEY = {p.key: p for p in PAGES}


def may_use(role, key):
    return role in BY_KEY[key].roles


def nav_for(role, current=None):
    """[(label, url, is_current)] of the pages this role may use, in bar order.

    A page whose view is not installed (its url name does not reverse) is left out rather than
    linked to a 404.
    """
    return [(p.label, url, p.key == current) for p, url in _linked(role, get_script_prefix())]


@functools.lru_cache(maxsize=64)
def _linked(role, _script_prefix):
    """(page, url) per page of the role, reversed once per process and script prefix (every page
    drew the bar, seven reverse() calls a request)."""
    items = []
    for p in PAGES:
        if role not in p.roles:
            continue
        try:
            items.append((p, reverse(p.url_name)))
        except NoReverseMatch:
            continue
    return tuple(items)
