"""Fictional but realistic Jiangsu tech firms: names, USCCs, product/technology profiles.

Pure functions, no Django imports. Every function takes a ``random.Random`` and draws only from
it, so a fixed seed gives the same output. Tables are built once at import; the per-call work is a
few ``rng`` draws and one string join, so a million firms take seconds, not minutes.

* ``firm_name(rng, region, chain_code=None)`` → ``无锡芯动生物科技有限公司`` (may repeat)
* ``unique_firm_name(rng, region, seen, chain_code=None)`` → a name not yet in the set ``seen``
* ``profile_for_chain(rng, chain_code)`` → ``{"main_products", "technologies", "description"}``
* ``uscc(rng, region_code)`` → 18-character USCC, check character from ``stdnum.cn.uscc``
* ``unique_usccs(rng, region_codes, n)`` → ``n`` distinct USCCs (``uscc`` alone may, very rarely, repeat)
* ``former_name(rng, name)`` → a plausible earlier name (曾用名), never equal to ``name``
* ``random_chain(rng)`` → a leaf chain code, for callers that want name and profile to agree
"""

from stdnum.cn.uscc import calc_check_digit

from registry.data import load_chain_rows, load_regions_rows, normalize_region_text, split_aliases

# --- Organisation code alphabet -------------------------------------------------------------
# GB 32100: digits and upper-case letters except I, O, Z, S, V (31 characters).
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
assert len(USCC_ALPHABET) == 31 and not set("IOZSV") & set(USCC_ALPHABET)
# All 3-character blocks: an organisation code is three draws instead of nine.
_ORG_BLOCKS = tuple(a + b + c for a in USCC_ALPHABET for b in USCC_ALPHABET for c in USCC_ALPHABET)
USCC_PREFIX = "91"  # 9 = registered by market regulation (工商), 1 = company (企业)

# --- Brands (字号) ------------------------------------------------------------------------------
_BRAND_FIRST = (
    "芯华鼎凌汇智晶恒博星海金天中新科锐瑞卓领睿创嘉安宏德联英远众长东明云朗合聚驰启昊翔弘泰源浩宇盛永信"
    "微光迈航昇威普达盈康诺优极致赛斯铭奥峰凯捷越腾辰晨思维鸿"
)
_BRAND_SECOND = (
    "动新云川源微达创辉远泰能科芯擎联光迈越捷腾睿通航晟诺拓盈益和明康邦飞峰鑫宇华创昱锋驰赫煜"
    "瑞恒德信智维森安博嘉朗立升诚杰景润弘昌佳"
)
_CURATED_BRANDS = (
    "金陵", "凌云", "鼎新", "汇川", "芯动", "华擎", "智源", "海创", "星河", "博远", "卓联", "晶微", "太湖",
    "梁溪", "姑苏", "锡通", "吴越", "江南", "龙城", "钟山", "紫金", "秦淮", "运河", "阳澄", "金鸡", "东吴",
)


def _brands():
    seen, out = set(), []
    for brand in _CURATED_BRANDS:
        if brand not in seen:
            seen.add(brand)
            out.append(brand)
    for a in _BRAND_FIRST:
        for b in _BRAND_SECOND:
            brand = a + b
            if a != b and brand not in seen:
                seen.add(brand)
                out.append(brand)
    return tuple(out)


BRANDS = _brands()

# --- Chains: industry words (行业表述), products, technologies, application fields -------------
# Keyed by leaf chain code (chains.csv). Industry words are what goes in the firm name.
_CHAIN_DATA = {
    "ic.design": (
        ("微电子", "半导体", "集成电路", "电子科技", "芯片科技"),
        ("模拟芯片", "电源管理芯片", "MCU微控制器", "射频前端芯片", "高速接口芯片", "CMOS图像传感器芯片",
         "存储控制芯片", "车规级SoC芯片", "FPGA芯片", "AI推理芯片"),
        ("集成电路设计", "低功耗电路设计", "数模混合信号设计", "IP核开发", "RISC-V架构", "车规级芯片认证",
         "先进工艺节点设计", "芯片验证"),
    ),
    "ic.manufacturing": (
        ("半导体", "集成电路", "微电子", "半导体制造"),
        ("12英寸晶圆代工", "8英寸特色工艺晶圆", "功率器件晶圆", "MEMS晶圆", "BCD工艺晶圆", "硅基光电子晶圆"),
        ("晶圆制造", "光刻工艺", "刻蚀工艺", "薄膜沉积", "离子注入", "特色工艺平台", "良率提升", "化学机械抛光"),
    ),
    "ic.packaging": (
        ("半导体", "微电子", "电子科技", "封装测试"),
        ("晶圆级封装", "系统级封装（SiP）", "倒装芯片封装", "功率模块封装", "集成电路测试服务", "先进封装基板"),
        ("先进封装", "Chiplet异构集成", "凸块工艺", "硅通孔（TSV）", "扇出型封装", "晶圆测试", "可靠性测试"),
    ),
    "ic.equipment": (
        ("半导体设备", "半导体材料", "电子材料", "精密设备", "半导体科技"),
        ("半导体清洗设备", "刻蚀设备零部件", "湿电子化学品", "光刻胶配套材料", "高纯溅射靶材", "晶圆缺陷检测设备",
         "电子特种气体"),
        ("半导体设备国产化", "超高纯材料提纯", "精密温控", "真空技术", "晶圆缺陷检测", "等离子体技术"),
    ),
    "ict.software": (
        ("信息技术", "软件", "软件技术", "网络科技", "数字科技"),
        ("工业软件", "企业资源计划（ERP）系统", "工业互联网平台", "数字孪生平台", "低代码开发平台", "网络安全软件",
         "嵌入式软件"),
        ("软件开发", "微服务架构", "数字孪生", "云原生", "数据安全", "信创适配", "工业互联网"),
    ),
    "ict.iot": (
        ("物联网科技", "智能科技", "传感技术", "电子科技"),
        ("物联网通信模组", "智能传感器", "边缘计算网关", "NB-IoT终端", "RFID电子标签", "智能电表", "环境监测终端"),
        ("物联网", "边缘计算", "低功耗广域网", "MEMS传感器", "多传感器融合", "无线组网"),
    ),
    "ict.display": (
        ("光电科技", "显示技术", "光电", "显示科技"),
        ("Micro LED 显示模组", "Mini LED 背光模组", "OLED显示面板", "车载显示屏", "激光投影光机", "触控显示一体机"),
        ("新型显示", "Micro LED巨量转移", "量子点显示", "柔性显示", "显示驱动", "全贴合工艺"),
    ),
    "ict.comm": (
        ("通信技术", "通讯科技", "射频科技", "网络技术"),
        ("5G基站天线", "射频滤波器", "工业路由器", "毫米波雷达", "通信电源", "小基站设备"),
        ("5G通信", "射频前端设计", "毫米波技术", "天线设计", "数字信号处理", "时间敏感网络"),
    ),
    "ict.bigdata": (
        ("数据科技", "信息技术", "数字科技", "云计算科技"),
        ("大数据分析平台", "云计算服务", "数据治理平台", "智慧城市运营平台", "算力调度平台", "数据中心运维系统"),
        ("大数据", "云计算", "分布式存储", "数据治理", "隐私计算", "算力调度"),
    ),
    "ai.vision": (
        ("智能科技", "视觉科技", "人工智能科技", "智能技术"),
        ("工业视觉检测系统", "3D视觉相机", "智能安防摄像机", "表面缺陷检测设备", "视觉定位系统", "智能读码器"),
        ("机器视觉", "深度学习", "计算机视觉", "三维重建", "图像识别", "缺陷检测算法"),
    ),
    "ai.speech": (
        ("智能科技", "语音科技", "人工智能科技", "声学科技"),
        ("智能语音模组", "语音交互系统", "智能客服平台", "语音识别引擎", "会议转写系统", "车载语音助手"),
        ("语音识别", "语音合成", "自然语言处理", "声纹识别", "远场拾音", "多模态交互"),
    ),
    "ai.model": (
        ("人工智能科技", "智能科技", "数据科技", "智能技术"),
        ("行业大模型", "智能决策平台", "AI训练平台", "知识图谱系统", "智能体应用", "算法推理服务"),
        ("大模型", "深度学习", "知识图谱", "强化学习", "模型压缩", "检索增强生成"),
    ),
    "ai.autonomous": (
        ("智能驾驶科技", "智能科技", "智行科技", "汽车科技"),
        ("自动驾驶域控制器", "车载激光雷达", "智能驾驶系统", "无人配送车", "高精度定位模块", "车路协同路侧设备"),
        ("自动驾驶", "多传感器融合", "高精度定位", "路径规划", "车路协同", "线控底盘"),
    ),
    "biomed.drug": (
        ("医药科技", "生物医药", "药业", "生物科技", "制药"),
        ("抗体药物", "小分子靶向药", "抗体偶联药物（ADC）", "多肽药物", "mRNA疫苗", "细胞治疗产品", "创新制剂"),
        ("创新药研发", "抗体工程", "靶点筛选", "药物递送", "临床前研究", "生物药工艺开发", "CAR-T细胞治疗"),
    ),
    "biomed.synbio": (
        ("生物科技", "生物工程", "合成生物科技", "生物技术"),
        ("合成生物学酶制剂", "生物基材料", "发酵法氨基酸", "天然产物生物合成", "功能性食品原料", "生物农药"),
        ("合成生物学", "酶工程", "代谢工程", "菌种构建", "发酵工艺", "高通量筛选", "生物催化"),
    ),
    "biomed.device": (
        ("医疗器械", "医疗科技", "医学科技", "医疗设备"),
        ("高端医学影像设备", "手术机器人", "心血管介入器械", "骨科植入物", "医用内窥镜", "体外循环设备", "康复医疗器械"),
        ("医疗器械", "医学影像", "微创介入", "生物相容性材料", "精密加工", "医用传感器"),
    ),
    "biomed.ivd": (
        ("生物科技", "诊断技术", "医疗科技", "生物医学"),
        ("化学发光检测试剂", "分子诊断试剂盒", "POCT即时检测设备", "基因测序仪", "全自动生化分析仪", "数字病理系统"),
        ("体外诊断", "化学发光", "分子诊断", "微流控芯片", "基因测序", "免疫检测"),
    ),
    "newenergy.pv": (
        ("光伏科技", "新能源科技", "能源科技", "太阳能科技"),
        ("N型TOPCon电池片", "异质结光伏组件", "光伏逆变器", "光伏跟踪支架", "钙钛矿电池", "光伏背板"),
        ("光伏", "TOPCon", "异质结", "钙钛矿叠层", "最大功率点跟踪", "光伏组件封装"),
    ),
    "newenergy.storage": (
        ("储能科技", "新能源科技", "电池科技", "能源科技"),
        ("储能变流器", "磷酸铁锂储能电池", "储能电池管理系统", "户用储能系统", "钠离子电池", "液冷储能柜"),
        ("储能", "电池管理系统", "热管理", "钠离子电池", "电芯制造", "能量管理系统"),
    ),
    "newenergy.hydrogen": (
        ("氢能科技", "氢能源", "新能源科技", "能源科技"),
        ("氢燃料电池电堆", "电解水制氢设备", "车载储氢瓶", "膜电极", "加氢站设备", "燃料电池系统"),
        ("氢能", "质子交换膜", "碱性电解槽", "高压储氢", "膜电极制备", "氢安全"),
    ),
    "newenergy.nev": (
        ("新能源汽车科技", "汽车科技", "动力科技", "电驱科技"),
        ("驱动电机", "电机控制器", "车载充电机", "动力电池包", "整车热管理系统", "直流快充桩"),
        ("新能源汽车", "电驱动系统", "碳化硅电控", "大功率快充", "整车热管理", "轻量化"),
    ),
    "newenergy.wind": (
        ("风电科技", "风能科技", "新能源装备", "能源装备"),
        ("风电齿轮箱", "风电叶片", "风电主轴轴承", "海上风电塔筒", "变桨系统", "风电变流器"),
        ("风电", "海上风电", "大型铸锻件", "叶片复合材料", "状态监测", "变流控制"),
    ),
    "materials.carbonfiber": (
        ("新材料", "碳纤维", "复合材料", "新材料科技"),
        ("高性能碳纤维复合材料", "碳纤维预浸料", "碳纤维缠绕气瓶", "碳陶刹车盘", "玻璃纤维增强材料", "碳纤维结构件"),
        ("碳纤维", "复合材料成型", "预浸料工艺", "热压罐成型", "树脂基体改性", "轻量化设计"),
    ),
    "materials.wbg": (
        ("半导体", "新材料科技", "半导体材料", "电子材料"),
        ("碳化硅功率器件", "碳化硅衬底", "氮化镓外延片", "氮化镓射频器件", "碳化硅MOSFET", "氧化镓材料"),
        ("第三代半导体", "碳化硅", "氮化镓", "外延生长", "晶体生长", "宽禁带功率器件"),
    ),
    "materials.nano": (
        ("纳米科技", "纳米材料", "新材料", "新材料科技"),
        ("纳米二氧化硅", "碳纳米管导电浆料", "石墨烯薄膜", "纳米功能涂层", "纳米银线", "纳米催化剂"),
        ("纳米材料", "纳米粉体制备", "表面改性", "石墨烯", "碳纳米管", "纳米分散"),
    ),
    "materials.polymer": (
        ("高分子材料", "新材料", "新材料科技", "功能材料"),
        ("特种工程塑料", "聚酰亚胺薄膜", "高性能分离膜", "电子级胶粘剂", "生物可降解材料", "改性尼龙"),
        ("高分子材料", "聚合工艺", "材料改性", "双向拉伸", "配方设计", "生物降解"),
    ),
    "materials.metal": (
        ("金属材料", "合金材料", "新材料", "特种材料"),
        ("高温合金", "钛合金材料", "高强铝合金型材", "精密合金带材", "稀土永磁材料", "3D打印金属粉末"),
        ("先进金属材料", "粉末冶金", "真空熔炼", "增材制造", "热处理工艺", "精密轧制"),
    ),
    "equipment.robot": (
        ("机器人", "机器人科技", "自动化科技", "智能装备"),
        ("工业机器人减速器", "六轴工业机器人", "协作机器人", "伺服电机", "机器人控制器", "AGV移动机器人"),
        ("工业机器人", "精密减速器", "运动控制", "伺服驱动", "视觉引导", "人机协作"),
    ),
    "equipment.smart": (
        ("智能装备", "智能制造", "自动化设备", "装备科技"),
        ("智能生产线", "五轴数控机床", "自动化装配设备", "锂电池生产设备", "智能仓储系统", "激光焊接设备"),
        ("智能制造", "数控系统", "工业自动化", "柔性制造", "在线检测", "数字化车间"),
    ),
    "equipment.precision": (
        ("精密机械", "精密工业", "精密科技", "机械科技"),
        ("精密轴承", "精密模具", "精密传动部件", "液压元件", "精密结构件", "直线导轨"),
        ("精密机械", "超精密加工", "精密铸造", "表面处理", "精密测量", "热处理"),
    ),
    "equipment.marine": (
        ("海洋工程装备", "船舶科技", "海工装备", "海洋科技"),
        ("海洋平台模块", "船用动力系统", "海工起重设备", "水下机器人", "船舶电气系统", "海底电缆"),
        ("海工装备", "海洋工程", "船舶设计", "水下作业", "海洋防腐", "动力定位"),
    ),
    "photonics.laser": (
        ("激光科技", "激光技术", "光电科技", "激光"),
        ("光纤激光器", "超快激光器", "激光切割设备", "激光雷达光源", "半导体激光器", "激光打标机"),
        ("激光", "超快激光", "光纤激光", "激光精密加工", "光束整形", "泵浦技术"),
    ),
    "photonics.optcomm": (
        ("光通信", "光电子", "光电科技", "光电技术"),
        ("高速光模块", "光芯片", "光纤连接器", "平面光波导分路器", "硅光器件", "光收发组件"),
        ("光通信", "硅光子", "相干光通信", "光电集成", "光器件封装", "高速调制"),
    ),
    "photonics.optics": (
        ("光学", "光学科技", "精密光学", "光电科技"),
        ("精密光学镜头", "红外光学元件", "光学镀膜元件", "衍射光学元件", "车载摄像头镜头", "AR光波导"),
        ("精密光学", "光学设计", "光学镀膜", "非球面加工", "红外成像", "光波导"),
    ),
    "aerospace.uav": (
        ("无人机科技", "航空科技", "智能飞行器", "低空科技"),
        ("工业级无人机", "eVTOL飞行器", "植保无人机", "无人机飞控系统", "无人机反制系统", "物流无人机"),
        ("无人机", "低空经济", "飞控算法", "垂直起降", "航电系统", "集群控制"),
    ),
    "aerospace.satellite": (
        ("卫星科技", "空天科技", "航天科技", "导航科技"),
        ("卫星通信终端", "相控阵天线", "北斗导航模块", "卫星有效载荷", "遥感数据服务", "星载计算机"),
        ("卫星互联网", "北斗导航", "相控阵", "遥感", "星间链路", "抗辐照设计"),
    ),
    "aerospace.parts": (
        ("航空科技", "航空零部件", "航空装备", "航空工业"),
        ("航空发动机叶片", "航空紧固件", "航空结构件", "机载电子设备", "航空液压件", "航空复合材料部件"),
        ("航空制造", "精密锻造", "钛合金加工", "适航认证", "复合材料成型", "无损检测"),
    ),
    "green.water": (
        ("环保科技", "水处理科技", "环境科技", "水务科技"),
        ("MBR膜生物反应器", "工业废水处理设备", "反渗透膜组件", "污泥处理设备", "一体化污水处理设备", "水质在线监测仪"),
        ("水处理", "膜分离", "高级氧化", "生物脱氮除磷", "废水零排放", "智慧水务"),
    ),
    "green.energysaving": (
        ("节能科技", "节能技术", "环保设备", "热能科技"),
        ("高效节能电机", "余热回收装置", "磁悬浮鼓风机", "空气源热泵", "节能变压器", "工业节能控制系统"),
        ("节能", "余热利用", "变频控制", "热泵技术", "能效管理", "磁悬浮轴承"),
    ),
    "green.recycling": (
        ("再生资源", "循环科技", "环境科技", "资源科技"),
        ("废旧锂电池回收", "再生塑料颗粒", "固废资源化设备", "再生有色金属", "建筑垃圾再生骨料", "废催化剂回收"),
        ("资源循环利用", "湿法冶金", "固废资源化", "智能分选", "再生造粒", "绿色低碳"),
    ),
}

# Application fields, by root chain (biomed by leaf: drugs and devices serve different fields).
_FIELDS = {
    "ic": ("消费电子", "汽车电子", "工业控制", "通信设备", "数据中心", "物联网"),
    "ict": ("智能制造", "智慧城市", "金融", "能源电力", "交通物流", "消费电子"),
    "ai": ("智能制造", "智慧城市", "安防", "智能汽车", "医疗健康", "金融"),
    "biomed.drug": ("肿瘤治疗", "自身免疫疾病治疗", "代谢疾病治疗", "抗感染", "心脑血管疾病治疗"),
    "biomed.synbio": ("食品营养", "日化美妆", "农业", "医药中间体", "绿色化工"),
    "biomed.device": ("医院影像科", "心血管介入", "骨科", "微创外科", "康复医疗"),
    "biomed.ivd": ("医院检验科", "基层医疗", "第三方医学检验", "疾病筛查", "精准医疗"),
    "newenergy": ("光伏电站", "电网侧储能", "工商业储能", "新能源汽车", "轨道交通", "分布式能源"),
    "materials": ("航空航天", "新能源汽车", "半导体", "电子信息", "轨道交通", "风电"),
    "equipment": ("汽车制造", "3C电子", "锂电", "光伏", "船舶", "工程机械"),
    "photonics": ("工业加工", "数据中心", "光通信", "医疗美容", "智能汽车", "消费电子"),
    "aerospace": ("应急救援", "物流配送", "农林植保", "测绘", "通信导航", "民用航空"),
    "green": ("市政污水", "工业园区", "化工", "钢铁", "新能源汽车", "城市固废"),
}

_DESCRIPTIONS = (
    "公司专注于{t0}与{t1}技术的研发和产业化，主要产品包括{products}，广泛应用于{fields}等领域。",
    "企业以{t0}为核心，围绕{t1}、{t2}持续投入研发，已形成{p0}等系列产品，服务{fields}等行业客户。",
    "主要从事{products}的研发、生产和销售，掌握{t0}、{t1}等关键技术，产品应用于{fields}领域。",
    "一家专注{chain}领域的高新技术企业，核心产品为{p0}，拥有{t0}相关发明专利，客户覆盖{fields}等行业。",
    "公司深耕{chain}产业链，依托{t0}和{t2}技术平台，提供{products}，致力于{fields}领域的国产化替代。",
)


def _load_chains():
    rows = load_chain_rows()
    names = {row["code"]: row["name"] for row in rows}
    leaves_of = {}
    for row in rows:
        if row["parent_code"]:
            leaves_of.setdefault(row["parent_code"], []).append(row["code"])
    leaves = tuple(code for code in names if code in _CHAIN_DATA)
    missing = [row["code"] for row in rows if row["parent_code"] and row["code"] not in _CHAIN_DATA]
    if missing:
        raise RuntimeError(f"registry.demo.names has no vocabulary for chains {missing}")
    return names, {root: tuple(children) for root, children in leaves_of.items()}, leaves


CHAIN_NAMES, _LEAVES_OF_ROOT, LEAF_CHAINS = _load_chains()


def _profile_tables():
    tables = {}
    for code, (industries, products, techs) in _CHAIN_DATA.items():
        root = code.split(".", 1)[0]
        fields = _FIELDS.get(code) or _FIELDS[root]
        tables[code] = (industries, products, techs, fields, CHAIN_NAMES[code])
    return tables


_TABLES = _profile_tables()
# Industry words of a root chain = union of its leaves'.
_INDUSTRIES = {code: t[0] for code, t in _TABLES.items()}
for _root, _leaves in _LEAVES_OF_ROOT.items():
    _INDUSTRIES[_root] = tuple(dict.fromkeys(w for leaf in _leaves for w in _INDUSTRIES[leaf]))
_ALL_INDUSTRIES = tuple(sorted({w for words in _INDUSTRIES.values() for w in words}))

# --- Region prefixes (行政区划 part of a firm name) ---------------------------------------------


def _short(name):
    for suffix in ("壮族自治区", "回族自治区", "维吾尔自治区", "特别行政区", "自治区", "省", "市", "区", "县"):
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


def _build_prefixes():
    """Region name/alias/code → the prefix a firm registered there would carry.

    A firm in an urban district (吴中区) or a park (苏州工业园区) is usually named after its city
    (苏州…); a firm in a county-level city or county after that city or county (宜兴…, 沭阳…).
    """
    rows = sorted(load_regions_rows(), key=lambda row: row["code"])
    by_code = {row["code"]: row for row in rows}
    prefixes = {}
    for row in rows:
        name, level = row["name"], row["level"]
        if level in ("province", "city") or (level == "district" and not name.endswith("区")):
            prefix = _short(name)
        else:  # urban district or park → its city
            prefix = _short(by_code[row["parent_code"]]["name"])
        for key in (row["code"], name, *split_aliases(row)):
            # Rows come in code order, so a name shared by two rows (鼓楼区: 南京 320106 and
            # 徐州 320302) keeps the lower code's prefix; pass the code or 徐州市鼓楼区 for the other.
            prefixes.setdefault(normalize_region_text(key), prefix)
    return prefixes


_PREFIX_OF = _build_prefixes()
REGION_PREFIXES = tuple(sorted(set(_PREFIX_OF.values()), key=lambda p: (-len(p), p)))


def region_prefix(region):
    """The name prefix for a region name, alias or code (``无锡市滨湖区`` → ``无锡``, ``宜兴市`` → ``宜兴``).

    Unknown text falls back to the text without its 市/区/县 suffix.
    """
    prefix = _PREFIX_OF.get(region)
    if prefix is None:
        key = normalize_region_text(region)
        prefix = _PREFIX_OF.get(key) or _short(key)
        if key:
            _PREFIX_OF[region] = prefix  # memo: callers pass the same few region texts again and again
    return prefix


# --- Public generators -------------------------------------------------------------------------


def random_chain(rng):
    """A leaf chain code, uniformly."""
    return rng.choice(LEAF_CHAINS)


def firm_name(rng, city_or_district_name, chain_code=None):
    """``{region prefix}{brand}{industry word}{有限公司|股份有限公司}``, e.g. ``宜兴凌云新材料股份有限公司``.

    ``chain_code`` (leaf or root, from chains.csv) picks the industry word; without it a random
    leaf chain is used. About one firm in six is a 股份有限公司.
    """
    industries = _INDUSTRIES[chain_code] if chain_code else _INDUSTRIES[rng.choice(LEAF_CHAINS)]
    form = "股份有限公司" if rng.random() < 0.16 else "有限公司"
    return region_prefix(city_or_district_name) + rng.choice(BRANDS) + rng.choice(industries) + form


def unique_firm_name(rng, city_or_district_name, seen, chain_code=None, attempts=100):
    """``firm_name`` redrawn until it is not in ``seen`` (a set the caller keeps); adds it to ``seen``.

    ``firm_name`` alone repeats: about 3 % of a million draws across Jiangsu, more when many firms
    share one city. Raises ``RuntimeError`` if ``attempts`` draws all collide.
    """
    for _ in range(attempts):
        name = firm_name(rng, city_or_district_name, chain_code)
        if name not in seen:
            seen.add(name)
            return name
    raise RuntimeError(f"no unused firm name for {city_or_district_name!r}/{chain_code!r} after {attempts} draws")


def profile_for_chain(rng, chain_code):
    """Products, core technologies and a one-paragraph description for a firm on ``chain_code``.

    A root code (``ic``) picks one of its leaves. All three values are plain Chinese text
    (products and technologies joined with 、), ready for TextFields and full-text search.
    """
    leaves = _LEAVES_OF_ROOT.get(chain_code)
    if leaves:
        chain_code = rng.choice(leaves)
    _industries, products, techs, fields, chain_name = _TABLES[chain_code]
    chosen_products = rng.sample(products, rng.randint(1, 3))
    chosen_techs = rng.sample(techs, rng.randint(3, 4))
    chosen_fields = rng.sample(fields, 2)
    template = rng.choice(_DESCRIPTIONS)
    product_text = "、".join(chosen_products)
    description = template.format(
        t0=chosen_techs[0], t1=chosen_techs[1], t2=chosen_techs[2], p0=chosen_products[0],
        products=product_text, fields="、".join(chosen_fields), chain=chain_name,
    )
    return {"main_products": product_text, "technologies": "、".join(chosen_techs), "description": description}


def uscc(rng, region_code):
    """A valid 18-character USCC: ``91`` + 6-digit region code + 9-character organisation code + check.

    The check character comes from ``stdnum.cn.uscc.calc_check_digit``. Not unique by itself: see
    ``unique_usccs``.
    """
    if region_code not in _CHECKED_REGION_CODES:
        if not (isinstance(region_code, str) and len(region_code) == 6 and region_code.isascii()
                and region_code.isdigit()):
            raise ValueError(f"region code must be 6 digits, got {region_code!r}")
        _CHECKED_REGION_CODES.add(region_code)
    choice = rng.choice
    body = USCC_PREFIX + region_code + choice(_ORG_BLOCKS) + choice(_ORG_BLOCKS) + choice(_ORG_BLOCKS)
    return body + calc_check_digit(body)


_CHECKED_REGION_CODES = set()


def unique_usccs(rng, region_codes, n):
    """``n`` distinct USCCs, each in a region drawn uniformly from ``region_codes`` (a sequence).

    Deterministic for a given rng state; duplicates (about 1 in 10^13 per pair within a region)
    are redrawn.
    """
    region_codes = tuple(region_codes)
    if not region_codes:
        raise ValueError("region_codes is empty")
    seen, out = set(), []
    choice = rng.choice
    while len(out) < n:
        code = uscc(rng, choice(region_codes))
        if code not in seen:
            seen.add(code)
            out.append(code)
    return out


_FORMS = ("股份有限公司", "有限责任公司", "有限公司")
# What a firm was often called before it turned to high tech (…机械有限公司 → …智能装备有限公司).
_OLD_INDUSTRIES = ("电子", "机械", "机电", "五金", "化工", "电器", "塑料制品", "仪器仪表", "实业", "贸易", "科技",
                   "工贸", "自动化设备", "电子科技")


def _split_name(name):
    """(prefix, brand, industry, form) of a generated-looking name; prefix may be ''."""
    form = next((f for f in _FORMS if name.endswith(f)), "")
    core = name[: len(name) - len(form)] if form else name
    prefix = next((p for p in REGION_PREFIXES if core.startswith(p) and len(core) > len(p) + 2), "")
    if not prefix and len(core) > 4:  # an unknown region prefix: generated names always carry one
        prefix = core[:2]
    rest = core[len(prefix):]
    return prefix, rest[:2], rest[2:], form


def former_name(rng, name):
    """A plausible earlier registered name (曾用名) for ``name``; never equal to it.

    One of: a 股份有限公司 before its joint-stock reform (…有限公司); the same firm as
    …有限责任公司; a former brand; an older, less high-tech industry word (…机械有限公司).
    """
    prefix, brand, industry, form = _split_name(name)
    for _ in range(8):
        r = rng.random()
        if form == "股份有限公司" and r < 0.5:
            candidate = prefix + brand + industry + "有限公司"
        elif r < 0.2:
            candidate = prefix + brand + industry + ("有限公司" if form == "有限责任公司" else "有限责任公司")
        elif r < 0.6:
            candidate = prefix + rng.choice(BRANDS) + industry + (form or "有限公司")
        else:
            old = rng.choice(_OLD_INDUSTRIES)
            candidate = prefix + brand + old + ("有限公司" if form == "股份有限公司" else (form or "有限公司"))
        if candidate != name:
            return candidate
    return prefix + brand + industry + "有限责任公司" if form != "有限责任公司" else prefix + brand + industry + "有限公司"
