from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    verbose_name = "Cultivar registry 企业库"

    def ready(self):
        from registry import receivers  # noqa: F401  (reference edits mark the precomputed tables stale)
