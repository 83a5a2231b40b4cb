"""Thirty hand-written firm profiles for the search contract tests.

Counts the tests rely on (checked by hand against the table below):
stage  tech_sme 7 · hnte 10 · gazelle 5 · srdi 6 · unicorn 2
city   320200 无锡 12 · 320500 苏州 16 (320583 昆山 6) · 320400 常州 1 · 330100 杭州 1
chain  biomed 7 (synbio 5, device 2) · semi 7 (power 4, display 3) · equip 5 (robot 4) ·
       software 5 · newmat 3 · env 2 · energy 1
Firm 14's description names firm 1 in full, so an exact-name search has a real competitor.
"""

REGIONS = {
    "320211": (("320000", "江苏省"), ("320200", "无锡市"), ("320211", "滨湖区")),
    "320213": (("320000", "江苏省"), ("320200", "无锡市"), ("320213", "梁溪区")),
    "320214": (("320000", "江苏省"), ("320200", "无锡市"), ("320214", "新吴区")),
    "320281": (("320000", "江苏省"), ("320200", "无锡市"), ("320281", "江阴市")),
    "320282": (("320000", "江苏省"), ("320200", "无锡市"), ("320282", "宜兴市")),
    "320412": (("320000", "江苏省"), ("320400", "常州市"), ("320412", "武进区")),
    "320505": (("320000", "江苏省"), ("320500", "苏州市"), ("320505", "虎丘区")),
    "320506": (("320000", "江苏省"), ("320500", "苏州市"), ("320506", "吴中区")),
    "320571": (("320000", "江苏省"), ("320500", "苏州市"), ("320571", "苏州工业园区")),
    "320583": (("320000", "江苏省"), ("320500", "苏州市"), ("320583", "昆山市")),
    "320585": (("320000", "江苏省"), ("320500", "苏州市"), ("320585", "太仓市")),
    "330106": (("330000", "浙江省"), ("330100", "杭州市"), ("330106", "西湖区")),
}

PRODUCTS = {
    "synbio": ("合成生物学酶制剂与发酵工艺", "定向进化与高通量酶筛选"),
    "imaging": ("高端医学影像设备", "光子计数探测器与图像重建算法"),
    "carbon": ("高性能碳纤维复合材料", "大丝束原丝与热压罐成型"),
    "aero": ("航空发动机精密零部件", "五轴联动加工与涂层"),
    "robot": ("工业机器人与精密减速器", "谐波传动与伺服控制"),
    "battery": ("储能电池管理系统", "电芯均衡与热失控预警"),
    "display": ("Micro LED 显示模组", "巨量转移与<50μm芯片键合"),
    "software": ("工业软件与数字孪生平台", "三维建模引擎与实时仿真"),
    "sic": ("碳化硅功率器件与驱动芯片", "沟槽栅MOSFET与车规级封装"),
    "water": ("工业废水近零排放处理", "膜浓缩与蒸发结晶"),
}

FIRM_1_DESCRIPTION = (
    "无锡芯动生物科技有限公司成立于2016年，是一家以合成生物学为核心的高新技术企业。公司建有定向进化"
    "与高通量筛选平台，累计开发工业酶制剂四十余种，产品用于食品、饲料与医药中间体的绿色制造。近年与"
    "高校合作推进发酵工艺放大，芯动酶制剂已进入多家头部企业供应链。"
)

# id, name, USCC, region, stage, tier, chains, product line, founded, revenue (万元)
TABLE = [
    (1, "无锡芯动生物科技有限公司", "91320211DL8P3MR19U", "320211", "hnte", "hnte", "biomed biomed.synbio", "synbio", 2016, 12000.0),
    (2, "苏州鼎新医疗器械有限公司", "91320506Y1Q81FTUQE", "320506", "srdi", "srdi_sme", "biomed biomed.device", "imaging", 2017, 8000.0),
    (3, "宜兴凌云新材料有限公司", "91320282J3PLARDCGH", "320282", "tech_sme", "tech_sme", "newmat", "carbon", 2015, 1500.0),
    (4, "苏州汇川精密机械有限公司", "91320506CP1HGTLG8W", "320506", "gazelle", "gazelle_municipal", "equip", "aero", 2020, 6000.0),
    (5, "苏州恒拓智能装备有限公司", "91320505AMCFMRN784", "320505", "srdi", "srdi_little_giant", "equip equip.robot", "robot", 2019, 30000.0),
    (6, "昆山合力新能源科技有限公司", "91320583LXGQHM9P5N", "320583", "hnte", "hnte", "energy", "battery", 2014, 9000.0),
    (7, "无锡瀚海光电科技有限公司", "91320213HNMLW5TDY4", "320213", "tech_sme", "tech_sme", "semi semi.display", "display", 2022, 800.0),
    (8, "太仓晶微智能装备有限公司", "91320585M3NDG7A5NW", "320585", "hnte", "hnte", "equip equip.robot", "robot", 2010, 15000.0),
    (9, "太仓瀚海信息技术有限公司", "91320585XUGAC5YHD1", "320585", "tech_sme", "tech_sme", "software", "software", 2021, 600.0),
    (10, "昆山微纳半导体科技有限公司", "91320583E7Y6F6M7WC", "320583", "srdi", "srdi_little_giant", "semi semi.power", "sic", 2009, 42000.0),
    (11, "苏州微纳信息技术有限公司", "9132057180TAARB6RE", "320571", "gazelle", "gazelle_provincial", "software", "software", 2013, 7000.0),
    (12, "太仓易成环保科技有限公司", "91320585YA43WA6AGN", "320585", "tech_sme", "tech_sme", "env", "water", 2017, 1200.0),
    (13, "常州晶微生物科技有限公司", "91320412Y6DKQRJXGP", "320412", "hnte", "hnte", "biomed biomed.synbio", "synbio", 2018, 5000.0),
    (14, "无锡汇川生物科技有限公司", "91320214WTDXLX6J9F", "320214", "gazelle", "gazelle_municipal", "biomed biomed.synbio", "synbio", 2019, 4000.0),
    (15, "江阴鼎新环保科技股份有限公司", "91320281L8BWJ7PF8D", "320281", "srdi", "srdi_innovative", "env", "water", 2008, 9500.0),
    (16, "江阴芯动半导体科技有限公司", "91320281FG4EATH913", "320281", "hnte", "hnte", "semi semi.power", "sic", 2022, 3000.0),
    (17, "昆山致远新材料有限公司", "9132058351QNPCMD43", "320583", "tech_sme", "tech_sme", "newmat", "carbon", 2012, 900.0),
    (18, "无锡合力医疗器械有限公司", "91320214C4WLCNHB5C", "320214", "hnte", "hnte", "biomed biomed.device", "imaging", 2019, 5500.0),
    (19, "昆山普瑞生物科技有限公司", "91320583JC31280NRQ", "320583", "unicorn", "unicorn_potential", "biomed biomed.synbio", "synbio", 2012, 60000.0),
    (20, "无锡金陵半导体科技有限公司", "9132021119KFCQYE3Y", "320211", "gazelle", "gazelle_provincial", "semi semi.power", "sic", 2009, 11000.0),
    (21, "宜兴芯动半导体科技股份有限公司", "91320282UX1ED0CRX8", "320282", "unicorn", "unicorn", "semi semi.power", "sic", 2020, 80000.0),
    (22, "苏州思必信息技术股份有限公司", "91320571CDR1C3QRKL", "320571", "srdi", "srdi_sme", "software", "software", 2022, 2600.0),
    (23, "无锡睿思智能装备股份有限公司", "91320213QMNWDN2C36", "320213", "tech_sme", "tech_sme", "equip equip.robot", "robot", 2016, 700.0),
    (24, "苏州铭泰智能装备有限公司", "91320505Y3TC7JKYLX", "320505", "hnte", "hnte", "equip equip.robot", "robot", 2014, 8800.0),
    (25, "宜兴汇川光电科技股份有限公司", "913202825TH2HUCCPE", "320282", "srdi", "srdi_sme", "semi semi.display", "display", 2012, 13000.0),
    (26, "杭州云栖数智科技有限公司", "91330106MA2H4K7X1B", "330106", "hnte", "hnte", "software", "software", 2018, 9900.0),
    (27, "昆山思必信息技术有限公司", "91320583HJ45YJ85UD", "320583", "gazelle", "gazelle_municipal", "software", "software", 2012, 5200.0),
    (28, "苏州瀚海新材料有限公司", "91320505C71WTF273Q", "320505", "hnte", "hnte", "newmat", "carbon", 2020, 4100.0),
    (29, "苏州清源生物科技有限公司", "91320583MB83NP9WM1", "320583", "tech_sme", "tech_sme", "biomed biomed.synbio", "synbio", 2021, None),
    (30, "无锡中科光电科技有限公司", "91320213CYTBWAQG8B", "320213", "hnte", "hnte", "semi semi.display", "display", 2012, 7600.0),
]

EXTRA = {
    1: {"former_names": ["无锡芯动科技有限公司"], "description": FIRM_1_DESCRIPTION},
    14: {"description": "与无锡芯动生物科技有限公司共建联合实验室，开展酶制剂联合攻关。"},
}


def profiles() -> list[dict]:
    firms = []
    for firm_id, name, uscc, region, stage, tier, chains, line, founded, revenue in TABLE:
        path = REGIONS[region]
        products, technologies = PRODUCTS[line]
        firm = {
            "id": firm_id, "uscc": uscc, "name": name, "former_names": [], "description": "",
            "main_products": products, "technologies": technologies, "stage": stage, "tier": tier,
            "region_code": region, "region_path": [code for code, _ in path],
            "region_names": [label for _, label in path], "chains": chains.split(),
            "founded_year": founded, "revenue": revenue, "rd_intensity": None, "revenue_growth": None,
        }
        firm.update(EXTRA.get(firm_id, {}))
        firms.append(firm)
    return firms
