# The import kinds of issue 16 (qualifications, details) beside aliases: the choices after both.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('importers', '0002_pending_rows_heartbeat_report'),
    ]

    operations = [
        migrations.AlterField(
            model_name='importjob',
            name='kind',
            field=models.CharField(choices=[('firms', '企业名录 firms'), ('recognitions', '认定/入库名单 recognitions'), ('indicators', '年度指标 indicators'), ('targets', '目标任务 policy targets'), ('aliases', '企业别名 aliases'), ('qualifications', '资质/奖项 qualifications'), ('details', '补充年度指标 indicator details')], max_length=14),
        ),
    ]
