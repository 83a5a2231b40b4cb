"""Admin: import jobs with their counts and row errors; the review list with accept/reject actions."""

from django.contrib import admin, messages

from importers.models import ImportJob, ImportReviewItem, ImportRowError, ReviewStatus
from importers.services import ImportRefused, accept_review_item, reject_review_item


class ImportRowErrorInline(admin.TabularInline):
    model = ImportRowError
    fields = ("sheet", "line", "field", "code", "message")
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0
    show_change_link = False


class ImportReviewItemInline(admin.TabularInline):
    model = ImportReviewItem
    fields = ("sheet", "line", "reason", "message", "candidate_firm", "score", "status")
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0
    show_change_link = True


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("id", "created_at", "created_by", "kind", "file_name", "status", "dry_run", "total", "created",
                    "updated", "unchanged", "needs_review", "errors", "duplicates")
    list_filter = ("status", "kind", "dry_run")
    search_fields = ("file_name", "checksum")
    readonly_fields = [f.name for f in ImportJob._meta.fields]
    inlines = [ImportRowErrorInline, ImportReviewItemInline]

    def has_add_permission(self, request):
        return False  # imports start from the command, the API or a task, never a bare form


@admin.register(ImportReviewItem)
class ImportReviewItemAdmin(admin.ModelAdmin):
    list_display = ("id", "job", "line", "reason", "message", "candidate_firm", "score", "status", "decided_by")
    list_filter = ("status", "reason")
    readonly_fields = ("job", "line", "sheet", "reason", "message", "values", "raw", "score", "status", "decided_by",
                       "decided_at")
    fields = readonly_fields[:4] + ("candidate_firm", "decision_note") + readonly_fields[4:]
    raw_id_fields = ("candidate_firm",)
    actions = ["accept", "reject"]

    @admin.action(description="Accept: apply the row (a bad check digit needs an administrator and the override "
                              "reason written in the decision note)")
    def accept(self, request, queryset):
        done = 0
        for item in queryset.filter(status=ReviewStatus.PENDING).select_related("job", "candidate_firm"):
            try:
                accept_review_item(item, request.user, override_reason=item.decision_note)
                done += 1
            except ImportRefused as error:
                self.message_user(request, f"Line {item.line}: {error}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} row(s) applied.", messages.SUCCESS)

    @admin.action(description="Reject: do not import these rows")
    def reject(self, request, queryset):
        for item in queryset.filter(status=ReviewStatus.PENDING):
            reject_review_item(item, request.user, item.decision_note)
        self.message_user(request, "Rejected.", messages.SUCCESS)
