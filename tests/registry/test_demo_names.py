"""Reference CSVs (regions, chains) and the demo-firm generators. Plain pytest, no database."""

import csv
import random
import re
from pathlib import Path

import pytest
from stdnum.cn import uscc as stdnum_uscc

from registry.data import (
    load_chain_rows,
    load_regions_rows,
    normalize_region_text,
    region_index,
    resolve_region,
    split_aliases,
)
from registry.demo import names
from tests.counting import CallCounter

SAMPLE_DATA = Path(__file__).resolve().parents[1] / "data"
JIANGSU_CITIES = {
    "320100": "南京市", "320200": "无锡市", "320300": "徐州市", "320400": "常州市", "320500": "苏州市",
    "320600": "南通市", "320700": "连云港市", "320800": "淮安市", "320900": "盐城市", "321000": "扬州市",
    "321100": "镇江市", "321200": "泰州市", "321300": "宿迁市",
}
NOT_A_REGION = "火星市"


@pytest.fixture(scope="module")
def regions():
    return load_regions_rows()


@pytest.fixture(scope="module")
def region_by_code(regions):
    return {row["code"]: row for row in regions}


@pytest.fixture(scope="module")
def jiangsu_codes(regions):
    return [row["code"] for row in regions if row["code"].startswith("32")]


# --- regions.csv ------------------------------------------------------------------------------


def test_regions_header_and_shape(regions):
    with open(Path(names.__file__).resolve().parents[1] / "data" / "regions.csv", encoding="utf-8") as fh:
        assert fh.readline().strip() == "code,name,level,parent_code,aliases"
    for row in regions:
        assert re.fullmatch(r"\d{6}", row["code"]), row
        assert row["name"] and row["level"] in {"province", "city", "district", "park"}, row
        assert (row["parent_code"] == "") == (row["level"] == "province"), row


def test_region_codes_unique_and_parents_exist(regions, region_by_code):
    codes = [row["code"] for row in regions]
    assert len(codes) == len(set(codes))
    position = {code: i for i, code in enumerate(codes)}
    for row in regions:
        if row["parent_code"]:
            assert row["parent_code"] in region_by_code, row
            assert position[row["parent_code"]] < position[row["code"]], "loader yields parents first"


def test_region_levels_and_code_prefixes(regions, region_by_code):
    expected_parent_level = {"city": {"province"}, "district": {"city", "province"}, "park": {"city", "province"}}
    for row in regions:
        if row["level"] == "province":
            assert row["code"].endswith("0000"), row
            continue
        parent = region_by_code[row["parent_code"]]
        assert parent["level"] in expected_parent_level[row["level"]], row
        if parent["level"] == "province" and row["level"] != "city":
            # 北京市东城区, 湖北省仙桃市: only where GB/T 2260 has no prefecture in between
            assert row["code"][:4] + "00" not in region_by_code, row
            continue
        if row["level"] == "city":
            assert row["code"][:2] == parent["code"][:2] and row["code"].endswith("00"), row
        elif row["level"] == "district":
            assert row["code"][:4] == parent["code"][:4] and not row["code"].endswith("00"), row
        # parks are exempt from the prefix rule (a park may sit under any city or district)


def test_all_provinces_present(regions):
    provinces = {row["code"][:2] for row in regions if row["level"] == "province"}
    assert provinces >= {
        "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
        "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65",
    }
    parents = {row["parent_code"] for row in regions}
    for row in regions:
        if row["level"] == "province" and row["code"] not in ("710000", "810000", "820000"):
            assert row["code"] in parents, f"{row['name']} has no cities or counties"
    # GB/T 2260 (2024): about 333 prefecture-level and 2,846 county-level divisions
    assert 330 <= sum(r["level"] == "city" for r in regions) <= 340
    assert 2800 <= sum(r["level"] == "district" for r in regions) <= 2900


def test_every_jiangsu_city_with_districts(regions, region_by_code):
    regions = [r for r in regions if r["code"].startswith("32")]
    for code, name in JIANGSU_CITIES.items():
        assert region_by_code[code]["name"] == name and region_by_code[code]["parent_code"] == "320000"
        districts = [r for r in regions if r["parent_code"] == code and r["level"] == "district"]
        assert len(districts) >= 4, name
    cities = [r for r in regions if r["level"] == "city"]
    assert {r["code"] for r in cities} == set(JIANGSU_CITIES)
    # 95 county-level divisions: 55 districts, 21 county-level cities, 19 counties.
    districts = [r for r in regions if r["level"] == "district"]
    assert len(districts) == 95
    assert sum(r["name"].endswith("区") for r in districts) == 55
    assert sum(r["name"].endswith("市") for r in districts) == 21
    assert sum(r["name"].endswith("县") for r in districts) == 19


@pytest.mark.parametrize(
    "code,name",
    [
        ("320505", "虎丘区"), ("320506", "吴中区"), ("320507", "相城区"), ("320508", "姑苏区"), ("320509", "吴江区"),
        ("320581", "常熟市"), ("320582", "张家港市"), ("320583", "昆山市"), ("320585", "太仓市"),
        ("320205", "锡山区"), ("320206", "惠山区"), ("320211", "滨湖区"), ("320213", "梁溪区"), ("320214", "新吴区"),
        ("320281", "江阴市"), ("320282", "宜兴市"), ("320115", "江宁区"), ("320412", "武进区"),
        ("320571", "苏州工业园区"),
    ],
)
def test_known_codes(region_by_code, code, name):
    assert region_by_code[code]["name"] == name


def test_shared_aliases_are_ambiguous_never_guessed(regions):
    """Across China many short names repeat (朝阳, 通州, 鼓楼): such a text resolves to nobody alone."""
    owners = {}
    for row in regions:
        for text in (row["name"], *split_aliases(row)):
            owners.setdefault(normalize_region_text(text), set()).add(row["code"])
    index = region_index()
    for key, codes in owners.items():
        assert index[key] == (next(iter(codes)) if len(codes) == 1 else None), key
    assert owners["通州"] == {"110112", "320612"} and owners["鼓楼区"] >= {"320106", "320302", "350102"}
    # Jiangsu's own aliases (the lists officers import) stay unique.
    jiangsu = {k: c for k, c in owners.items() if any(code.startswith("32") for code in c)}
    assert all(len(c) == 1 for k, c in jiangsu.items() if "江苏" in k or "苏州" in k or "无锡" in k)


@pytest.mark.parametrize(
    "text,code",
    [
        ("无锡高新区（新吴区）", "320214"), ("无锡高新区(新吴区)", "320214"), ("无锡市新吴区", "320214"),
        ("苏州高新区", "320505"), ("苏州市虎丘区", "320505"), ("苏州工业园区", "320571"), ("苏州市吴中区", "320506"),
        ("吴中", "320506"), ("昆山", "320583"), (" 宜兴市 ", "320282"), ("江苏省", "320000"), ("江苏", "320000"),
        ("淮安", "320800"), ("南京市鼓楼区", "320106"), ("徐州市鼓楼区", "320302"), ("320583", "320583"),
        ("广西", "450000"),
    ],
)
def test_resolve_region(text, code):
    assert resolve_region(text) == code


def test_resolve_region_rejects_unknown_and_ambiguous():
    assert resolve_region(NOT_A_REGION) is None
    assert resolve_region("鼓楼区") is None  # 南京 and 徐州 both have one
    assert resolve_region("") is None and resolve_region(None) is None
    assert resolve_region("999999") is None
    assert region_index()[normalize_region_text("鼓楼区")] is None


# --- every region text in the sample files (tests/data) -------------------------------------------------


def _read_csv(path):
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gbk"):
        try:
            return list(csv.reader(raw.decode(encoding).splitlines()))
        except UnicodeDecodeError:
            continue
    raise AssertionError(f"cannot decode {path}")


_REGION_HEADER = re.compile(r"(所在地区|所属地区|地区|省份|region_name)")
_SHEET_TITLE = re.compile(r"名单[（(]([^（）()]+)[）)]\s*$")


def _sample_region_texts():
    """(file, text) for every non-blank value in a region column, plus district sheet names."""
    found = set()
    for path in sorted(SAMPLE_DATA.glob("*.csv")):
        rows = _read_csv(path)
        header = [h.strip() for h in rows[0]]
        columns = [i for i, h in enumerate(header) if _REGION_HEADER.fullmatch(h)]
        for row in rows[1:]:
            for i in columns:
                if i < len(row) and row[i].strip():
                    found.add((path.name, row[i].strip()))
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - openpyxl is a project dependency
        return sorted(found)
    for path in sorted(SAMPLE_DATA.glob("*.xlsx")):
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            for sheet in workbook.worksheets:
                rows = sheet.iter_rows(values_only=True)
                for row in rows:
                    title = next((str(c).strip() for c in row if c not in (None, "")), "")
                    district = _SHEET_TITLE.search(title)
                    if district:  # 2024年度苏州市瞪羚企业名单（昆山市）: one sheet per district
                        found.add((path.name, district.group(1)))
                        found.add((path.name, sheet.title.strip()))
                    cells = [str(c).strip() if c is not None else "" for c in row]
                    columns = [i for i, h in enumerate(cells) if _REGION_HEADER.fullmatch(h)]
                    if columns:
                        for data in rows:
                            for i in columns:
                                if i < len(data) and data[i] not in (None, "") and str(data[i]).strip():
                                    found.add((path.name, str(data[i]).strip()))
                        break
        finally:
            workbook.close()
    return sorted(found)


SAMPLE_REGION_TEXTS = _sample_region_texts()


def test_sample_region_texts_found():
    texts = {text for _, text in SAMPLE_REGION_TEXTS}
    assert {"苏州工业园区", "无锡市滨湖区", "宜兴市", "昆山市", "南京市江宁区", "无锡高新区（新吴区）", "江苏省"} <= texts
    assert NOT_A_REGION in texts
    assert {"苏州市虎丘区", "江阴市"} <= {t for f, t in SAMPLE_REGION_TEXTS if f.startswith("gazelle")}


@pytest.mark.parametrize("source,text", SAMPLE_REGION_TEXTS)
def test_sample_region_text_resolves(source, text):
    if text == NOT_A_REGION:
        assert resolve_region(text) is None
    else:
        assert resolve_region(text) is not None, f"{source}: {text}"


def test_policy_target_codes_match_names():
    path = SAMPLE_DATA / "policy_targets.csv"
    rows = _read_csv(path)
    header = rows[0]
    code_i, name_i = header.index("region_code"), header.index("region_name")
    for row in rows[1:]:
        if row and row[code_i]:
            assert resolve_region(row[name_i]) == row[code_i], row


# --- chains.csv -------------------------------------------------------------------------------------


def test_chains_tree():
    rows = load_chain_rows()
    codes = [row["code"] for row in rows]
    assert len(codes) == len(set(codes))
    by_code = {row["code"]: row for row in rows}
    roots = [row for row in rows if not row["parent_code"]]
    children = [row for row in rows if row["parent_code"]]
    assert 8 <= len(roots) <= 12 and 30 <= len(children) <= 45
    for row in rows:
        assert re.fullmatch(r"[a-z][a-z0-9]*(\.[a-z][a-z0-9]*)*", row["code"]), row
        assert row["name"], row
        if row["parent_code"]:
            parent = by_code[row["parent_code"]]
            assert not parent["parent_code"], "two levels: root and leaf"
            assert row["code"].startswith(parent["code"] + "."), row
        else:
            assert "." not in row["code"]
    names_ = [row["name"] for row in rows]
    assert len(names_) == len(set(names_))
    for code in ("ic", "ic.design", "ic.manufacturing", "ic.packaging", "ic.equipment", "biomed.synbio",
                 "biomed.device", "biomed.drug", "newenergy", "materials", "equipment", "ai", "ict", "green"):
        assert code in by_code


# --- generators -------------------------------------------------------------------------------------


def test_uscc_valid_for_10000_draws(jiangsu_codes):
    rng = random.Random(20240601)
    alphabet = set(names.USCC_ALPHABET)
    for _ in range(10_000):
        region = rng.choice(jiangsu_codes)
        code = names.uscc(rng, region)
        assert len(code) == 18 and code.startswith("91" + region)
        assert set(code[8:]) <= alphabet and not set(code) & set("IOZSV")
        assert stdnum_uscc.is_valid(code), code


def test_uscc_rejects_bad_region():
    rng = random.Random(1)
    for bad in ("3205", "32058A", "3205830"):
        with pytest.raises(ValueError):
            names.uscc(rng, bad)


def test_unique_usccs(jiangsu_codes):
    codes = names.unique_usccs(random.Random(7), jiangsu_codes, 5_000)
    assert len(codes) == len(set(codes)) == 5_000
    assert all(stdnum_uscc.is_valid(c) for c in codes)
    assert codes == names.unique_usccs(random.Random(7), jiangsu_codes, 5_000)


def _sample(seed, regions):
    rng = random.Random(seed)
    out = []
    for _ in range(300):
        region = rng.choice(regions)
        chain = names.random_chain(rng)
        name = names.firm_name(rng, region["name"], chain)
        out.append((name, names.former_name(rng, name), names.profile_for_chain(rng, chain),
                    names.uscc(rng, region["code"])))
    return out


def test_deterministic_for_fixed_seed(regions):
    jiangsu = [r for r in regions if r["code"].startswith("32") and r["level"] != "province"]
    assert _sample(99, jiangsu) == _sample(99, jiangsu)
    assert _sample(99, jiangsu) != _sample(100, jiangsu)


@pytest.mark.parametrize(
    "region,prefix",
    [("无锡市滨湖区", "无锡"), ("宜兴市", "宜兴"), ("苏州市吴中区", "苏州"), ("苏州工业园区", "苏州"),
     ("无锡高新区（新吴区）", "无锡"), ("昆山市", "昆山"), ("南京市江宁区", "南京"), ("320583", "昆山"),
     ("沛县", "沛县"), ("沭阳县", "沭阳"), ("无锡市", "无锡")],
)
def test_firm_name_prefix(region, prefix):
    rng = random.Random(3)
    for _ in range(50):
        name = names.firm_name(rng, region)
        assert name.startswith(prefix)
        assert name.endswith("有限公司")
        assert re.fullmatch(r"[\u4e00-\u9fff]+", name), name


def test_firm_name_matches_chain():
    rng = random.Random(5)
    for chain in names.LEAF_CHAINS:
        name = names.firm_name(rng, "宜兴市", chain)
        core = name.removesuffix("有限公司").removesuffix("股份")
        assert any(core.endswith(word) for word in names._INDUSTRIES[chain]), (chain, name)
    for _ in range(50):
        name = names.firm_name(rng, "宜兴市", "ic")
        assert any(w in name for w in ("半导体", "微电子", "集成电路", "电子", "芯片", "封装", "精密设备")), name


def test_profile_for_every_chain():
    rng = random.Random(11)
    for row in load_chain_rows():
        profile = names.profile_for_chain(rng, row["code"])
        assert set(profile) == {"main_products", "technologies", "description"}
        assert all(isinstance(v, str) and v for v in profile.values())
        assert profile["main_products"].split("、")[0] in profile["description"] or any(
            t in profile["description"] for t in profile["technologies"].split("、")
        )
    keywords = " ".join(names.profile_for_chain(rng, "materials.wbg")["main_products"] for _ in range(40))
    assert "碳化硅" in keywords
    keywords = " ".join(names.profile_for_chain(rng, "biomed.synbio")["technologies"] for _ in range(40))
    assert "合成生物学" in keywords


def test_unique_firm_name():
    rng, seen = random.Random(19), set()
    got = [names.unique_firm_name(rng, "苏州市吴中区", seen, "ic.design") for _ in range(3_000)]
    assert len(set(got)) == 3_000 and seen == set(got)
    assert all(name.startswith("苏州") for name in got)


def test_former_name_differs_and_looks_alike():
    rng = random.Random(13)
    for region in ("无锡市滨湖区", "宜兴市", "苏州工业园区", "沛县", "火星市"):
        for _ in range(200):
            name = names.firm_name(rng, region)
            former = names.former_name(rng, name)
            assert former != name
            assert former.endswith("公司") and former[:2] == name[:2], (name, former)
    assert names.former_name(random.Random(1), "宜兴凌云新材料股份有限公司") != "宜兴凌云新材料股份有限公司"


def test_generators_work_out_each_region_once(monkeypatch):
    """What keeps a million names and USCCs cheap, counted rather than timed (the time is bench/seed_scale.py's):
    a region text is normalised once, then its prefix is remembered; a region code is checked once; a USCC
    costs one check-digit calculation."""
    calls = CallCounter()


    monkeypatch.setattr(names, "normalize_region_text", calls.wrap("normalise", names.normalize_region_text))
    monkeypatch.setattr(names, "calc_check_digit", calls.wrap("check digit", names.calc_check_digit))
    monkeypatch.setattr(names, "_CHECKED_REGION_CODES", set())
    rng = random.Random(17)
    text = " 无锡市 滨湖区 "  # not a key as written: normalised on first use
    assert {names.firm_name(rng, text)[:2] for _ in range(2_000)} == {"无锡"}
    assert calls["normalise"] == 1
    codes = {names.uscc(rng, "320583") for _ in range(2_000)}
    assert len(codes) == 2_000 and calls["check digit"] == 2_000 and names._CHECKED_REGION_CODES == {"320583"}
