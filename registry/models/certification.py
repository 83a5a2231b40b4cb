"""Recognitions (认定/入库/评价/名单): what a firm holds or held, with where the record came from."""

from django.db import models

from registry.models.base import BulkReadModel
from django.db.models import F, Q

from registry.models.ladder import Level


class CertificationStatus(models.TextChoices):
    ACTIVE = "active", "有效 active"
    EXPIRED = "expired", "已过期 expired"
    REVOKED = "revoked", "已撤销 revoked"
    SUPERSEDED = "superseded", "已换证 superseded by a renewal"


class Certification(BulkReadModel):
    # Indexed by the composite indexes below, which lead with them (cert_unique_start, cert_stage_from,
    # cert_tier_issued).
    firm = models.ForeignKey("registry.Firm", on_delete=models.CASCADE, related_name="certifications", db_index=False)
    stage = models.ForeignKey("registry.Stage", on_delete=models.PROTECT, related_name="+", db_index=False)
    tier = models.ForeignKey("registry.Tier", on_delete=models.PROTECT, related_name="+", db_index=False)
    authority = models.CharField("认定机构", max_length=120, blank=True)
    level = models.CharField(max_length=12, choices=Level.choices)
    batch = models.CharField("批次", max_length=60, blank=True)
    batch_year = models.PositiveSmallIntegerField(null=True, blank=True)
    certificate_no = models.CharField("证书/登记编号", max_length=40, blank=True)
    issued_on = models.DateField("发证日期")
    valid_from = models.DateField()
    valid_until = models.DateField()
    status = models.CharField(max_length=12, choices=CertificationStatus.choices, default=CertificationStatus.ACTIVE)
    revoked_on = models.DateField(null=True, blank=True)
    revocation_reason = models.TextField(blank=True)
    renews = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="renewals", db_index=False,
        help_text="The earlier recognition of the same tier that this one renews (重新认定).",
    )
    # Provenance: which imported list, which row, which file.
    source_name = models.CharField(max_length=255, blank=True)
    source_row = models.PositiveIntegerField(null=True, blank=True)
    source_checksum = models.CharField(max_length=64, blank=True)
    import_job_id = models.BigIntegerField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["issued_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["firm", "tier", "certificate_no"],
                condition=~Q(certificate_no=""),
                name="cert_unique_number",
                violation_error_message="This firm already holds this tier with this certificate number.",
            ),
            models.UniqueConstraint(
                fields=["firm", "tier", "valid_from"],
                name="cert_unique_start",
                violation_error_message="This firm already holds this tier from this date.",
            ),
            models.CheckConstraint(
                condition=Q(valid_until__gte=F("issued_on")) & Q(valid_until__gte=F("valid_from")),
                name="cert_validity_after_issue",
                violation_error_message="valid_until must not be before the issue date or valid_from.",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "valid_until"], name="cert_status_until"),
            models.Index(fields=["tier", "issued_on"], name="cert_tier_issued"),
            models.Index(fields=["stage", "valid_from"], name="cert_stage_from"),
            models.Index(fields=["renews"], condition=Q(renews__isnull=False), name="cert_renews"),
            # An officer's lapsing counts (web home): from the district's firms, each firm's active
            # recognitions by date, read from the index alone; without it PostgreSQL hash-joined every
            # active recognition lapsing nationally (421,400 at 1,000,000 firms) to the district's firms.
            models.Index(fields=["firm", "valid_until"], condition=Q(status="active"), name="cert_active_firm_until"),
        ]

    def __str__(self):
        return f"{self.tier.code} {self.certificate_no or self.batch} ({self.issued_on})"
