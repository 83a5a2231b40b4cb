"""The national default eligibility rule sets, as data (loaded by migration 0004).

Each rule set is versioned by `effective_from`/`effective_to` and has no jurisdiction (national).
A region overrides one by adding its own EligibilityRuleSet row with `jurisdiction` set.

Threshold JSON (read by registry.eligibility.engine):
- `basic`: criteria that must all hold (e.g. 科小 size caps);
- `direct`: criteria any one of which qualifies a firm that meets `basic` (e.g. a valid 高企);
- `criteria`: criteria that must all hold (unless a direct route applies);
- `score`: a points sheet (`components` with bands, `min_total`, `nonzero`) that must pass;
- `candidates_from`: tier codes whose holders are the candidates (default: the rung just below).
A criterion: {criterion, label, metric, op (">=", "<=", ">"), value | bands, unit, more} or
{criterion, label, holds: [tier codes]} (holds one of them on the evaluation date) or
{criterion, label, any_of: [criteria]}.
Bands: {"by": metric, "edges": [...], "values": [...], "labels": [...], "closed": "lower" | "upper"};
by default a value equal to an edge belongs to the LOWER band (高企: revenue ≤ 5,000万 → 5 %);
"closed": "upper" puts it in the upper band (小巨人: revenue ≥ 1亿 → 3 %). A null value means the
band has no such route (the criterion fails there).
Points bands: [[threshold, points], ...] highest first; a value exactly at a threshold scores it.
Money in 万元, ratios as fractions, valuation in US$.
{criterion, label, qualification: {kinds, levels, within_years | held, max_rank}}: a recorded
qualification (registry.models.Qualification) of one of `kinds` at one of `levels`, awarded within
`within_years` before the evaluation date (or, `held`, valid on it), by a unit ranked ≤ `max_rank`.
Optional on any criterion: `label_zh`/`label_en` (explanations in both languages) and `clause`
(the article it comes from, printed with every explanation).
"""

# 科小 direct routes (免评), 国科火字〔2022〕67号 / criteria.md §1 "Direct qualification".
NATIONAL_AWARD_5Y_TOP3 = {"kinds": ["science_award"], "levels": ["national"], "within_years": 5, "max_rank": 3}
RD_INSTITUTION_PROVINCIAL = {"kinds": ["rd_institution"], "levels": ["international", "national", "provincial"], "held": True}
STANDARD_LED_5Y = {"kinds": ["standard_led"], "levels": ["international", "national", "industry"], "within_years": 5, "max_rank": 1}
AWARD_PROVINCIAL_3Y = {"kinds": ["science_award"], "levels": ["national", "provincial"], "within_years": 3}
AWARD_PROVINCIAL_3Y_TOP3 = {"kinds": ["science_award"], "levels": ["national", "provincial"], "within_years": 3, "max_rank": 3}
AWARD_NATIONAL_3Y_TOP3 = {"kinds": ["science_award"], "levels": ["national"], "within_years": 3, "max_rank": 3}


TECH_SME_SCORE = {
    "min_total": 60,
    "nonzero": ["staff"],
    "components": [
        {"name": "staff", "label": "科技人员 share of employees", "max": 20, "best_of": [
            {"metric": "staff_share", "bands": [[0.30, 20], [0.25, 16], [0.20, 12], [0.15, 8], [0.10, 4]]},
        ]},
        {"name": "rd", "label": "研发投入 R&D", "max": 50, "best_of": [
            {"metric": "rd_to_revenue", "bands": [[0.06, 50], [0.05, 40], [0.04, 30], [0.03, 20], [0.02, 10]]},
            {"metric": "rd_to_cost", "bands": [[0.30, 50], [0.25, 40], [0.20, 30], [0.15, 20], [0.10, 10]]},
        ]},
        {"name": "ip", "label": "科技成果 IP", "max": 30, "best_of": [
            {"metric": "ip_class1", "bands": [[1, 30]]},
            {"metric": "ip_class2", "bands": [[4, 24], [3, 18], [2, 12], [1, 6]]},
        ]},
    ],
}

TECH_SME_BASIC = [
    {"criterion": "employees", "label": "从业人员 employees", "metric": "employees", "op": "<=", "value": 500, "unit": "count"},
    {"criterion": "revenue", "label": "营业收入 revenue", "metric": "revenue", "op": "<=", "value": 20000, "unit": "money"},
    {"criterion": "total_assets", "label": "资产总额 total assets", "metric": "total_assets", "op": "<=", "value": 20000, "unit": "money"},
]

# 创新型中小企业 2022 sheet (six indicators). Main-product field (⑤) and main-business share (⑥) are
# not in the registry's indicators, so they stay "not recorded": the score is a lower bound.
INNOVATIVE_SCORE = {
    "min_total": 60,
    "components": [
        {"name": "ip", "label": "① 知识产权 IP", "max": 20, "best_of": [
            {"metric": "ip_class1", "bands": [[1, 10]]},
            {"metric": "ip_class2", "bands": [[1, 5]]},
        ], "note": "high-value / own-developed Class I (15–20 points) is not recorded: counted as 10"},
        {"name": "rd", "label": "② R&D / revenue", "max": 20, "best_of": [
            {"metric": "rd_to_revenue", "bands": [[0.05, 20], [0.03, 15], [0.02, 10], [0.01, 5]]},
        ]},
        {"name": "growth", "label": "③ revenue growth", "max": 20, "best_of": [
            {"metric": "revenue_growth", "bands": [[0.15, 20], [0.10, 15], [0.05, 10], [0.0, 5]]},
        ]},
        {"name": "debt", "label": "④ debt ratio", "max": 10, "best_of": [
            {"metric": "debt_ratio", "bands_max": [[0.55, 10], [0.75, 5]]},
        ]},
        {"name": "field", "label": "⑤ main-product field", "max": 10, "best_of": [
            {"metric": "strategic_field", "bands": [[1, 10], [0, 5]]},
        ]},
        {"name": "main_share", "label": "⑥ main business / revenue", "max": 20, "best_of": [
            {"metric": "main_business_share", "bands": [[0.70, 20], [0.60, 15], [0.55, 10], [0.50, 5]]},
        ]},
    ],
}
INNOVATIVE_DIRECT = [
    {"criterion": "award", "label": "national or provincial S&T award within 3 years", "label_zh": "近三年国家级或省级科技奖励",
     "qualification": AWARD_PROVINCIAL_3Y, "clause": "直通条件 1"},
    {"criterion": "holds_hnte_or_tech_sme", "label": "valid 高企 or 科技型中小企业", "holds": ["hnte", "tech_sme", "tech_innovative_sme"],
     "clause": "直通条件 2"},
    {"criterion": "rd_institution", "label": "provincial-or-higher R&D institution", "label_zh": "省部级以上研发机构",
     "qualification": RD_INSTITUTION_PROVINCIAL, "clause": "直通条件 3"},
    {"criterion": "equity_financing", "label": "new equity financing (2 years)", "metric": "new_equity_2y", "op": ">=", "value": 500, "unit": "money"},
]

RD_MIN_100 = {"criterion": "rd_expense", "label": "R&D expense", "metric": "rd_expense", "op": ">=", "value": 100, "unit": "money"}

RULE_SETS = [
    {
        "code": "national-tech_sme-2017", "name": "科技型中小企业评价办法（2017，2022修订）",
        "stage": "tech_sme", "tier": "tech_sme", "effective_from": "2017-05-03", "effective_to": None,
        "source": "国科发政〔2017〕115号; 国科火字〔2022〕67号",
        "thresholds": {
            "basic": TECH_SME_BASIC,
            "direct": [
                {"criterion": "holds_hnte", "label": "valid 高企 certificate", "label_zh": "有效期内高新技术企业资格",
                 "holds": ["hnte"], "clause": "免评条件（一）"},
                {"criterion": "national_award", "label": "national S&T award within 5 years (top-3 unit)",
                 "label_zh": "近五年国家级科技奖励（前三名完成单位）", "qualification": NATIONAL_AWARD_5Y_TOP3,
                 "clause": "免评条件（二）"},
                {"criterion": "rd_institution", "label": "provincial-or-higher R&D institution",
                 "label_zh": "省部级以上研发机构", "qualification": RD_INSTITUTION_PROVINCIAL, "clause": "免评条件（三）"},
                {"criterion": "standard_led", "label": "led an international/national/industry standard within 5 years",
                 "label_zh": "近五年主导制定国际、国家或行业标准", "qualification": STANDARD_LED_5Y, "clause": "免评条件（四）"},
            ],
            "score": TECH_SME_SCORE,
            "candidates_from": [],
        },
    },
    {
        "code": "national-tech_innovative_sme-2026", "name": "科技和创新型中小企业（2026，过渡期沿用创新型评价表）",
        "stage": "tech_sme", "tier": "tech_innovative_sme", "effective_from": "2026-04-01", "effective_to": None,
        "source": "工信部企业〔2026〕2号 (Art. 30 transition, criteria.md §3.2)",
        "thresholds": {"direct": INNOVATIVE_DIRECT, "score": INNOVATIVE_SCORE, "candidates_from": ["tech_sme"]},
    },
    {
        "code": "national-hnte-2016", "name": "高新技术企业认定管理办法（2016）",
        "stage": "hnte", "tier": "hnte", "effective_from": "2016-01-01", "effective_to": None,
        "source": "国科发火〔2016〕32号 Art. 11",
        "thresholds": {"criteria": [
            {"criterion": "registered_years", "label": "registered", "label_zh": "注册成立", "metric": "age_years", "op": ">=",
             "value": 1, "unit": "years", "clause": "第十一条（一）"},
            {"criterion": "ip", "label": "own IP (Class I or II)", "label_zh": "自主知识产权（Ⅰ类或Ⅱ类）", "metric": "ip_count",
             "op": ">=", "value": 1, "unit": "count", "clause": "第十一条（二）"},
            {"criterion": "rd_staff_share", "label": "R&D staff share", "label_zh": "科技人员占比", "metric": "staff_share",
             "op": ">=", "value": 0.10, "unit": "ratio", "clause": "第十一条（四）",
             "more": {"basis": "employees", "unit": "count", "what": "R&D staff", "what_zh": "科技人员"}},
            {"criterion": "rd_intensity", "label": "R&D intensity (3 years)", "label_zh": "近三年研发费用占销售收入比例",
             "metric": "rd_intensity_3y", "op": ">=", "unit": "ratio", "clause": "第十一条（五）",
             "bands": {"by": "revenue", "edges": [5000, 20000], "values": [0.05, 0.04, 0.03],
                       "labels": ["revenue ≤ 5,000万", "revenue 5,000万–2亿", "revenue > 2亿"]},
             "more": {"basis": "revenue_3y", "unit": "money", "what": "R&D", "what_zh": "研发费用"}},
            {"criterion": "rd_domestic_share", "label": "R&D inside China (3 years)", "label_zh": "近三年境内研发费用占比",
             "metric": "rd_domestic_share_3y", "op": ">=", "value": 0.60, "unit": "ratio", "clause": "第十一条（五）"},
            {"criterion": "hightech_revenue_share", "label": "high-tech revenue share", "label_zh": "高新技术产品（服务）收入占比",
             "metric": "hightech_share", "op": ">=", "value": 0.60, "unit": "ratio", "clause": "第十一条（六）",
             "more": {"basis": "revenue", "unit": "money", "what": "high-tech revenue", "what_zh": "高新技术产品（服务）收入"}},
            {"criterion": "innovation_score", "label": "innovation-capability score", "label_zh": "创新能力评价得分",
             "metric": "innovation_score", "op": ">=", "value": 71, "unit": "points", "clause": "第十一条（七）"},
        ]},
    },
    {
        "code": "national-gazelle-typical", "name": "瞪羚企业（火炬中心/长城战略咨询口径）",
        "stage": "gazelle", "tier": None, "effective_from": "2014-01-01", "effective_to": None,
        "source": "criteria.md §4 (typical reading; each city's programme is its own rule set)",
        "thresholds": {"criteria": [
            {"criterion": "holds_hnte", "label": "valid 高企", "holds": ["hnte"]},
            {"criterion": "founded_years", "label": "founded", "metric": "age_years", "op": "<=", "value": 10, "unit": "years"},
            {"criterion": "revenue", "label": "last-year revenue", "metric": "revenue", "op": ">=", "value": 1000, "unit": "money"},
            {"criterion": "revenue_cagr", "label": "revenue CAGR (3 years)", "metric": "revenue_cagr_3y", "op": ">=", "value": 0.20, "unit": "ratio"},
        ]},
    },
    {
        "code": "national-srdi_innovative-2022", "name": "创新型中小企业评价标准（2022）",
        "stage": "srdi", "tier": "srdi_innovative", "effective_from": "2022-06-01", "effective_to": "2026-03-31",
        "source": "工信部企业〔2022〕63号", "thresholds": {"direct": INNOVATIVE_DIRECT, "score": INNOVATIVE_SCORE},
    },
    {
        "code": "national-srdi_sme-2022", "name": "专精特新中小企业认定标准（2022）",
        "stage": "srdi", "tier": "srdi_sme", "effective_from": "2022-06-01", "effective_to": "2026-03-31",
        "source": "工信部企业〔2022〕63号",
        "thresholds": {"criteria": [
            {"criterion": "holds_innovative", "label": "valid 创新型中小企业", "holds": ["srdi_innovative"]},
            RD_MIN_100,
            {"criterion": "rd_intensity", "label": "R&D / revenue", "metric": "rd_to_revenue", "op": ">=", "value": 0.03, "unit": "ratio",
             "more": {"basis": "revenue", "unit": "money", "what": "R&D"}},
            {"criterion": "revenue_or_equity", "label": "revenue ≥ 1,000万 or new equity ≥ 2,000万", "any_of": [
                {"criterion": "revenue", "label": "last-year revenue", "metric": "revenue", "op": ">=", "value": 1000, "unit": "money"},
                {"criterion": "equity_financing", "label": "new equity financing (2 years)", "metric": "new_equity_2y", "op": ">=", "value": 2000, "unit": "money"},
            ]},
        ]},
    },
    {
        "code": "national-srdi_sme-2026", "name": "专精特新中小企业认定标准（2026）",
        "stage": "srdi", "tier": "srdi_sme", "effective_from": "2026-04-01", "effective_to": None,
        "source": "工信部企业〔2026〕2号 (criteria.md §3.3)",
        "thresholds": {"candidates_from": ["tech_innovative_sme", "srdi_innovative"], "criteria": [
            {"criterion": "holds_tech_innovative", "label": "valid 科技和创新型中小企业", "holds": ["tech_innovative_sme", "srdi_innovative"]},
            {"criterion": "revenue_or_equity", "label": "revenue ≥ 1,500万 or new equity ≥ 2,000万", "any_of": [
                {"criterion": "revenue", "label": "last-year revenue", "metric": "revenue", "op": ">=", "value": 1500, "unit": "money"},
                {"criterion": "equity_financing", "label": "new equity financing (2 years)", "metric": "new_equity_2y", "op": ">=", "value": 2000, "unit": "money"},
            ]},
            {"criterion": "main_business_share", "label": "main-business share of revenue", "label_zh": "主营业务收入占营业收入比重",
             "metric": "main_business_share", "op": ">=", "value": 0.80, "unit": "ratio", "clause": "附件1 营收与结构"},
            {"criterion": "debt_ratio", "label": "debt ratio", "metric": "debt_ratio", "op": "<=", "value": 0.80, "unit": "ratio"},
            {"criterion": "rd_expense_each_year", "label": "R&D expense (each of 2 years)", "metric": "rd_min_2y", "op": ">=", "value": 100, "unit": "money"},
            {"criterion": "rd_intensity_each_year", "label": "R&D / revenue (each of 2 years)", "metric": "rd_intensity_2y_min", "op": ">=", "value": 0.03, "unit": "ratio"},
            {"criterion": "ip_or_waiver", "label": "Class I IP, or a waiver (provincial+ award top-3 in 3 years, or provincial+ R&D institution)",
             "label_zh": "Ⅰ类知识产权，或豁免（近三年省级以上科技奖励前三名 / 省级以上研发机构）", "clause": "附件1 知识产权", "any_of": [
                {"criterion": "ip_class1", "label": "Class I IP", "metric": "ip_class1", "op": ">=", "value": 1, "unit": "count"},
                {"criterion": "award", "label": "provincial-or-higher S&T award (top-3) within 3 years", "qualification": AWARD_PROVINCIAL_3Y_TOP3},
                {"criterion": "rd_institution", "label": "provincial-or-higher R&D institution", "qualification": RD_INSTITUTION_PROVINCIAL},
            ]},
        ]},
    },
    {
        "code": "national-srdi_little_giant-2022", "name": "专精特新“小巨人”认定标准（2022）",
        "stage": "srdi", "tier": "srdi_little_giant", "effective_from": "2022-06-01", "effective_to": "2026-03-31",
        "source": "工信部企业〔2022〕63号 (criteria.md §3.4)",
        "thresholds": {"criteria": [
            {"criterion": "holds_srdi_sme", "label": "valid 专精特新中小企业", "holds": ["srdi_sme"]},
            {"criterion": "main_business_share", "label": "main-business share of revenue", "label_zh": "主营业务收入占营业收入比重",
             "metric": "main_business_share", "op": ">=", "value": 0.70, "unit": "ratio", "clause": "专"},
            {"criterion": "growth_2y", "label": "2-year average revenue growth", "metric": "revenue_cagr_2y", "op": ">=", "value": 0.05, "unit": "ratio"},
            {"criterion": "debt_ratio", "label": "debt ratio", "metric": "debt_ratio", "op": "<=", "value": 0.70, "unit": "ratio"},
            {"criterion": "ip_class1", "label": "Class I IP", "metric": "ip_class1", "op": ">=", "value": 2, "unit": "count"},
            {"criterion": "rd", "label": "R&D by revenue band", "any_of": [
                {"criterion": "rd_intensity_2y", "label": "R&D intensity (2 years)", "metric": "rd_intensity_2y_min", "op": ">=", "unit": "ratio",
                 "bands": {"by": "revenue", "edges": [5000, 10000], "closed": "upper", "values": [None, 0.06, 0.03],
                           "labels": ["revenue < 5,000万", "revenue 5,000万–1亿", "revenue ≥ 1亿"]}},
                {"criterion": "small_firm_route", "label": "< 5,000万: equity ≥ 8,000万, R&D ≥ 3,000万, R&D staff ≥ 50 %", "all_of": [
                    {"criterion": "equity_financing", "label": "new equity financing (2 years)", "metric": "new_equity_2y", "op": ">=", "value": 8000, "unit": "money"},
                    {"criterion": "rd_total_2y", "label": "R&D (2 years)", "metric": "rd_total_2y", "op": ">=", "value": 3000, "unit": "money"},
                    {"criterion": "rd_staff_share", "label": "R&D staff share", "metric": "staff_share", "op": ">=", "value": 0.50, "unit": "ratio"},
                ]},
            ]},
        ]},
    },
    {
        "code": "national-srdi_little_giant-2026", "name": "专精特新“小巨人”认定标准（2026）",
        "stage": "srdi", "tier": "srdi_little_giant", "effective_from": "2026-04-01", "effective_to": None,
        "source": "工信部企业〔2026〕2号 (criteria.md §3.4)",
        "thresholds": {"criteria": [
            {"criterion": "holds_srdi_sme", "label": "valid 专精特新中小企业", "holds": ["srdi_sme"]},
            {"criterion": "revenue", "label": "last-year revenue", "metric": "revenue", "op": ">=", "value": 5000, "unit": "money"},
            {"criterion": "main_business_share", "label": "main-business share of revenue", "label_zh": "主营业务收入占营业收入比重",
             "metric": "main_business_share", "op": ">=", "value": 0.90, "unit": "ratio", "clause": "附件2 营收与结构"},
            {"criterion": "growth_2y", "label": "2-year revenue CAGR", "metric": "revenue_cagr_2y", "op": ">=", "value": 0.05, "unit": "ratio"},
            {"criterion": "debt_ratio", "label": "debt ratio", "metric": "debt_ratio", "op": "<=", "value": 0.75, "unit": "ratio"},
            {"criterion": "rd_total_2y", "label": "R&D (2 years)", "metric": "rd_total_2y", "op": ">=", "value": 1200, "unit": "money"},
            {"criterion": "rd_intensity_each_year", "label": "R&D / revenue (each of 2 years)", "metric": "rd_intensity_2y_min", "op": ">=", "value": 0.03, "unit": "ratio"},
            {"criterion": "ip_or_waiver", "label": "≥ 4 Class I IP, or a national S&T award (top-3) within 3 years",
             "label_zh": "Ⅰ类知识产权不少于4项，或近三年国家级科技奖励（前三名）", "clause": "附件2 知识产权", "any_of": [
                {"criterion": "ip_class1", "label": "Class I IP", "metric": "ip_class1", "op": ">=", "value": 4, "unit": "count"},
                {"criterion": "award", "label": "national S&T award (top-3) within 3 years", "qualification": AWARD_NATIONAL_3Y_TOP3},
            ]},
        ]},
    },
    {
        "code": "national-unicorn_seed", "name": "种子独角兽（常用口径）",
        "stage": "unicorn", "tier": "unicorn_seed", "effective_from": "2016-01-01", "effective_to": None,
        "source": "criteria.md §5 / ladder.md (no official source)",
        "thresholds": {"criteria": [
            {"criterion": "unlisted", "label": "not listed", "metric": "unlisted", "op": ">=", "value": 1, "unit": "flag"},
            {"criterion": "founded_years", "label": "founded", "metric": "age_years", "op": "<=", "value": 3, "unit": "years"},
            {"criterion": "valuation", "label": "valuation", "metric": "valuation_usd", "op": ">=", "value": 10_000_000, "unit": "usd"},
        ]},
    },
    {
        "code": "national-unicorn_potential", "name": "潜在独角兽（GB/T 41464-2022 口径）",
        "stage": "unicorn", "tier": "unicorn_potential", "effective_from": "2016-01-01", "effective_to": None,
        "source": "GB/T 41464-2022 via 长城战略咨询 (criteria.md §5)",
        "thresholds": {"criteria": [
            {"criterion": "unlisted", "label": "not listed", "metric": "unlisted", "op": ">=", "value": 1, "unit": "flag"},
            {"criterion": "age_and_valuation", "label": "≤ 5 years and ≥ US$100 m, or ≤ 9 years and ≥ US$500 m", "any_of": [
                {"criterion": "young_route", "label": "≤ 5 years, ≥ US$100 m", "all_of": [
                    {"criterion": "founded_years", "label": "founded", "metric": "age_years", "op": "<=", "value": 5, "unit": "years"},
                    {"criterion": "valuation", "label": "valuation", "metric": "valuation_usd", "op": ">=", "value": 100_000_000, "unit": "usd"},
                ]},
                {"criterion": "older_route", "label": "≤ 9 years, ≥ US$500 m", "all_of": [
                    {"criterion": "founded_years", "label": "founded", "metric": "age_years", "op": "<=", "value": 9, "unit": "years"},
                    {"criterion": "valuation", "label": "valuation", "metric": "valuation_usd", "op": ">=", "value": 500_000_000, "unit": "usd"},
                ]},
            ]},
        ]},
    },
    {
        "code": "national-unicorn", "name": "独角兽（长城战略咨询/火炬中心口径）",
        "stage": "unicorn", "tier": "unicorn", "effective_from": "2016-01-01", "effective_to": None,
        "source": "criteria.md §5 [U1][U2]",
        "thresholds": {"criteria": [
            {"criterion": "unlisted", "label": "not listed", "metric": "unlisted", "op": ">=", "value": 1, "unit": "flag"},
            {"criterion": "founded_years", "label": "founded", "metric": "age_years", "op": "<=", "value": 10, "unit": "years"},
            {"criterion": "valuation", "label": "valuation", "metric": "valuation_usd", "op": ">=", "value": 1_000_000_000, "unit": "usd"},
        ]},
    },
]

# Chinese labels for the explanations (text_zh), by English label; a criterion's own label_zh wins.
LABEL_ZH = {
    "从业人员 employees": "从业人员", "营业收入 revenue": "营业收入", "资产总额 total assets": "资产总额",
    "valid 高企 or 科技型中小企业": "有效高新技术企业或科技型中小企业", "new equity financing (2 years)": "近两年新增股权融资",
    "R&D expense": "研发费用", "valid 高企": "有效高新技术企业", "founded": "成立", "last-year revenue": "上年度营业收入",
    "revenue CAGR (3 years)": "近三年营收复合增长率", "valid 创新型中小企业": "有效创新型中小企业", "R&D / revenue": "研发费用占营业收入比例",
    "revenue ≥ 1,000万 or new equity ≥ 2,000万": "营业收入≥1000万元或近两年新增股权融资≥2000万元",
    "valid 科技和创新型中小企业": "有效科技和创新型中小企业",
    "revenue ≥ 1,500万 or new equity ≥ 2,000万": "营业收入≥1500万元或近两年新增股权融资≥2000万元",
    "debt ratio": "资产负债率", "R&D expense (each of 2 years)": "近两年每年研发费用",
    "R&D / revenue (each of 2 years)": "近两年每年研发费用占营业收入比例", "Class I IP": "Ⅰ类知识产权",
    "valid 专精特新中小企业": "有效专精特新中小企业", "2-year average revenue growth": "近两年营收平均增长率",
    "R&D by revenue band": "按营收分档的研发投入", "R&D intensity (2 years)": "近两年研发投入强度",
    "< 5,000万: equity ≥ 8,000万, R&D ≥ 3,000万, R&D staff ≥ 50 %": "营收<5000万元：股权融资≥8000万元、研发≥3000万元、研发人员≥50%",
    "R&D (2 years)": "近两年研发费用合计", "R&D staff share": "研发人员占比", "2-year revenue CAGR": "近两年营收复合增长率",
    "not listed": "未上市", "valuation": "估值",
    "≤ 5 years and ≥ US$100 m, or ≤ 9 years and ≥ US$500 m": "成立≤5年且估值≥1亿美元，或≤9年且≥5亿美元",
    "≤ 5 years, ≥ US$100 m": "成立≤5年、估值≥1亿美元", "≤ 9 years, ≥ US$500 m": "成立≤9年、估值≥5亿美元",
    "provincial-or-higher S&T award (top-3) within 3 years": "近三年省级以上科技奖励（前三名）",
    "provincial-or-higher R&D institution": "省部级以上研发机构", "national S&T award (top-3) within 3 years": "近三年国家级科技奖励（前三名）",
}


def _fill_label_zh(specs):
    for spec in specs:
        if "label_zh" not in spec and spec.get("label") in LABEL_ZH:
            spec["label_zh"] = LABEL_ZH[spec["label"]]
        _fill_label_zh(spec.get("any_of", []) + spec.get("all_of", []))


for _rule in RULE_SETS:
    for _key in ("basic", "direct", "criteria"):
        _fill_label_zh(_rule["thresholds"].get(_key, []))
