"""A user's search, in one place for every door (the GraphQL `search`/`searchSuggest` fields, the web
search page): the caller's region scope, the backend call, the hit firms loaded through the same row
scope as the firms list, and the facet buckets with their names.

The caller's scope (registry.permissions.regions_in_scope) becomes the backend's
`allowed_region_codes`, so hits, totals, every facet count and every suggestion are limited alike; the
hit firms are then loaded in one query through registry.permissions.firms_visible_to. Errors are the
backend's: SearchError (the caller can fix it; safe to show) and SearchUnavailable.
"""

from __future__ import annotations

from dataclasses import dataclass

from registry import permissions
from registry.models import Firm, IndustryChain, Region, Stage, Tier
from search.backends import get_backend
from search.backends.base import FACETS, Hit, SearchRequest

LABEL_MODELS = {"stage": (Stage, "code"), "tier": (Tier, "code"), "region": (Region, "code"),
                "chain": (IndustryChain, "code")}


@dataclass(frozen=True)
class FirmHit:
    firm: Firm
    hit: Hit


@dataclass(frozen=True)
class FacetBucket:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class SearchPage:
    total: int
    hits: list[FirmHit]
    facets: dict[str, list[FacetBucket]]  # facet name → buckets, count desc then code
    next_cursor: str | None


def allowed_region_codes(user):
    """Codes of the regions the user may see; None = every region."""
    scope = permissions.regions_in_scope(user)
    if scope is None:
        return None
    return tuple(scope.values_list("code", flat=True))


def facet_labels(facets):
    """{facet: {code: name}} for the codes in the buckets, one query per facet."""
    labels = {}
    for name, buckets in facets.items():
        codes = [code for code, _ in buckets]
        model, key = LABEL_MODELS[name]
        labels[name] = dict(model.objects.filter(**{f"{key}__in": codes}).values_list(key, "name")) if codes else {}
    return labels


def scoped_firms(user, ids, queryset=None):
    """The firms of ``ids`` the user may see, by id (a firm deleted since it was indexed drops out)."""
    queryset = Firm.objects.all() if queryset is None else queryset
    visible = permissions.firms_visible_to(user, queryset.filter(id__in=ids))
    return {firm.id: firm for firm in visible.select_related("region", "current_stage", "current_tier")}


def search_firms(user, query, *, stage=(), tier=(), region=(), chain=(), first=20, after=None, queryset=None,
                 facets=FACETS):
    """One page of hits (firms in the user's scope, best first) with labelled multi-select facets.

    ``facets=()`` skips the counting (a pass over every match) for callers that show no facets."""
    result = get_backend().search(SearchRequest(
        query=query, stage=tuple(stage or ()), tier=tuple(tier or ()), region=tuple(region or ()),
        chain=tuple(chain or ()), allowed_region_codes=allowed_region_codes(user), first=first, after=after,
        facets=tuple(facets),
    ))
    firms = scoped_firms(user, [hit.id for hit in result.hits], queryset)
    labels = facet_labels(result.facets)
    return SearchPage(
        total=result.total,
        hits=[FirmHit(firms[hit.id], hit) for hit in result.hits if hit.id in firms],
        facets={name: [FacetBucket(code, labels[name].get(code, code), count) for code, count in buckets]
                for name, buckets in result.facets.items()},
        next_cursor=result.next_cursor,
    )


def suggest_firms(user, prefix, limit=10, queryset=None):
    """Firms whose name, former name, fingerprint or pinyin starts with ``prefix``, in the user's scope."""
    suggestions = get_backend().suggest(prefix, limit=limit, allowed_region_codes=allowed_region_codes(user))
    firms = scoped_firms(user, [s.id for s in suggestions], queryset)
    return [firms[s.id] for s in suggestions if s.id in firms]
