"""Firms (企业), keyed in business terms by their Unified Social Credit Code."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models

from registry.models.base import BulkReadModel


class ListingStatus(models.TextChoices):
    UNLISTED = "unlisted", "未上市 unlisted"
    LISTED = "listed", "已上市 listed"
    ACQUIRED = "acquired", "被并购 acquired"
    DEREGISTERED = "deregistered", "注销 deregistered"


class Firm(BulkReadModel):
    uscc = models.CharField("统一社会信用代码 USCC", max_length=18, unique=True)
    # A code that fails the GB 32100 check digit is only stored when an administrator accepts it.
    uscc_override_reason = models.TextField(blank=True)
    uscc_override_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    name = models.CharField("企业名称", max_length=200)
    name_normalized = models.CharField(max_length=200, db_index=True, editable=False)
    former_names = models.JSONField("曾用名", default=list, blank=True)
    founded_on = models.DateField("成立日期", null=True, blank=True, db_index=True)
    region = models.ForeignKey("registry.Region", on_delete=models.PROTECT, related_name="firms", db_index=False)
    chains = models.ManyToManyField("registry.IndustryChain", blank=True, related_name="firms")
    industry_code = models.CharField("国民经济行业代码", max_length=8, blank=True)
    registered_capital = models.DecimalField(
        "注册资本（万元）", max_digits=16, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    # ISO 4217 code of registered_capital (万 of that currency): registries print 万美元, 万欧元, 万港元 …
    registered_capital_currency = models.CharField("注册资本币种", max_length=3, blank=True, default="", db_default="")
    description = models.TextField(blank=True)
    main_products = models.TextField("主营产品", blank=True)
    technologies = models.TextField("核心技术", blank=True)
    listing_status = models.CharField(max_length=14, choices=ListingStatus.choices, default=ListingStatus.UNLISTED)

    # Derived state, kept right by registry.services only. No database foreign key (PROTECT stays: Django
    # enforces it on delete): every value is copied from one of the firm's own certifications, whose
    # stage and tier keys the database checks; a database key here only re-checked them, one lookup per
    # firm at COMMIT — 2 of the firm list's 5 deferred checks (docs/registry.md "Write pipeline performance").
    current_stage = models.ForeignKey(
        "registry.Stage", null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False,
        db_index=False, db_constraint=False,
    )
    current_tier = models.ForeignKey(
        "registry.Tier", null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False,
        db_constraint=False,
    )
    latest_indicators = models.ForeignKey(
        "registry.IndicatorYear", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False,
        db_index=False,
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        # Every index is paid for on each write (a 1,000,000-row import writes 1,000,000 entries into each),
        # so there is no single-column twin of a composite index's leading column, and the foreign keys that
        # are almost always empty are indexed only where set (what their ON DELETE lookups need).
        indexes = [
            models.Index(fields=["current_stage", "region", "id"], name="firm_stage_region"),
            models.Index(fields=["region", "id"], name="firm_region"),
            models.Index(fields=["uscc_override_by"], condition=models.Q(uscc_override_by__isnull=False),
                         name="firm_uscc_override_by"),
            models.Index(fields=["latest_indicators"], condition=models.Q(latest_indicators__isnull=False),
                         name="firm_latest_indicators"),
        ]

    def __str__(self):
        return f"{self.name} ({self.uscc})"


class AliasKind(models.TextChoices):
    BRAND = "brand", "品牌/简称 brand or short name"
    ENGLISH = "english", "英文名称 English name"
    OTHER = "other", "别名 other alias"


class FirmAlias(models.Model):
    """A name a firm is published under besides its registered name (零一万物, "Moonshot AI"):
    matched by importers (exact normalised name) and searched like a former name. Former names
    (曾用名) stay on Firm.former_names."""

    firm = models.ForeignKey(Firm, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=200)
    name_normalized = models.CharField(max_length=200, db_index=True, editable=False)
    kind = models.CharField(max_length=10, choices=AliasKind.choices, default=AliasKind.OTHER)
    source = models.CharField(max_length=255, blank=True, help_text="The list it came from.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["firm", "id"]
        constraints = [models.UniqueConstraint(fields=["firm", "name_normalized"], name="firm_alias_unique")]

    def __str__(self):
        return f"{self.name} → {self.firm_id}"
