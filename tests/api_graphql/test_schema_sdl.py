"""The committed schema.graphql must match the code (Saleor checks this in CI)."""

from pathlib import Path

from graphql import print_schema

from api_graphql.schema import schema

SDL = Path(__file__).resolve().parents[2] / "schema.graphql"
REGENERATE = ".venv/bin/python manage.py graphql_schema --schema api_graphql.schema.schema --out schema.graphql"


def test_committed_schema_matches_the_code():
    printed = print_schema(schema.graphql_schema)
    committed = SDL.read_text(encoding="utf-8") if SDL.exists() else ""
    assert committed == printed, (
        f"schema.graphql is out of date with the code. If the change is intended, regenerate it with\n"
        f"    {REGENERATE}\nand commit it (check that no contract name changed: test_contract_names_are_in_the_schema below)."
    )


def test_contract_names_are_in_the_schema():
    printed = print_schema(schema.graphql_schema)
    for name in ["firm(uscc: String!): FirmType", "firms(", "ladder(region: String)", "expiringCertificates(before: Date!",
                 "upsertFirm(", "recordCertification(", "revokeCertification(", "upsertIndicators(", "totalCount: Int!",
                 "revenueGrowthMin: Decimal", "certificateExpiringBefore: Date", "rdIntensityMin: Decimal"]:
        assert name in printed, name
