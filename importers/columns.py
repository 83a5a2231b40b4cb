"""Header synonyms → canonical fields.

Published lists name the same column a dozen ways (企业名称 / 单位名称 / 企业（单位）名称 …), in
full-width characters, with line breaks and units in brackets. Every header goes through
:func:`normalize_header` and is looked up in one table built from :data:`FIELD_SYNONYMS`, so a
synonym is written once, in any width, and matches every spelling that normalises the same way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .errors import MissingColumnsError

# field → synonyms (written as they appear; normalised when the lookup table is built). The field
# name itself is always a synonym too, so English headers such as policy_targets.csv's work.
FIELD_SYNONYMS: dict[str, tuple[str, ...]] = {
    # firm identity
    "name": ("企业名称", "单位名称", "公司名称", "企业（单位）名称", "企业全称", "名称", "企业名", "申报单位",
             "申报单位名称", "申报企业", "申报企业名称", "纳税人名称",
             "企业", "公司", "company", "company name"),  # ranking lists: 企业 (brand names), Company
    "uscc": ("统一社会信用代码", "社会信用代码", "信用代码", "统一代码", "统一社会信用代码/注册号", "纳税人识别号"),
    "region": ("所在地区", "所属地区", "地区", "区县", "所在地", "所属区县", "所在区县", "地市", "所属地市",
               "所在地市", "所在市", "设区市", "县（市、区）", "所在县（市、区）", "所属区域", "区域"),
    "province": ("省份", "省（区、市）", "所在省份", "所属省份", "省"),
    # further region clues (registry.regions.resolve_row_region): a city column, the registered address
    "city": ("城市", "所在城市", "所属城市", "总部", "总部所在地", "总部城市", "city", "headquarters"),
    "address": ("注册地址", "企业地址", "住所", "地址", "注册地", "通讯地址", "经营地址", "住所（经营场所）"),
    "founded_on": ("成立日期", "注册日期", "成立时间", "注册时间"),
    "main_products": ("主营产品", "主要产品", "主导产品", "主营业务", "主要产品（服务）"),
    "registered_capital": ("注册资本", "注册资金"),
    # recognition (认定/入库) lists
    "certificate_no": ("证书编号", "编号", "入库登记编号", "登记编号", "证书号", "入库编号", "登记号", "认定编号"),
    "batch": ("批次", "认定批次", "入库批次"),
    "issued_on": ("发证日期", "认定日期", "入库日期", "发文日期", "发证时间", "认定时间", "入库时间",
                  "date joined"),  # unicorn lists: the day the firm joined the list
    "valid_until": ("有效期至", "有效期截止", "有效期截止日期", "有效期截至", "有效截止日期", "到期日期"),
    "stage": ("培育阶段", "梯度", "梯度层级"),
    "tier": ("类别", "认定类别", "企业类别", "层级"),
    "authority": ("认定机构", "认定部门", "发证机关", "发证单位", "主管部门"),
    "level": ("级别", "认定级别", "等级"),
    # yearly indicators (年度指标)
    "year": ("年度", "年份", "统计年度", "数据年度"),
    "revenue": ("营业收入", "营业总收入", "销售收入", "主营业务收入"),
    "rd_expense": ("研发费用", "研发投入", "研究开发费用", "研发经费", "研发费用总额", "r&d经费"),
    "total_cost": ("成本费用总额", "成本费用"),
    "employees": ("从业人员", "职工人数", "员工人数", "职工总数", "从业人员数", "员工总数", "从业人数",
                  "年末从业人员", "年末从业人员数"),
    "rd_staff": ("研发人员", "科技人员", "研发人员数", "科技人员数", "研发/科技人员", "研究开发人员", "研发人数"),
    "ip_class1": ("Ⅰ类知识产权", "一类知识产权", "Ⅰ类知识产权数"),
    "ip_class2": ("Ⅱ类知识产权", "二类知识产权", "Ⅱ类知识产权数"),
    "invention_patents": ("发明专利", "发明专利数", "授权发明专利", "有效发明专利", "发明专利授权数"),
    "hightech_revenue": ("高新技术产品收入", "高新技术产品（服务）收入", "高新技术产品服务收入"),
    "total_assets": ("资产总额", "总资产", "资产总计"),
    "debt_ratio": ("资产负债率",),
    "new_equity_financing": ("股权融资", "股权融资额", "新增股权融资", "当年股权融资额"),
    "valuation_usd": ("估值", "企业估值", "最新估值", "valuation", "last valuation", "latest valuation"),
    # policy targets (目标任务); policy_targets.csv uses the English field names
    "region_code": ("区划代码", "行政区划代码", "地区代码"),
    "region_name": ("地区名称", "区域名称"),
    "kind": ("目标类型",),
    "start_year": ("起始年份", "起始年度"),
    "target": ("目标值", "目标数", "目标"),
    "source": ("来源", "政策来源", "政策依据"),
    "note": ("备注", "说明"),
    # qualifications and indicator details (import kinds `qualifications` / `details`, issue 16). Level,
    # date (issued_on), validity, issuer (authority) and reference (certificate_no) reuse the fields above.
    "qualification_kind": ("资质类型", "奖项类型", "资质类别"),
    "qualification_name": ("奖项名称", "资质名称", "荣誉名称", "标准名称", "研发机构名称", "项目名称"),
    "rank": ("完成单位排名", "单位排名", "排名"),
    "rd_expense_domestic": ("境内研发费用", "境内研究开发费用", "境内研发投入"),
    # "主营业务收入" alone stays a synonym of revenue (statistics returns use it so); a details file names
    # the column one of these.
    "main_business_revenue": ("主营业务收入额", "主营收入", "主营业务销售收入"),
    "innovation_ip": ("知识产权得分", "知识产权评分"),
    "innovation_conversion": ("科技成果转化能力得分", "成果转化得分", "科技成果转化得分"),
    "innovation_rd_management": ("研究开发组织管理水平得分", "研发组织管理得分", "研发管理得分"),
    "innovation_growth": ("企业成长性得分", "成长性得分"),
}

# How each field's cells are parsed (see importers.cleaning.clean_values). Fields not listed are text.
FIELD_KINDS: dict[str, str] = {
    "uscc": "uscc",
    "founded_on": "date", "issued_on": "date", "valid_until": "date",
    "registered_capital": "money", "revenue": "money", "rd_expense": "money", "total_cost": "money",
    "hightech_revenue": "money", "total_assets": "money", "new_equity_financing": "money",
    "valuation_usd": "money",
    "employees": "count", "rd_staff": "count", "ip_class1": "count", "ip_class2": "count",
    "invention_patents": "count", "target": "count",
    "debt_ratio": "percent",
    "year": "year", "start_year": "year",
    "rank": "count", "rd_expense_domestic": "money", "main_business_revenue": "money",
    "innovation_ip": "count", "innovation_conversion": "count", "innovation_rd_management": "count",
    "innovation_growth": "count",
}

# Columns that only number the rows; never data, never counted as content.
INDEX_HEADERS = ("序号", "序", "排序", "顺序号", "no", "no.", "#")

# Bracketed header units we recognise, normalised spelling → canonical unit.
UNITS: dict[str, str] = {
    "元": "元", "人民币元": "元", "元人民币": "元", "千元": "千元", "万元": "万元", "万元人民币": "万元",
    "人民币万元": "万元", "百万元": "百万元", "亿元": "亿元", "亿元人民币": "亿元",
    "美元": "美元", "万美元": "万美元", "百万美元": "百万美元", "亿美元": "亿美元",
    "万欧元": "万欧元", "万港元": "万港元", "万港币": "万港币", "万日元": "万日元", "万英镑": "万英镑",
    "亿人民币": "亿人民币", "万人民币": "万人民币", 
    "billion$": "billion$", "billionusd": "billionusd", "$b": "$b", "usdbillion": "usdbillion",
    "million$": "million$", "$m": "$m", "us$m": "us$m", "usdmillion": "usdmillion", "usd": "usd", "$": "$",
    "%": "%", "百分比": "%",
    "人": "人", "名": "人", "个": "个", "件": "件", "项": "项", "家": "家", "年": "年", "次": "次",
}

_SPACE_RE = re.compile(r"[\s\u200b\ufeff]+")
_BRACKET_RE = re.compile(r"[(\[【〔]([^()\[\]【】〔〕]*)[)\]】〕]")
_UNIT_PREFIX_RE = re.compile(r"^单位[:：]?")
_MARKER_RE = re.compile(r"^[*★※]+|[*★※:：]+$")
_YEAR_PREFIX_RE = re.compile(r"^((?:19|20)\d{2})年度?")
# "单位：万元" written in a title row above the table: the default unit for unit-less money columns.
TABLE_UNIT_RE = re.compile(r"单位[:：]\s*([^\s,，;；)）]+)")


def normalize_header(text: object) -> tuple[str, str | None]:
    """Return (lookup key, unit) for a header cell.

    NFKC (full → half width, Ⅰ → I), no whitespace or line breaks, required-markers (*) dropped,
    bracketed parts removed — a recognised unit among them is returned, anything else
    (企业（单位）名称's 单位, 省（区、市）) is just dropped — and lower case for English headers.
    """
    if text is None:
        return "", None
    s = unicodedata.normalize("NFKC", str(text))
    s = _SPACE_RE.sub("", s)
    unit = None
    for content in _BRACKET_RE.findall(s):
        content = _UNIT_PREFIX_RE.sub("", content)
        canonical = UNITS.get(content) or UNITS.get(content.lower())
        if canonical:
            unit = canonical
    s = _BRACKET_RE.sub("", s)
    s = _MARKER_RE.sub("", s)
    return s.lower(), unit


def _build_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for field, synonyms in FIELD_SYNONYMS.items():
        for synonym in (field, *synonyms):
            key, _ = normalize_header(synonym)
            if key in lookup and lookup[key] != field:
                raise RuntimeError(f"header synonym {synonym!r} maps to both {lookup[key]} and {field}")
            lookup[key] = field
    return lookup


HEADER_LOOKUP: dict[str, str] = _build_lookup()
_INDEX_KEYS = frozenset(normalize_header(h)[0] for h in INDEX_HEADERS)


@dataclass(frozen=True, slots=True)
class Column:
    """One header cell: where it is, what it said, and what we made of it."""

    index: int  # 0-based position in the row
    header: str  # the original text, for messages and SourceRow.raw
    key: str  # normalised text
    field: str | None  # canonical field, None if unknown or a duplicate of an earlier column
    unit: str | None = None  # unit from the header, e.g. 万元, %, 元
    year: int | None = None  # year written in front of the header (2023年营业收入)
    is_index: bool = False  # a 序号 column


def match_header(text: object) -> tuple[str | None, str | None, int | None, bool]:
    """(field, unit, header year, is_index) for one header cell."""
    key, unit = normalize_header(text)
    if not key:
        return None, unit, None, False
    if key in _INDEX_KEYS:
        return None, unit, None, True
    field = HEADER_LOOKUP.get(key)
    year = None
    if field is None:
        m = _YEAR_PREFIX_RE.match(key)
        if m and key[m.end():] in HEADER_LOOKUP:
            field, year = HEADER_LOOKUP[key[m.end():]], int(m.group(1))
    return field, unit, year, False


def header_score(cells: Sequence[object]) -> int:
    """How much a row looks like a header: the number of distinct known fields it names."""
    fields = set()
    for cell in cells:
        if cell is None or not isinstance(cell, str):
            continue
        field = match_header(cell)[0]
        if field:
            fields.add(field)
    return len(fields)


def map_columns(cells: Sequence[object]) -> tuple[list[Column], list[str]]:
    """Columns for a header row, plus warnings (a field named twice keeps its first column)."""
    columns: list[Column] = []
    warnings: list[str] = []
    seen: dict[str, str] = {}
    for i, cell in enumerate(cells):
        text = "" if cell is None else str(cell).strip()
        if not text:
            continue
        field, unit, year, is_index = match_header(text)
        if field and field in seen:
            warnings.append(f"column {text!r} also maps to {field} (already taken by {seen[field]!r}); ignored")
            field = None
        elif field:
            seen[field] = text
        columns.append(Column(i, text, normalize_header(text)[0], field, unit, year, is_index))
    return columns, warnings


def describe_field(field: str) -> str:
    """'uscc (统一社会信用代码)': the field and its most common header, for messages."""
    synonyms = FIELD_SYNONYMS.get(field)
    return f"{field} ({synonyms[0]})" if synonyms else field


Requirement = str | tuple[str, ...]


def missing_fields(columns: Iterable[Column], required: Iterable[Requirement]) -> list[Requirement]:
    """Requirements not met; a tuple means "one of these fields"."""
    present = {c.field for c in columns if c.field}
    missing = []
    for req in required:
        options = (req,) if isinstance(req, str) else tuple(req)
        if not present.intersection(options):
            missing.append(req)
    return missing


def check_required(
    columns: Sequence[Column], required: Iterable[Requirement], *, where: str = "", extra: Iterable[str] = ()
) -> None:
    """Raise MissingColumnsError naming the required columns and the columns found.

    ``extra`` are fields the reader will supply without a column (e.g. year from the sheet name).
    """
    supplied = [Column(-1, f, f, f) for f in extra]
    missing = missing_fields([*columns, *supplied], required)
    if not missing:
        return
    wanted = [
        describe_field(r) if isinstance(r, str) else " or ".join(describe_field(f) for f in r) for r in missing
    ]
    found = [c.header for c in columns]
    prefix = f"{where}: " if where else ""
    raise MissingColumnsError(
        f"{prefix}missing required column(s): {'; '.join(wanted)}. "
        f"Columns found: {', '.join(found) if found else '(none)'}",
        required=[r if isinstance(r, str) else tuple(r) for r in missing],
        found=found,
    )
