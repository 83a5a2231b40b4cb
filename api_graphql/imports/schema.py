"""GraphQL fields of the imports domain (placeholder until the domain lands)."""


class ImportQuery:
    pass


class ImportMutation:
    pass

