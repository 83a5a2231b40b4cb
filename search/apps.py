from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from registry.models import IndustryChain, Region, Stage, Tier
        from registry.signals import firms_changed
        from search.indexing import forget_vocabulary, on_firms_changed

        firms_changed.connect(on_firms_changed, dispatch_uid="search.index_firms_on_change")
        # Filter codes are validated against a cached vocabulary; a new code must count at once.
        for model in (Stage, Tier, Region, IndustryChain):
            for signal in (post_save, post_delete):
                signal.connect(forget_vocabulary, sender=model, dispatch_uid=f"search.vocabulary.{model.__name__}")
