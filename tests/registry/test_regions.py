"""registry.regions: a row's region from all its clues; national reference data; update_regions. No database
except where marked."""

import csv
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from registry.data import build, load_history_rows, load_regions_rows, region_candidates, successor_of
from registry.regions import describe, from_address, nearest_known, resolve_row_region, uscc_division
from tests.factories import make_uscc

DATA = Path(__file__).resolve().parents[1] / "data"


def region(**clues):
    return resolve_row_region(clues.pop("text", None), **clues)


# --- national data ---------------------------------------------------------------------------------


def test_every_province_has_its_divisions():
    rows = load_regions_rows()
    by_province = {}
    for row in rows:
        by_province.setdefault(row["code"][:2], []).append(row)
    assert len([c for c in by_province if c not in ("71", "81", "82")]) == 31
    for code, members in by_province.items():
        if code not in ("71", "81", "82"):
            assert sum(r["level"] == "district" for r in members) >= 10, code
    assert len(rows) > 3300
    assert {"110105", "110108", "110112", "330106", "440305", "310115", "350203", "350102"} <= {r["code"] for r in rows}


def test_parks_come_from_the_statistics_list_and_the_local_file():
    parks = {r["code"]: r for r in load_regions_rows() if r["level"] == "park"}
    assert parks["320571"]["name"] == "苏州工业园区"  # the project's own code is kept
    assert "320576" not in parks  # …and the statistics list's other code for the same park is not added
    assert parks["130171"]["name"] == "石家庄高新技术产业开发区" and parks["130171"]["parent_code"] == "130100"
    assert len(parks) > 100


def test_historical_codes_map_to_their_successors():
    history = {row["code"]: row for row in load_history_rows()}
    assert successor_of("320684") == "320614"  # 海门市 → 南通市海门区 (2020)
    assert successor_of("110228") == "110118"  # 密云县 → 密云区 (2015)
    assert successor_of("130421") == "130400"  # 邯郸县, split between three districts → 邯郸市
    assert successor_of("320602") == "320613"  # 崇川区 + 港闸区 → new 崇川区 (2020)
    assert successor_of("320583") is None  # current codes have no successor
    assert all(int(row["retired_in"]) >= 2015 for row in history.values())
    assert "320683" not in history  # 通州市 was retired in 2009: no USCC carries it


# --- the resolver ----------------------------------------------------------------------------------


@pytest.mark.parametrize("clues,code", [
    (dict(text="通州", province="北京"), "110112"),
    (dict(text="通州", province="江苏"), "320612"),
    (dict(text="通州区", uscc=make_uscc("110112")), "110112"),
    (dict(text="鼓楼", province="福建", uscc=make_uscc("350102")), "350102"),
    (dict(text="鼓楼", province="江苏", uscc=make_uscc("320106")), "320106"),
    (dict(text="朝阳", province="北京"), "110105"),
    (dict(text="朝阳", city="长春"), "220104"),
    (dict(text="南通", province="江苏", uscc=make_uscc("320612")), "320612"),  # the USCC is more precise
    (dict(text="杭州", province="浙江"), "330100"),
    (dict(text="浦东新区"), "310115"),
    (dict(text="北京市海淀区"), "110108"),
    (dict(text="江苏省江阴市"), "320281"),
    (dict(text="无锡高新区（新吴区）"), "320214"),
    (dict(text="海门市"), "320614"),  # a name retired in 2020 is still printed
    (dict(address="北京市朝阳区建国路1号"), "110105"),
    (dict(address="江苏省南京市鼓楼区中山路1号"), "320106"),
    (dict(address="福州市鼓楼区五四路"), "350102"),
    (dict(uscc=make_uscc("440305")), "440305"),
    (dict(uscc=make_uscc("320684")), "320614"),
    (dict(uscc=make_uscc("320599")), "320500"),  # not a code: its nearest known ancestor
    (dict(text="朝阳", context="北京市"), "110105"),  # the list's own context (a 北京 list)
])
def test_clues_decide(clues, code):
    found = region(**clues)
    assert (found.code, found.problem, found.warnings) == (code, None, [])


@pytest.mark.parametrize("text", ["通州", "鼓楼", "鼓楼区", "朝阳"])
def test_ambiguous_names_are_never_guessed(text):
    found = region(text=text)
    assert found.code is None and "ambiguous" in found.problem
    assert len(region_candidates(text)) >= 2
    for code in region_candidates(text):
        assert describe(code) in found.problem


def test_ambiguous_within_the_province_needs_the_uscc():
    found = region(text="鼓楼", province="江苏")  # 南京 and 徐州 both have one
    assert found.code is None and "320106" in found.problem and "320302" in found.problem


def test_conflicting_clues_import_with_a_warning_naming_both():
    found = region(text="通州", province="北京", uscc=make_uscc("320612"))
    assert found.code == "110112"
    assert found.warnings == ["地区「通州」 (北京市通州区 110112) 与统一社会信用代码的行政区划 (江苏省南通市通州区 320612) 不一致"]
    found = region(text="海淀", province="江苏")
    assert found.code == "110108" and "江苏省 320000" in found.warnings[0] and "110108" in found.warnings[0]
    found = region(province="北京", uscc=make_uscc("320583"))  # no region text: the list's province is kept
    assert found.code == "110000" and "320583" in found.warnings[0] and "北京" in found.warnings[0]


def test_unknown_text_is_a_problem_and_no_clue_at_all_is_no_region():
    assert region(text="火星市").problem.startswith("Unknown region “火星市”")
    assert region().code is None and region().problem is None
    assert region(province="火星").warnings and region(province="火星").code is None


def test_uscc_division_and_nearest_known():
    assert uscc_division("91110112239T3E0TWM") == "110112"
    assert uscc_division("９１１１０１１２２３９Ｔ３Ｅ０ＴＷＭ") == "110112"  # full width
    assert uscc_division("not a code") is None and uscc_division(None) is None
    assert nearest_known("999999") is None
    assert from_address("某某路1号") is None


# --- update_regions ------------------------------------------------------------------------------

AREACODES = """\ufeff代码,一级行政区,二级行政区,名称,级别,状态,启用时间,变更/弃用时间,新代码
110000,北京市,,北京市,省级,在用,1981,,
110105,北京市,直辖,朝阳区,县级,在用,1981,,
110228,北京市,直辖,密云县,县级,弃用,1981,2015,110118
110118,北京市,直辖,密云区,县级,在用,2015,,
320000,江苏省,,江苏省,省级,在用,1981,,
320600,江苏省,南通市,南通市,地级,在用,1983,,
320602,江苏省,南通市,崇川区,县级,弃用,1991,2020,320613
320613,江苏省,南通市,崇川区,县级,在用,2020,,
320684,江苏省,南通市,海门市,县级,弃用,1994,2020,320614
320614,江苏省,南通市,海门区,县级,在用,2020,,
320683,江苏省,南通市,通州市,县级,弃用,1993,2009,320612
320612,江苏省,南通市,通州区,县级,在用,2009,,
"""
PARKS = 'code,name,cityCode,provinceCode\n320671,"南通经济技术开发区",3206,32\n320612,"通州区",3206,32\n'


def test_derive_from_small_source_files(tmp_path):
    (tmp_path / "result.csv").write_text(AREACODES, encoding="utf-8")
    (tmp_path / "areas.csv").write_text(PARKS, encoding="utf-8")
    rows = build.read_areacodes(tmp_path / "result.csv")
    regions, history = build.derive(rows, build.read_nbs_parks(tmp_path / "areas.csv"), [
        {"code": "320699", "name": "本地园区", "level": "park", "parent_code": "320600", "aliases": "本地"},
        {"code": "320612", "name": "通州区", "level": "district", "parent_code": "320600", "aliases": "通州湾"}])
    by_code = {r["code"]: r for r in regions}
    assert set(by_code) == {"110000", "110105", "110118", "320000", "320600", "320613", "320614", "320612",
                            "320671", "320699"}
    assert by_code["110105"]["parent_code"] == "110000" and by_code["320614"]["parent_code"] == "320600"
    assert by_code["320671"]["level"] == "park" and by_code["320699"]["aliases"] == "本地"
    assert set(by_code["110105"]["aliases"].split("|")) == {"朝阳", "北京市朝阳区", "北京朝阳区"}
    assert "海门市" in by_code["320614"]["aliases"].split("|")  # retired 2020, still printed
    assert "通州湾" in by_code["320612"]["aliases"].split("|")  # local aliases merged
    assert "通州市" not in by_code["320612"]["aliases"]  # retired before 2015: not a USCC code, not added
    assert {h["code"]: h["successor"] for h in history} == {"110228": "110118", "320602": "320613",
                                                           "320684": "320614"}


def test_derive_refuses_a_file_of_another_shape(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("code,name\n110000,北京市\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not an areacodes summary table"):
        build.read_areacodes(path)


def test_update_writes_both_files_and_is_stable(tmp_path):
    (tmp_path / "result.csv").write_text(AREACODES, encoding="utf-8")
    counts = build.update(tmp_path / "result.csv", out_dir=tmp_path, local_path=tmp_path / "none.csv")
    first = (tmp_path / "regions.csv").read_text(encoding="utf-8")
    assert counts["history"] == 3 and first.startswith("code,name,level,parent_code,aliases\n")
    build.update(tmp_path / "result.csv", out_dir=tmp_path, local_path=tmp_path / "none.csv")
    assert (tmp_path / "regions.csv").read_text(encoding="utf-8") == first
    assert list(csv.DictReader(StringIO((tmp_path / "region_history.csv").read_text(encoding="utf-8"))))[0][
        "successor"] == "110118"


def test_update_regions_command_names_a_missing_file(tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no such file"):
        call_command("update_regions", "--from", str(tmp_path / "missing.csv"), "--no-load")


@pytest.mark.django_db
def test_reference_data_loads_every_region_idempotently(django_assert_max_num_queries):
    from registry.models import IndustryChain, Region
    from registry.reference import load_reference_data

    assert Region.objects.count() == len(load_regions_rows())
    assert Region.objects.get(code="110112").path == "110000/110112/"
    assert Region.objects.get(code="320583").path == "320000/320500/320583/"
    assert Region.objects.get(code="320571").path == "320000/320500/320571/"
    Region.objects.filter(code="110112").update(name="错名", aliases=[])
    load_reference_data(Region, IndustryChain)
    assert Region.objects.get(code="110112").name == "通州区"
    with django_assert_max_num_queries(len(load_regions_rows()) // 10):  # set-based: no query per region
        load_reference_data(Region, IndustryChain)


def test_a_list_names_its_province_only_by_the_provinces_own_names():
    from registry.regions import province_prefix

    assert province_prefix("江苏省2024年高新技术企业名单.xlsx") == "320000"
    assert province_prefix("北京2024年独角兽名单.csv") == "110000"
    assert province_prefix("广西壮族自治区名单.xlsx") == "450000"
    assert province_prefix("东方财富榜单.xlsx") is None  # 东方 is also 海南省东方市: not a list's province
    assert province_prefix("hnte_2024_jiangsu_batch1.xlsx") is None and province_prefix(None) is None


def test_update_regions_command_writes_the_files(tmp_path):
    (tmp_path / "result.csv").write_text(AREACODES, encoding="utf-8")
    (tmp_path / "areas.csv").write_text(PARKS, encoding="utf-8")
    out = StringIO()
    call_command("update_regions", "--from", str(tmp_path / "result.csv"), "--parks", str(tmp_path / "areas.csv"),
                 "--out", str(tmp_path), "--local", str(tmp_path / "none.csv"), stdout=out)
    assert out.getvalue().startswith("regions.csv: 9 rows (2 provinces, 1 cities, 5 counties, 1 parks); "
                                     "region_history.csv: 3 retired codes."), out.getvalue()
    codes = [row["code"] for row in csv.DictReader(open(tmp_path / "regions.csv", encoding="utf-8"))]
    assert "320671" in codes and "110105" in codes


def test_an_address_starts_with_a_full_name_or_a_province_never_a_bare_short_name():
    assert from_address("东方大道1号") is None  # 东方 is also 海南省东方市
    assert from_address("朝阳路8号") is None
    assert from_address("北京朝阳某路1号") == "110105"  # a province first, then its 朝阳
    assert from_address("朝阳某路1号", scope="110000") == "110105"
    assert region(address="东方大道1号", uscc=make_uscc("440305")).code == "440305"


@pytest.mark.parametrize("text,code", [("河北", "130000"), ("河南", "410000"), ("海南", "460000"), ("河北区", "120105")])
def test_a_provinces_short_name_is_the_province(text, code):
    assert region_candidates(text) == {code}
