"""Reuse the API test fixtures (users per role, the POST /graphql helper, the small registry)."""

from tests.api_graphql.conftest import (  # noqa: F401
    admin, analyst, city_officer, cold_code_cache, gql, investor, make_user, no_verified_tokens, officer,
    registry_data, wuxi_officer,
)
