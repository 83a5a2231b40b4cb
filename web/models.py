"""What the pages remember per user: saved firm screens and recent searches (the investor's home)."""

from django.conf import settings
from django.db import models


class SavedScreen(models.Model):
    """A named set of filters of the firms page, kept as its query string (e.g. `stage=hnte&region=320583`)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_screens")
    name = models.CharField(max_length=80)
    query = models.CharField(max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "name"], name="web_saved_screen_unique_name")]

    def __str__(self):
        return f"{self.user_id}: {self.name}"


class RecentSearch(models.Model):
    """A search a user ran; web.history keeps the last RECENT_SEARCHES_KEPT per user."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recent_searches")
    text = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="web_recent_user_created")]

    def __str__(self):
        return f"{self.user_id}: {self.text}"
