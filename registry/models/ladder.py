"""The ladder (梯度) as data: stages and tiers with ranks, levels and default validity.

A region may add its own rung (e.g. 雏鹰 eaglet between tech_sme and gazelle) by adding a Stage
with `region` set; it then appears in the ladder of that region and every region under it.
"""

from django.db import models

from registry.models.base import BulkReadModel


class Level(models.TextChoices):
    NATIONAL = "national", "国家级 national"
    PROVINCIAL = "provincial", "省级 provincial"
    MUNICIPAL = "municipal", "市级 municipal"
    DISTRICT = "district", "区县级 district"


class ValidityRule(models.TextChoices):
    """How a tier's default validity period is computed from the issue date."""

    CALENDAR_YEAR = "calendar_year", "until 31 December of the issue year"
    MONTHS = "months", "a number of months from the issue date"
    LIST_YEAR = "list_year", "until 31 December of the list year"


class Stage(BulkReadModel):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=60)  # 中文 name shown to officers
    name_en = models.CharField(max_length=80, blank=True)
    # Ranks are spaced (10, 20, ...) so a region can slot a rung in between without renumbering.
    rank = models.PositiveIntegerField()
    region = models.ForeignKey(
        "registry.Region",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text="Set for a rung that only one region (and its sub-regions) uses.",
    )

    class Meta:
        ordering = ["rank"]

    def __str__(self):
        return f"{self.name} ({self.code})"


class Tier(BulkReadModel):
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="tiers")
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=60)
    name_en = models.CharField(max_length=80, blank=True)
    rank = models.PositiveIntegerField(help_text="Order inside the stage, lowest first.")
    level = models.CharField(max_length=12, choices=Level.choices)
    validity_rule = models.CharField(
        max_length=16, choices=ValidityRule.choices, default=ValidityRule.MONTHS
    )
    validity_months = models.PositiveIntegerField(null=True, blank=True)
    is_list_membership = models.BooleanField(
        default=False, help_text="A list or pool entry (瞪羚, 独角兽) rather than a numbered certificate."
    )

    class Meta:
        ordering = ["stage__rank", "rank"]

    def __str__(self):
        return f"{self.name} ({self.code})"
