from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "web"
    verbose_name = "Workbench pages 工作台"
    default_auto_field = "django.db.models.BigAutoField"
