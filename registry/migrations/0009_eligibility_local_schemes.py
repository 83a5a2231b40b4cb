"""Reload the national rule sets (issue 16: direct routes, 高企 innovation score and R&D inside China,
2026 main-business share and IP waivers, clauses and Chinese labels) and load the local schemes of
registry/data/local_schemes.json (苏州市瞪羚计划, 苏州工业园区 瞪羚 / 瞪羚培育, 无锡 雏鹰 / 瞪羚 库 and
准独角兽, 苏州市独角兽培育), each with its jurisdiction. Both upsert by code."""

from django.db import migrations


def load(apps, schema_editor):
    from registry.eligibility.loader import load_local_schemes, load_rule_sets

    rule, stage, tier = (apps.get_model("registry", name) for name in ("EligibilityRuleSet", "Stage", "Tier"))
    load_rule_sets(rule, stage, tier)
    region = apps.get_model("registry", "Region")
    if region.objects.filter(code__in=["320500", "320571", "320200"]).count() == 3:  # reference data loaded
        load_local_schemes(rule, stage, tier, region)


def unload(apps, schema_editor):
    from registry.eligibility.loader import local_scheme_specs

    apps.get_model("registry", "EligibilityRuleSet").objects.filter(
        code__in=[s["code"] for s in local_scheme_specs()]).delete()


class Migration(migrations.Migration):
    dependencies = [("registry", "0008_qualifications_and_indicator_details")]
    operations = [migrations.RunPython(load, unload)]
