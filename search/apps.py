from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from registry.signals import firms_changed
        from search.indexing import on_firms_changed

        firms_changed.connect(on_firms_changed, dispatch_uid="search.index_firms_on_change")
