from django.db import migrations


def load(apps, schema_editor):
    from registry.reference import load_reference_data

    load_reference_data(apps.get_model("registry", "Region"), apps.get_model("registry", "IndustryChain"))


class Migration(migrations.Migration):
    dependencies = [("registry", "0002_ladder")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
