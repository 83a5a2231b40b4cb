from django.apps import AppConfig


class ImportersConfig(AppConfig):
    name = "importers"
    verbose_name = "Imports 名单导入"
    default_auto_field = "django.db.models.BigAutoField"
