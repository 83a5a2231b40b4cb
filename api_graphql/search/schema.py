"""The `search` query: full-text firm search with multi-select facets, in the caller's region scope.

The search itself (the caller's region scope on hits, counts, facets and suggestions; the hit firms
loaded through the firms list's row scope) is search.queries, shared with the web search page.
"""

import logging

import graphene
from graphql import FieldNode, GraphQLError

from api_graphql.core.limits import check_page_size
from api_graphql.core.permissions import request_user
from api_graphql.registry.types import FirmType
from registry import permissions
from search import queries
from search.backends.base import SearchError, SearchUnavailable

log = logging.getLogger(__name__)
UNAVAILABLE = "Search is temporarily unavailable; please try again later."


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


def _selects(info, name):
    """Whether the request selects ``name`` on this field (a fragment counts as yes: not resolved here).
    Facets are a pass over every match, so a client paging through hits without them saves it."""
    for node in info.field_nodes:
        for selection in node.selection_set.selections if node.selection_set else ():
            if not isinstance(selection, FieldNode) or selection.name.value == name:
                return True
    return False


def _searcher(info):
    user = request_user(info)
    if not permissions.role_of(user):
        raise GraphQLError("Authentication required.")
    return user


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
        page = _engine(lambda: queries.search_firms(
            user, query, stage=_codes(stage), tier=_codes(tier), region=_codes(region), chain=_codes(chain),
            first=first, after=after, facets=queries.FACETS if _selects(info, "facets") else ()))
        hits = [
            SearchHit(firm=item.firm, score=item.hit.score,
                      highlights=[SearchHighlight(field=name, fragments=list(fragments))
                                  for name, fragments in item.hit.highlights.items() if fragments])
            for item in page.hits
        ]
        facets = [
            SearchFacet(field=name, buckets=[FacetBucket(key=b.key, label=b.label, count=b.count) for b in buckets])
            for name, buckets in page.facets.items()
        ]
        return SearchResults(
            total=page.total, hits=hits, facets=facets, next_cursor=page.next_cursor,
            page_info=SearchPageInfo(has_next_page=page.next_cursor is not None, end_cursor=page.next_cursor),
        )

    def resolve_search_suggest(root, info, prefix, first=None):
        first = 10 if first is None else check_page_size(first)
        user = _searcher(info)
        return _engine(lambda: queries.suggest_firms(user, prefix, limit=first))
