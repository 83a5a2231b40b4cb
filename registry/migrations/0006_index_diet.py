"""Fewer indexes to keep up on each write (bench/import_recognitions.py; a large import writes one
entry per row into every index of registry_firm and registry_certification).

- Single-column foreign-key indexes that a composite index already leads with are dropped
  (firm.region: firm_region; firm.current_stage: firm_stage_region; certification.firm:
  cert_unique_start; .stage: cert_stage_from; .tier: cert_tier_issued).
- Foreign keys that are almost always empty (USCC override, latest indicators, renewal link) are
  indexed where set only: their ON DELETE lookups are all this index is for.
- On PostgreSQL Django gives unique or indexed text columns a varchar_pattern_ops twin for
  LIKE 'prefix%'. Nothing queries firm.uscc or firm.name_normalized that way (USCC fragments and
  names are searched in the search index), so the twins are dropped.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


PATTERN_TWINS = {
    "registry_firm_uscc_05f3ac02_like": "uscc",
    "registry_firm_name_normalized_12751b30_like": "name_normalized",
}


def drop_pattern_twins(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in PATTERN_TWINS:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


def restore_pattern_twins(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, column in PATTERN_TWINS.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON registry_firm ({column} varchar_pattern_ops)")


class Migration(migrations.Migration):

    dependencies = [
        ('registry', '0005_analytics_precomputed'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='certification',
            name='firm',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='certifications', to='registry.firm'),
        ),
        migrations.AlterField(
            model_name='certification',
            name='renews',
            field=models.ForeignKey(blank=True, db_index=False, help_text='The earlier recognition of the same tier that this one renews (重新认定).', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='renewals', to='registry.certification'),
        ),
        migrations.AlterField(
            model_name='certification',
            name='stage',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='registry.stage'),
        ),
        migrations.AlterField(
            model_name='certification',
            name='tier',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='registry.tier'),
        ),
        migrations.AlterField(
            model_name='firm',
            name='current_stage',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='registry.stage'),
        ),
        migrations.AlterField(
            model_name='firm',
            name='latest_indicators',
            field=models.ForeignKey(blank=True, db_index=False, editable=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='registry.indicatoryear'),
        ),
        migrations.AlterField(
            model_name='firm',
            name='region',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='firms', to='registry.region'),
        ),
        migrations.AlterField(
            model_name='firm',
            name='uscc_override_by',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddIndex(
            model_name='certification',
            index=models.Index(condition=models.Q(('renews__isnull', False)), fields=['renews'], name='cert_renews'),
        ),
        migrations.AddIndex(
            model_name='firm',
            index=models.Index(condition=models.Q(('uscc_override_by__isnull', False)), fields=['uscc_override_by'], name='firm_uscc_override_by'),
        ),
        migrations.AddIndex(
            model_name='firm',
            index=models.Index(condition=models.Q(('latest_indicators__isnull', False)), fields=['latest_indicators'], name='firm_latest_indicators'),
        ),
        migrations.RunPython(drop_pattern_twins, restore_pattern_twins),
    ]
