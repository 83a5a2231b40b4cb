"""The `search` query: full-text firm search with multi-select facets, in the caller's region scope.

The caller's scope (registry.permissions.regions_in_scope) becomes the backend's
`allowed_region_codes`, so hits and every facet count are limited alike; the hit firms are then
loaded in one query through FirmType's scoped queryset (the same row scope as `firms`).
"""

import logging

import graphene
from graphql import GraphQLError

from api_graphql.core.limits import check_page_size
from api_graphql.core.permissions import request_user
from api_graphql.registry.types import FirmType
from registry import permissions
from registry.models import Firm, IndustryChain, Region, Stage, Tier
from search.backends import get_backend
from search.backends.base import FACETS, SearchError, SearchRequest, SearchUnavailable

log = logging.getLogger(__name__)
UNAVAILABLE = "Search is temporarily unavailable; please try again later."
LABEL_MODELS = {"stage": (Stage, "code"), "tier": (Tier, "code"), "region": (Region, "code"),
                "chain": (IndustryChain, "code")}


class SearchHighlight(graphene.ObjectType):
    field = graphene.String(required=True)
    fragments = graphene.List(graphene.NonNull(graphene.String), required=True,
                              description="HTML fragments with matches in <em>…</em>; the rest escaped.")


class SearchHit(graphene.ObjectType):
    firm = graphene.Field(FirmType, required=True)
    score = graphene.Float(description="Relevance; null when browsing (empty query).")
    highlights = graphene.List(graphene.NonNull(SearchHighlight), required=True)


class FacetBucket(graphene.ObjectType):
    key = graphene.String(required=True)
    label = graphene.String(required=True)
    count = graphene.Int(required=True)


class SearchFacet(graphene.ObjectType):
    field = graphene.String(required=True)
    buckets = graphene.List(graphene.NonNull(FacetBucket), required=True)


class SearchPageInfo(graphene.ObjectType):
    has_next_page = graphene.Boolean(required=True)
    end_cursor = graphene.String()


class SearchResults(graphene.ObjectType):
    total = graphene.Int(required=True, description="Matches in your regions (beyond 10,000 counted, not served).")
    hits = graphene.List(graphene.NonNull(SearchHit), required=True)
    facets = graphene.List(graphene.NonNull(SearchFacet), required=True)
    page_info = graphene.Field(SearchPageInfo, required=True)
    next_cursor = graphene.String()


def allowed_region_codes(user):
    """Codes of the regions the user may see; None = every region."""
    scope = permissions.regions_in_scope(user)
    if scope is None:
        return None
    return tuple(scope.values_list("code", flat=True))


def facet_labels(facets):
    labels = {}
    for name, buckets in facets.items():
        codes = [code for code, _ in buckets]
        model, key = LABEL_MODELS[name]
        labels[name] = dict(model.objects.filter(**{f"{key}__in": codes}).values_list(key, "name")) if codes else {}
    return labels


def _codes(value):
    if value is None:
        return ()
    return tuple(v.strip() for v in value)


def _engine(call):
    """Run a backend call; bad arguments and engine failures become GraphQL errors that are safe to show."""
    try:
        return call()
    except SearchError as error:
        raise GraphQLError(f"Invalid argument {error}") from None
    except SearchUnavailable:
        raise GraphQLError(UNAVAILABLE) from None
    except Exception:  # an engine failure the backend did not wrap: log it, say nothing of it
        log.exception("search failed")
        raise GraphQLError(UNAVAILABLE) from None


def _searcher(info):
    user = request_user(info)
    if not permissions.role_of(user):
        raise GraphQLError("Authentication required.")
    return user


def _scoped_firms(ids, info):
    """The firms of ``ids`` the caller may see (FirmType's row scope), by id."""
    queryset = FirmType.get_queryset(Firm.objects.filter(id__in=ids), info)
    return {firm.id: firm for firm in queryset.select_related("region", "current_stage", "current_tier")}


class SearchQuery(graphene.ObjectType):
    search_suggest = graphene.List(
        graphene.NonNull(FirmType), required=True,
        prefix=graphene.String(required=True), first=graphene.Int(),
        description="Firms whose name, former name, fingerprint or pinyin starts with the prefix "
                    "(\"无锡芯\", \"wxx\"), best first; limited to your regions.",
    )
    search = graphene.Field(
        SearchResults, required=True,
        query=graphene.String(required=True), first=graphene.Int(), after=graphene.String(),
        stage=graphene.List(graphene.NonNull(graphene.String)), tier=graphene.List(graphene.NonNull(graphene.String)),
        region=graphene.List(graphene.NonNull(graphene.String)), chain=graphene.List(graphene.NonNull(graphene.String)),
        description="Firms matching the text (name, former names, pinyin, USCC, products, technologies, place), "
                    "best first, with stage/tier/region/chain facets; limited to your regions.",
    )

    def resolve_search(root, info, query, first=None, after=None, stage=None, tier=None, region=None, chain=None):
        first = check_page_size(first)
        user = _searcher(info)
        result = _engine(lambda: get_backend().search(SearchRequest(
            query=query, stage=_codes(stage), tier=_codes(tier), region=_codes(region), chain=_codes(chain),
            allowed_region_codes=allowed_region_codes(user), first=first, after=after, facets=FACETS,
        )))
        firms = _scoped_firms([hit.id for hit in result.hits], info)
        hits = [
            SearchHit(firm=firms[hit.id], score=hit.score,
                      highlights=[SearchHighlight(field=name, fragments=list(fragments))
                                  for name, fragments in hit.highlights.items() if fragments])
            for hit in result.hits if hit.id in firms  # a firm deleted since it was indexed drops out
        ]
        labels = facet_labels(result.facets)
        facets = [
            SearchFacet(field=name, buckets=[FacetBucket(key=code, label=labels[name].get(code, code), count=count)
                                             for code, count in buckets])
            for name, buckets in result.facets.items()
        ]
        return SearchResults(
            total=result.total, hits=hits, facets=facets, next_cursor=result.next_cursor,
            page_info=SearchPageInfo(has_next_page=result.next_cursor is not None, end_cursor=result.next_cursor),
        )

    def resolve_search_suggest(root, info, prefix, first=None):
        first = 10 if first is None else check_page_size(first)
        user = _searcher(info)
        suggestions = _engine(lambda: get_backend().suggest(
            prefix, limit=first, allowed_region_codes=allowed_region_codes(user)))
        firms = _scoped_firms([s.id for s in suggestions], info)
        return [firms[s.id] for s in suggestions if s.id in firms]
