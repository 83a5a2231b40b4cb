"""The cultivation pool (培育库) and the versioned eligibility rule sets behind the candidate finder."""

from django.conf import settings
from django.db import models


class PoolStatus(models.TextChoices):
    POOLED = "pooled", "入库 pooled"
    COACHING = "coaching", "辅导 coaching"
    APPLIED = "applied", "已申报 applied"
    RECOGNIZED = "recognized", "已认定 recognized"
    REJECTED = "rejected", "未通过 rejected"


OPEN_POOL_STATUSES = (PoolStatus.POOLED, PoolStatus.COACHING, PoolStatus.APPLIED)


class CultivationEntry(models.Model):
    firm = models.ForeignKey("registry.Firm", on_delete=models.CASCADE, related_name="cultivation_entries")
    target_stage = models.ForeignKey("registry.Stage", on_delete=models.PROTECT, related_name="+")
    target_tier = models.ForeignKey("registry.Tier", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    target_year = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=12, choices=PoolStatus.choices, default=PoolStatus.POOLED)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="cultivation_entries"
    )
    certification = models.ForeignKey(
        "registry.Certification", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The recognition that closed this entry as 已认定.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["firm", "target_stage", "target_year"], name="pool_unique_firm_target_year"
            )
        ]

    def __str__(self):
        return f"{self.firm_id} → {self.target_stage_id} {self.target_year} ({self.status})"


class CultivationNote(models.Model):
    entry = models.ForeignKey(CultivationEntry, on_delete=models.CASCADE, related_name="notes")
    noted_on = models.DateField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=12, choices=PoolStatus.choices, blank=True, help_text="Status set by this note.")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["noted_on", "id"]


class EligibilityRuleSet(models.Model):
    """Thresholds for one stage/tier, versioned by effective date and jurisdiction.

    The national rules are rows with no jurisdiction; a region's own rule set (jurisdiction set)
    overrides them for firms in that region and its sub-regions.
    """

    code = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    stage = models.ForeignKey("registry.Stage", on_delete=models.PROTECT, related_name="+")
    tier = models.ForeignKey("registry.Tier", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    jurisdiction = models.ForeignKey("registry.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    effective_from = models.DateField()
    effective_to = models.DateField(null=True, blank=True)
    source = models.CharField(max_length=255, blank=True)
    thresholds = models.JSONField(default=dict)

    class Meta:
        ordering = ["stage__rank", "effective_from"]

    def __str__(self):
        return self.code
