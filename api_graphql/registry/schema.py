"""GraphQL fields of the registry domain (placeholder until the domain lands)."""


class RegistryQuery:
    pass


class RegistryMutation:
    pass

