"""Audit trail: who changed which firm or recognition, when, and what changed."""

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # History, not a live relation: no database foreign key or index (SET_NULL stays: Django applies it
    # when a user is deleted, one UPDATE that scans this table, a rare admin act). Each import writes an
    # audit row per firm and recognition; the key cost one lookup of the user per row at COMMIT.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                              db_constraint=False, db_index=False)
    via = models.CharField(max_length=60, blank=True, help_text="Door the change came in by: admin, api, import job 12, sweep…")
    action = models.CharField(max_length=30)
    model = models.CharField(max_length=40)
    object_id = models.CharField(max_length=40)
    firm_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.model} {self.object_id}"
