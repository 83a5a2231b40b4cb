"""Yearly indicators (年度指标) per firm. Money in 万元, ratios as fractions."""

from django.core.validators import MinValueValidator
from django.db import models

from registry.models.base import BulkReadModel
from django.db.models import Case, F, FloatField, Value, When
from django.db.models.functions import Cast


def money(label):
    return models.DecimalField(
        label, max_digits=16, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )


def count(label):
    return models.PositiveIntegerField(label, null=True, blank=True)


class IndicatorYear(BulkReadModel):
    firm = models.ForeignKey("registry.Firm", on_delete=models.CASCADE, related_name="indicators")
    year = models.PositiveSmallIntegerField()
    revenue = money("营业收入（万元）")
    revenue_growth = models.FloatField(
        "营收增长率", null=True, blank=True,
        help_text="Derived from the previous year's revenue when both are known; else as reported.",
    )
    rd_expense = money("研发费用（万元）")
    total_cost = money("成本费用总额（万元）")
    employees = count("从业人员")
    rd_staff = count("研发/科技人员")
    ip_class1 = count("Ⅰ类知识产权")
    ip_class2 = count("Ⅱ类知识产权")
    invention_patents = count("发明专利")
    hightech_revenue = money("高新技术产品（服务）收入（万元）")
    total_assets = money("资产总额（万元）")
    debt_ratio = models.FloatField("资产负债率", null=True, blank=True)
    new_equity_financing = money("新增股权融资（万元）")
    valuation_usd = models.DecimalField("估值（美元）", max_digits=18, decimal_places=0, null=True, blank=True)
    # Derived in the database so it can never disagree with the two numbers it comes from.
    rd_intensity = models.GeneratedField(
        expression=Case(
            When(revenue__gt=0, then=Cast(F("rd_expense"), FloatField()) / Cast(F("revenue"), FloatField())),
            default=Value(None),
            output_field=FloatField(),
        ),
        output_field=FloatField(),
        db_persist=True,
    )
    source_name = models.CharField(max_length=255, blank=True)
    source_row = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["firm_id", "year"]
        constraints = [
            models.UniqueConstraint(fields=["firm", "year"], name="indicator_unique_year"),
            models.CheckConstraint(
                condition=models.Q(debt_ratio__isnull=True) | models.Q(debt_ratio__gte=0),
                name="indicator_debt_ratio_non_negative",
            ),
        ]
        indexes = [models.Index(fields=["rd_intensity"], name="indicator_rd_intensity")]

    def __str__(self):
        return f"{self.firm_id} {self.year}"
