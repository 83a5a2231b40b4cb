"""Load the national default eligibility rule sets (registry.eligibility.defaults) as data, and add
two indexes the pipeline analytics need.

Rule sets upsert by code, so correcting a threshold in defaults.py and calling
registry.eligibility.loader.load_rule_sets again updates the row; regional rule sets are never touched.

Indexes (raw SQL valid on SQLite and PostgreSQL, so the models' state is unchanged; measured with
bench/analytics.py on 200k firms / 736k recognitions, SQLite):
- cert_stage_issued_cover (stage_id, issued_on, firm_id, status): "recognised at a stage in a
  year" (funnel cohort, FLOW targets) is an index-only range scan;
- cert_firm_stage_issued (firm_id, stage_id, issued_on, status): the per-firm "first date at each
  stage" aggregation of the funnel and cohort table, and "none earlier" anti-joins, read only this
  index (funnel 1.1 s → 0.39 s on SQLite);
- cert_validity_cover (valid_until, valid_from, firm_id, stage_id, status, revoked_on): "held on a
  day" for transitions and STOCK targets becomes an index-only range scan (0.67 s → 0.42 s).
"""

from django.db import migrations

INDEXES = {
    "cert_stage_issued_cover": "registry_certification (stage_id, issued_on, firm_id, status)",
    "cert_firm_stage_issued": "registry_certification (firm_id, stage_id, issued_on, status)",
    "cert_validity_cover": "registry_certification (valid_until, valid_from, firm_id, stage_id, status, revoked_on)",
}


def load(apps, schema_editor):
    from registry.eligibility.loader import load_rule_sets

    load_rule_sets(apps.get_model("registry", "EligibilityRuleSet"), apps.get_model("registry", "Stage"),
                   apps.get_model("registry", "Tier"))


def unload(apps, schema_editor):
    from registry.eligibility.defaults import RULE_SETS

    apps.get_model("registry", "EligibilityRuleSet").objects.filter(code__in=[r["code"] for r in RULE_SETS]).delete()


class Migration(migrations.Migration):
    dependencies = [("registry", "0003_reference_data")]
    operations = [migrations.RunPython(load, unload)] + [
        migrations.RunSQL(f"CREATE INDEX IF NOT EXISTS {name} ON {target}", f"DROP INDEX IF EXISTS {name}")
        for name, target in INDEXES.items()
    ]
