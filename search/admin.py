"""Admins see the search outbox: which firms search does not show as they are now, and why."""

from django.contrib import admin, messages

from search import outbox
from search.models import PendingIndex


@admin.register(PendingIndex)
class PendingIndexAdmin(admin.ModelAdmin):
    list_display = ("firm_id", "reason", "attempts", "first_failed_at", "last_failed_at")
    readonly_fields = list_display
    search_fields = ("=firm_id",)
    actions = ("replay_now",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="立即重新索引 replay now")
    def replay_now(self, request, queryset):
        result = outbox.replay()
        level = messages.WARNING if result["error"] else messages.SUCCESS
        self.message_user(request, f"Replayed {result['replayed']}; {result['pending']} pending"
                                   + (f"; search still failing: {result['error']}" if result["error"] else "."), level)
