"""Reuse the API test fixtures (users per role, the POST /graphql helper)."""

from tests.api_graphql.conftest import (  # noqa: F401
    admin, analyst, city_officer, gql, investor, make_user, officer, wuxi_officer,
)
