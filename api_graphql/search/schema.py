"""GraphQL fields of the search domain (placeholder until the domain lands)."""


class SearchQuery:
    pass

