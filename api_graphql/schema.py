"""The GraphQL schema, composed from one sub-module per domain (Saleor's layout).

Each domain module exposes a Query mixin and a Mutation mixin; adding a domain is one line here.
"""

import graphene

from api_graphql.analytics.schema import AnalyticsMutation, AnalyticsQuery
from api_graphql.eligibility.schema import EligibilityMutation, EligibilityQuery
from api_graphql.imports.schema import ImportMutation, ImportQuery
from api_graphql.registry.schema import RegistryMutation, RegistryQuery
from api_graphql.search.schema import SearchQuery


class Query(RegistryQuery, SearchQuery, AnalyticsQuery, ImportQuery, EligibilityQuery, graphene.ObjectType):
    pass


class Mutation(RegistryMutation, AnalyticsMutation, ImportMutation, EligibilityMutation, graphene.ObjectType):
    pass


schema = graphene.Schema(query=Query, mutation=Mutation)
