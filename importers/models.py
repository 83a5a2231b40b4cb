"""Import jobs (导入任务): one recorded run per uploaded list, its row errors and its review list."""

from django.conf import settings
from django.db import models


class ImportKind(models.TextChoices):
    FIRMS = "firms", "企业名录 firms"
    RECOGNITIONS = "recognitions", "认定/入库名单 recognitions"
    INDICATORS = "indicators", "年度指标 indicators"
    TARGETS = "targets", "目标任务 policy targets"
    ALIASES = "aliases", "企业别名 aliases"  # brand, English and short names (零一万物, "Moonshot AI")
    # Facts the eligibility criteria need (issue 16); appliers in importers/eligibility_kinds.py.
    QUALIFICATIONS = "qualifications", "资质/奖项 qualifications"
    DETAILS = "details", "补充年度指标 indicator details"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "排队 queued"
    RUNNING = "running", "导入中 running"
    SUCCEEDED = "succeeded", "完成 succeeded"
    PARTIAL = "partial", "部分完成 partial"  # some rows rejected, held for review or pending
    FAILED = "failed", "失败 failed"  # the file could not be read, the job stopped, or every row failed


FINISHED = (JobStatus.SUCCEEDED, JobStatus.PARTIAL, JobStatus.FAILED)


class ImportJob(models.Model):
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="import_jobs")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    kind = models.CharField(max_length=14, choices=ImportKind.choices)
    file_name = models.CharField(max_length=255)
    file_path = models.CharField(max_length=500, blank=True, help_text="Stored copy under VAR_DIR/imports.")
    file_size = models.BigIntegerField(default=0)
    checksum = models.CharField("SHA-256", max_length=64, db_index=True)
    options = models.JSONField(default=dict, blank=True)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True)
    message = models.TextField(blank=True, help_text="Why the whole file failed, when it did.")
    total = models.PositiveIntegerField(default=0, help_text="Data rows read (blank rows and footnotes excluded).")
    processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    needs_review = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0, help_text="Rows rejected (duplicates included).")
    duplicates = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0, help_text="Blank rows, footnotes, totals.")
    firms_created = models.PositiveIntegerField(default=0)
    pending = models.PositiveIntegerField(default=0, help_text="Name-only rows waiting for an officer (待匹配).")
    skipped_lines = models.JSONField(default=list, blank=True,
                                     help_text="[[sheet, line, reason], …] of the lines left out (capped).")
    skipped_sheets = models.JSONField(default=list, blank=True, help_text="[[sheet, reason], …].")
    heartbeat_at = models.DateTimeField(null=True, blank=True,
                                        help_text="Written by the running job; a stale one means it stopped.")
    worker = models.CharField(max_length=100, blank=True, help_text="host:pid of the process running the job.")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"#{self.pk} {self.kind} {self.file_name} ({self.status})"

    @property
    def via(self):
        return f"import job {self.pk}"

    @property
    def clean(self):
        """True when every row imported: nothing rejected, nothing waiting for review."""
        return self.status == JobStatus.SUCCEEDED and not self.errors and not self.needs_review and not self.pending


class ImportRowError(models.Model):
    """One rejected row (or one problem with it), with the file's own line number and column."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    line = models.PositiveIntegerField()
    sheet = models.CharField(max_length=100, blank=True)
    field = models.CharField(max_length=60, blank=True)
    code = models.CharField(max_length=30, blank=True)
    message = models.TextField()

    class Meta:
        ordering = ["job", "sheet", "line", "id"]

    def __str__(self):
        return f"{self.sheet + ' ' if self.sheet else ''}line {self.line}: {self.message}"


class ReviewReason(models.TextChoices):
    CHECKSUM = "checksum", "统一社会信用代码校验位错误 USCC check digit fails"
    FUZZY_NAME = "fuzzy_name", "名称近似匹配 similar name, not identical"
    AMBIGUOUS = "ambiguous", "多家同名企业 several firms with this name"


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "待确认 pending"
    ACCEPTED = "accepted", "已接受 accepted"
    REJECTED = "rejected", "已驳回 rejected"


class ImportReviewItem(models.Model):
    """A row a person must confirm: never merged or trusted automatically, never dropped."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="review_items")
    line = models.PositiveIntegerField()
    sheet = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=12, choices=ReviewReason.choices)
    message = models.TextField()
    values = models.JSONField(default=dict, help_text="The cleaned row, as the import would apply it.")
    raw = models.JSONField(default=dict, blank=True, help_text="The row as published.")
    candidate_firm = models.ForeignKey("registry.Firm", null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="+")
    score = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING,
                              db_index=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "sheet", "line", "id"]

    def __str__(self):
        return f"job {self.job_id} line {self.line}: {self.get_reason_display()} ({self.status})"


class PendingStatus(models.TextChoices):
    PENDING = "pending", "待处理 pending"
    ATTACHED = "attached", "已关联 attached to a firm"
    CREATED = "created", "已建档 firm created"
    DISMISSED = "dismissed", "已忽略 dismissed"


class ImportPendingRow(models.Model):
    """A name-only row (unicorn list, MIIT name list) whose name matches no firm, alias or former name:
    kept until an officer attaches it to a firm or creates the firm once its USCC is known.
    Counted as pending, never as failed."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="pending_rows")
    line = models.PositiveIntegerField()
    sheet = models.CharField(max_length=100, blank=True)
    name = models.CharField(max_length=200)
    name_normalized = models.CharField(max_length=200, db_index=True)
    region = models.ForeignKey("registry.Region", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
                               help_text="The row's own region, when it names one (scope).")
    values = models.JSONField(default=dict, help_text="The cleaned row, as the import would apply it.")
    raw = models.JSONField(default=dict, blank=True, help_text="The row as published.")
    status = models.CharField(max_length=10, choices=PendingStatus.choices, default=PendingStatus.PENDING,
                              db_index=True)
    firm = models.ForeignKey("registry.Firm", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "sheet", "line", "id"]

    def __str__(self):
        return f"job {self.job_id} line {self.line}: {self.name} ({self.status})"
