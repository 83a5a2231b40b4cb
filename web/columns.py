"""Indicator columns the pages show, each shown only to roles that may read it (registry.permissions)."""

from django.utils.translation import gettext_lazy as _

from registry.permissions import can_read_indicator_field

# (IndicatorYear field, label, kind): kind picks the display format (web/templatetags/web_format.py).
INDICATORS = (
    ("employees", _("从业人员"), "int"),
    ("rd_staff", _("研发人员"), "int"),
    ("invention_patents", _("发明专利"), "int"),
    ("ip_class1", _("Ⅰ类知识产权"), "int"),
    ("revenue", _("营业收入（万元）"), "money"),
    ("rd_expense", _("研发费用（万元）"), "money"),
    ("rd_intensity", _("研发强度"), "pct"),
    ("revenue_growth", _("营收增长率"), "pct"),
    ("total_assets", _("资产总额（万元）"), "money"),
    ("valuation_usd", _("估值（美元）"), "money"),
)
# 补充年度指标 (IndicatorDetail): (field, label with its unit, kind for the `figure` filter).
DETAILS = (
    ("rd_expense_domestic", _("境内研发费用（万元）"), "money"),
    ("main_business_revenue", _("主营业务收入（万元）"), "money"),
    ("innovation_ip", _("知识产权（分，满分30）"), "int"),
    ("innovation_conversion", _("科技成果转化能力（分，满分30）"), "int"),
    ("innovation_rd_management", _("研究开发组织管理水平（分，满分20）"), "int"),
    ("innovation_growth", _("企业成长性（分，满分20）"), "int"),
)

# The firms table shows the latest year's figures in these columns.
FIRM_TABLE_INDICATORS = ("employees", "invention_patents", "revenue", "rd_intensity", "revenue_growth")


def indicator_columns(user, only=None):
    """[(field, label, kind)] this user may read, in display order (investors: public figures only)."""
    return [c for c in INDICATORS if (only is None or c[0] in only) and can_read_indicator_field(user, c[0])]
