from django.db import migrations, models


def forwards(apps, schema_editor):
    from registry.reference import load_reference_data

    # Every region of GB/T 2260 (was: Jiangsu and one row per other province); idempotent.
    load_reference_data(apps.get_model("registry", "Region"), apps.get_model("registry", "IndustryChain"))
    # Capital stored so far was always read as 万元 (renminbi).
    apps.get_model("registry", "Firm").objects.filter(registered_capital__isnull=False).update(
        registered_capital_currency="CNY")


class Migration(migrations.Migration):
    dependencies = [("registry", "0009_eligibility_local_schemes")]

    operations = [
        migrations.AddField(
            model_name="firm",
            name="registered_capital_currency",
            field=models.CharField(blank=True, db_default="", default="", max_length=3, verbose_name="注册资本币种"),
        ),
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
