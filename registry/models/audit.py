"""Audit trail: who changed which firm or recognition, when, and what changed."""

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    # History, not a live relation: no database foreign key or index. Each import writes an audit row
    # per firm and recognition; the key cost one lookup of the user per row at COMMIT. Deleting a user
    # leaves their id here (DO_NOTHING: no write, no scan of this table): the entry still says who
    # acted, and the user's own deletion entry (registry.receivers.user_deleted) names them. User ids are
    # never handed out again (PostgreSQL sequences, SQLite AUTOINCREMENT), so no new user inherits them.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.DO_NOTHING,
                              related_name="+", db_constraint=False, db_index=False)
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

    def actor_shown(self):
        """The actor's username, or the id of a user deleted since (the user's own deletion entry, model
        "user" and that id, keeps their name). With select_related("actor"), a deleted user reads as None."""
        if self.actor_id is None:
            return ""
        try:
            actor = self.actor
        except models.ObjectDoesNotExist:
            actor = None
        return actor.get_username() if actor is not None else f"#{self.actor_id}（已删除）"
