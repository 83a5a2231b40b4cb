"""GraphQL fields of the analytics domain (placeholder until the domain lands)."""


class AnalyticsQuery:
    pass


class AnalyticsMutation:
    pass

