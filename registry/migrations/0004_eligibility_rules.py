"""Load the national default eligibility rule sets (registry.eligibility.defaults) as data.

Upserts by code, so correcting a threshold in defaults.py and re-running `load_rule_sets`
(see registry.eligibility.loader) updates the row; regional rule sets are never touched.
"""

from django.db import migrations


def load(apps, schema_editor):
    from registry.eligibility.loader import load_rule_sets

    load_rule_sets(apps.get_model("registry", "EligibilityRuleSet"), apps.get_model("registry", "Stage"),
                   apps.get_model("registry", "Tier"))


def unload(apps, schema_editor):
    from registry.eligibility.defaults import RULE_SETS

    apps.get_model("registry", "EligibilityRuleSet").objects.filter(code__in=[r["code"] for r in RULE_SETS]).delete()


class Migration(migrations.Migration):
    dependencies = [("registry", "0003_reference_data")]
    operations = [migrations.RunPython(load, unload)]
