"""Admin: import jobs with their counts and row errors; the review list with accept/reject actions;
pending rows (name-only rows no firm has) attached to a firm, turned into a new firm, or dismissed."""

from django import forms
from django.contrib import admin, messages

from importers.models import ImportJob, ImportPendingRow, ImportReviewItem, ImportRowError, PendingStatus, ReviewStatus
from importers.pending import attach_pending_row, create_firm_for_pending, dismiss_pending_row
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
                    "updated", "unchanged", "needs_review", "pending", "errors", "duplicates")
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


class PendingRowForm(forms.ModelForm):
    uscc = forms.CharField(label="统一社会信用代码 USCC", required=False,
                           help_text="To create the firm: its USCC (region from the row or the USCC).")
    region = forms.CharField(label="地区 region", required=False, help_text="Only if neither the row nor the USCC says.")

    class Meta:
        model = ImportPendingRow
        fields = ("firm", "note")


@admin.register(ImportPendingRow)
class ImportPendingRowAdmin(admin.ModelAdmin):
    """Choose a firm (attach) or give a USCC (create the firm) and save; or dismiss with the action."""

    form = PendingRowForm
    list_display = ("id", "job", "line", "name", "region", "status", "firm", "decided_by")
    list_filter = ("status",)
    search_fields = ("name",)
    raw_id_fields = ("firm",)
    readonly_fields = ("job", "line", "sheet", "name", "region", "values", "raw", "status", "decided_by", "decided_at")
    actions = ["dismiss"]

    def has_add_permission(self, request):
        return False

    def save_model(self, request, obj, form, change):
        if obj.status != PendingStatus.PENDING or not ({"firm", "uscc"} & set(form.changed_data)):
            return super().save_model(request, obj, form, change)
        row = ImportPendingRow.objects.select_related("job").get(pk=obj.pk)
        try:
            if form.cleaned_data.get("uscc"):
                create_firm_for_pending(row, request.user, uscc=form.cleaned_data["uscc"],
                                        region=form.cleaned_data.get("region") or None, note=obj.note)
            else:
                attach_pending_row(row, request.user, obj.firm, note=obj.note)
        except ImportRefused as error:
            self.message_user(request, f"Line {row.line}: {error}", messages.ERROR)

    @admin.action(description="Dismiss: not a firm the registry keeps")
    def dismiss(self, request, queryset):
        for row in queryset.filter(status=PendingStatus.PENDING):
            dismiss_pending_row(row, request.user, row.note)
        self.message_user(request, "Dismissed.", messages.SUCCESS)
