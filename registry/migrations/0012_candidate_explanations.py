from django.db import migrations, models


def ranking_stale(apps, schema_editor):
    # Rows ranked before this migration carry no explanation: the candidates answer live until
    # `manage.py analytics_rebuild` (or the nightly task) stores them.
    apps.get_model("registry", "PipelineState").objects.filter(name="candidates").update(
        complete=False, note="explanations added (migration 0011): rebuild")


class Migration(migrations.Migration):
    dependencies = [("registry", "0011_registry_version")]

    operations = [
        migrations.AddField(model_name="candidaterank", name="rule_set",
                            field=models.CharField(default="", max_length=80)),
        migrations.AddField(model_name="candidaterank", name="unmet", field=models.JSONField(default=list)),
        migrations.RunPython(ranking_stale, migrations.RunPython.noop),
    ]
