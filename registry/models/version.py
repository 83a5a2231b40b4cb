"""The registry's data version: one row whose token changes after every committed write.

registry.cache keys remembered analytics answers by it, so every process (gunicorn workers, the
importer, Celery) sees a write at once, whichever cache backend holds the answers. A token, not a
counter: a rolled-back or flushed database (tests) never repeats a token it once had with other data.
"""

from django.db import models


class RegistryVersion(models.Model):
    name = models.CharField(max_length=40, primary_key=True)  # "registry"
    token = models.CharField(max_length=32)
    changed_at = models.DateTimeField()
