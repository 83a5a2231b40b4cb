"""The default ladder as the published policies describe it (Kunshan 2025–2027 order)."""

from django.db import migrations

STAGES = [
    # code, 中文, English, rank
    ("tech_sme", "科技型中小企业", "Tech-based SME", 10),
    ("hnte", "高新技术企业", "High and new technology enterprise", 20),
    ("gazelle", "瞪羚企业", "Gazelle", 30),
    ("srdi", "专精特新", "Specialised, refined, distinctive, innovative (SRDI)", 40),
    ("unicorn", "独角兽", "Unicorn", 50),
]

TIERS = [
    # stage, code, 中文, English, rank, level, validity rule, months, list membership
    ("tech_sme", "tech_sme", "国家科技型中小企业（评价入库）", "Tech SME (evaluated and registered)", 1, "national", "calendar_year", None, False),
    ("tech_sme", "tech_innovative_sme", "科技和创新型中小企业", "Tech and innovative SME (2026 rules)", 2, "provincial", "months", 36, False),
    ("hnte", "hnte", "高新技术企业", "High-tech enterprise", 1, "national", "months", 36, False),
    ("gazelle", "gazelle_municipal", "市级瞪羚企业", "Municipal gazelle", 1, "municipal", "months", 24, True),
    ("gazelle", "gazelle_provincial", "省级瞪羚企业", "Provincial gazelle", 2, "provincial", "months", 24, True),
    ("srdi", "srdi_innovative", "创新型中小企业", "Innovative SME", 1, "provincial", "months", 36, False),
    ("srdi", "srdi_sme", "专精特新中小企业", "SRDI SME", 2, "provincial", "months", 36, False),
    ("srdi", "srdi_little_giant", "专精特新“小巨人”企业", "SRDI little giant", 3, "national", "months", 36, False),
    ("unicorn", "unicorn_seed", "种子独角兽", "Seed unicorn", 1, "municipal", "list_year", None, True),
    ("unicorn", "unicorn_potential", "潜在独角兽/准独角兽/独角兽培育企业", "Potential unicorn", 2, "municipal", "list_year", None, True),
    ("unicorn", "unicorn", "独角兽", "Unicorn", 3, "national", "list_year", None, True),
]


def load(apps, schema_editor):
    Stage = apps.get_model("registry", "Stage")
    Tier = apps.get_model("registry", "Tier")
    stages = {}
    for code, name, name_en, rank in STAGES:
        stages[code], _ = Stage.objects.update_or_create(
            code=code, defaults={"name": name, "name_en": name_en, "rank": rank}
        )
    for stage, code, name, name_en, rank, level, rule, months, is_list in TIERS:
        Tier.objects.update_or_create(
            code=code,
            defaults={
                "stage": stages[stage], "name": name, "name_en": name_en, "rank": rank, "level": level,
                "validity_rule": rule, "validity_months": months, "is_list_membership": is_list,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
