"""Facts the published criteria need beyond the yearly indicators (issue 16).

- `Qualification` (资质/奖项): a dated, levelled fact about a firm — a science award, a recognised
  R&D institution, a standard the firm led, an honour. The 科小 and 创新型 direct routes, the 专精特新
  direct conditions and the 2026 IP waivers read them (registry.eligibility.facts).
- `IndicatorDetail` (补充年度指标): yearly figures the rules need that the statistics return of
  `IndicatorYear` does not carry: R&D spent inside China, main-business revenue, and the four items
  of the 高企 innovation-capability score. One row per firm and year; every figure may be unknown
  (null), and unknown is never read as zero.
Both are written only through registry.services.qualifications (audited).
"""

from django.core.validators import MaxValueValidator
from django.db import models

from registry.models.indicators import money


class QualificationKind(models.TextChoices):
    SCIENCE_AWARD = "science_award", "科学技术奖 science & technology award"
    RD_INSTITUTION = "rd_institution", "研发机构 R&D institution"
    STANDARD_LED = "standard_led", "主导制定标准 standard led"
    HONOUR = "honour", "荣誉称号 honour"
    COMPETITION = "competition", "创客中国 competition ranking"


class QualificationLevel(models.TextChoices):
    INTERNATIONAL = "international", "国际 international"
    NATIONAL = "national", "国家级 national"
    INDUSTRY = "industry", "行业 industry"
    PROVINCIAL = "provincial", "省部级 provincial/ministerial"
    MUNICIPAL = "municipal", "市级 municipal"
    DISTRICT = "district", "区县级 district"


class Qualification(models.Model):
    firm = models.ForeignKey("registry.Firm", on_delete=models.CASCADE, related_name="qualifications")
    kind = models.CharField(max_length=20, choices=QualificationKind.choices)
    level = models.CharField(max_length=16, choices=QualificationLevel.choices)
    name = models.CharField("名称", max_length=200)
    issuer = models.CharField("颁发/认定机构", max_length=200, blank=True)
    awarded_on = models.DateField("获得/认定日期")
    valid_until = models.DateField("有效期至", null=True, blank=True,
                                   help_text="R&D institutions and honours lapse; awards and standards do not.")
    rank = models.PositiveSmallIntegerField("完成单位排名", null=True, blank=True,
                                            help_text="Place among the completing units (awards: top-3 / top-5 rules).")
    reference = models.CharField("文号/证书号/标准号", max_length=120, blank=True)
    source_name = models.CharField(max_length=255, blank=True)
    source_row = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["firm_id", "awarded_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["firm", "kind", "name", "awarded_on"], name="qualification_unique"),
        ]
        indexes = [models.Index(fields=["firm", "kind"], name="qualification_firm_kind")]

    def __str__(self):
        return f"{self.firm_id} {self.kind} {self.name}"


def points(label, maximum):
    return models.PositiveSmallIntegerField(label, null=True, blank=True, validators=[MaxValueValidator(maximum)])


class IndicatorDetail(models.Model):
    firm = models.ForeignKey("registry.Firm", on_delete=models.CASCADE, related_name="indicator_details")
    year = models.PositiveSmallIntegerField()
    rd_expense_domestic = money("境内研发费用（万元）")
    main_business_revenue = money("主营业务收入（万元）")
    # 高企 创新能力评价 (国科发火〔2016〕195号 guideline): whole points per item, total must exceed 70.
    innovation_ip = points("知识产权（30）", 30)
    innovation_conversion = points("科技成果转化能力（30）", 30)
    innovation_rd_management = points("研究开发组织管理水平（20）", 20)
    innovation_growth = points("企业成长性（20）", 20)
    source_name = models.CharField(max_length=255, blank=True)
    source_row = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["firm_id", "year"]
        constraints = [models.UniqueConstraint(fields=["firm", "year"], name="indicator_detail_unique_year")]

    def __str__(self):
        return f"{self.firm_id} {self.year}"

    INNOVATION_ITEMS = ("innovation_ip", "innovation_conversion", "innovation_rd_management", "innovation_growth")

    @property
    def innovation_score(self):
        """The four innovation items' sum (the guideline's total), None while any is unknown."""
        items = [getattr(self, name) for name in self.INNOVATION_ITEMS]
        return None if None in items else sum(items)


__all__ = ["IndicatorDetail", "Qualification", "QualificationKind", "QualificationLevel"]
