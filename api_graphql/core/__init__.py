"""Shared GraphQL machinery: auth, limits, field permissions, loaders, keyset pagination, mutation errors."""
