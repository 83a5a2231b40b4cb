"""Policy targets (目标任务) written in city and provincial plans."""

from django.db import models
from django.db.models import Q


class TargetKind(models.TextChoices):
    STOCK = "stock", "STOCK: held at the end of the year"
    FLOW = "flow", "FLOW: newly gained in [start_year, year]"


class PolicyTarget(models.Model):
    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="targets")
    stage = models.ForeignKey("registry.Stage", on_delete=models.PROTECT, related_name="+")
    tier = models.ForeignKey(
        "registry.Tier", null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Blank means any tier of the stage.",
    )
    kind = models.CharField(max_length=5, choices=TargetKind.choices)
    start_year = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="FLOW only: first year counted (defaults to the target year)."
    )
    year = models.PositiveSmallIntegerField()
    target = models.PositiveIntegerField()
    source = models.CharField(max_length=255, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["region_id", "year", "stage__rank"]
        constraints = [
            # Two partial constraints because NULL tiers are never equal in a plain unique index.
            models.UniqueConstraint(
                fields=["region", "stage", "tier", "kind", "year"],
                condition=Q(tier__isnull=False),
                name="target_unique_with_tier",
            ),
            models.UniqueConstraint(
                fields=["region", "stage", "kind", "year"],
                condition=Q(tier__isnull=True),
                name="target_unique_any_tier",
            ),
        ]

    def __str__(self):
        return f"{self.region_id} {self.stage_id} {self.kind} {self.year}: {self.target}"
