"""Chinese text helpers: hand-checked fingerprints, pinyin, tokens and highlights."""

import html
import random
import re

import pytest

from search.text import (
    analyze_query,
    fingerprint,
    highlight,
    isolated_regex,
    pinyin_full,
    pinyin_initials,
    pinyin_keys,
    terms,
    text_matches,
    text_without_isolated,
    tokenize,
)


@pytest.mark.parametrize("name, expected", [
    ("无锡芯动生物科技有限公司", "芯动生物科技"),
    ("无锡市芯动生物科技（有限公司）", "芯动生物科技"),
    ("江苏省苏州市昆山致远新材料集团有限公司", "致远新材料"),  # several places, several forms
    ("江阴鼎新环保科技股份有限公司", "鼎新环保科技"),
    ("宜兴芯动半导体科技股份有限公司", "芯动半导体科技"),
    ("华为技术（深圳）有限公司", "华为技术深圳"),  # brackets go, their content stays
    ("ＡＢＣ 科技 有限责任公司", "abc科技"),  # width folding, case, spaces
    ("广西壮族自治区南宁某某科技有限公司", "南宁某某科技"),
    ("苏州有限公司", "苏州"),  # never stripped down to nothing
    ("有限公司", "有限公司"),
    ("！！！", ""),
])
def test_fingerprint(name, expected):
    assert fingerprint(name) == expected


def test_pinyin_of_the_brief_example():
    assert pinyin_full("无锡芯动") == "wuxixindong"
    assert pinyin_initials("无锡芯动") == "wxxd"
    assert pinyin_full("Micro LED（昆山）") == "microledkunshan"


def test_pinyin_keys_cover_full_name_and_core():
    full, initials = pinyin_keys(["无锡芯动生物科技有限公司", "无锡芯动科技有限公司"])
    assert full == ["wuxixindongshengwukejiyouxiangongsi", "xindongshengwukeji",
                    "wuxixindongkejiyouxiangongsi", "xindongkeji"]
    assert initials == ["wxxdswkjyxgs", "xdswkj", "wxxdkjyxgs", "xdkj"]


def test_tokens_keep_original_offsets_through_width_folding():
    assert tokenize("ＬＥＤ显示模组") == [("led", 0, 3), ("显示", 3, 5), ("示模", 4, 6), ("模组", 5, 7)]
    assert tokenize("5G通信，芯") == [("5g", 0, 2), ("通信", 2, 4), ("芯", 5, 6)]
    assert terms('name:"芯动" AND (生物*)') == ["name", "芯动", "and", "生物"]
    assert terms("！？（）") == []


def test_analyze_query():
    q = analyze_query("  Wuxi   XINDONG ")
    assert (q.text, q.terms, q.pinyin, q.uscc) == ("wuxi xindong", ("wuxi", "xindong"), "wuxixindong", "")
    q = analyze_query("9132 0211-DL8P")
    assert (q.pinyin, q.uscc) == ("", "91320211DL8P")
    assert analyze_query("DL8P3").uscc == ""  # shorter than 6
    assert analyze_query("OSZIV1").uscc == ""  # letters a USCC never uses
    q = analyze_query("江苏无锡芯动生物科技股份有限公司")
    assert q.fingerprint == "芯动生物科技" and q.exact == "江苏无锡芯动生物科技股份有限公司"
    assert analyze_query("（）!!").is_empty and not analyze_query("芯").is_empty


def test_highlight_merges_overlapping_bigrams_and_escapes():
    assert highlight("无锡芯动生物<科技>", terms("芯动生物")) == ["无锡<em>芯动生物</em>&lt;科技&gt;"]
    assert highlight("a & b 芯动", ["芯动"]) == ["a &amp; b <em>芯动</em>"]
    assert highlight("无锡芯动", ["生物"]) == []


def test_long_text_gives_separate_windows():
    text = "芯动" + "甲" * 100 + "芯动" + "乙" * 100
    fragments = highlight(text, ["芯动"], fragment_chars=20)
    assert fragments == ["<em>芯动</em>" + "甲" * 18, "甲" * 9 + "<em>芯动</em>" + "乙" * 9]
    assert len(highlight(text * 3, ["芯动"], fragment_chars=20, max_fragments=3)) == 3


def test_terms_are_the_token_texts_without_offsets():
    """terms() skips building tokens for speed; it must give exactly tokenize()'s texts."""
    import csv
    from pathlib import Path

    texts = ["", "！！！", "芯", "无锡芯动生物科技有限公司", "Micro LED 显示模组", "ＡＢＣ（碳化硅）ｍｏｓｆｅｔ",
             "x" * 41 + " 碳化硅 " + "y" * 40, "İstanbul 芯片", "ﬁne 工艺", "5G基站　射频Ａ1", "𠀀𠀁 生僻字"]
    with open(Path(__file__).parents[1] / "data" / "firms_master.csv", encoding="utf-8-sig") as f:
        texts += [value for row in csv.DictReader(f) for value in row.values() if value]
    assert len(texts) > 50
    for text in texts:
        assert terms(text) == [token.text for token in tokenize(text)], text


def test_pinyin_converted_word_by_word_is_pypinyins():
    """cached_lazy_pinyin converts pypinyin's own words one at a time (cached): the same syllables,
    heteronyms in phrases (重庆, 银行, 长江) included."""
    import csv
    from pathlib import Path

    from pypinyin import lazy_pinyin

    from search.text import _alnum, cached_lazy_pinyin

    names = ["重庆长安汽车股份有限公司", "中国人民银行", "银行行长", "长沙市长江大桥", "单县单家", "Micro LED 显示模组",
             "ＡＢＣ科技", "无锡芯动生物科技有限公司", "", "！"]
    with open(Path(__file__).parents[1] / "data" / "firms_master.csv", encoding="utf-8-sig") as f:
        names += [value for row in csv.DictReader(f) for value in row.values() if value]
    for name in names:
        for text in (name, _alnum(name)):
            assert cached_lazy_pinyin(text) == lazy_pinyin(text), text


def random_texts(seed, alphabet, shortest, longest, count=300):
    """`count` texts drawn from `alphabet`, fixed by `seed`, for the shortcut-against-slow-path checks below."""
    rng = random.Random(seed)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(shortest, longest))) for _ in range(count)]


def _fold_each_character(text):
    from search.text import _fold_char

    return "".join(_fold_char(char) for char in text)


@pytest.mark.parametrize("seed", range(5))
def test_folding_shortcuts_give_the_character_by_character_fold(seed):
    # _fold skips the per-character loop when nothing moves (plain text, or only full-width ASCII
    # and ideographic spaces): it must still give that loop's text, and spans that map back.
    from search.text import _fold

    for text in random_texts(seed, "芯动生物科技有限公司，、：（）ＡＢｃ１２　ａbC9 .-ﬁ①", 0, 30):
        folded, span = _fold(text)
        assert folded == _fold_each_character(text)
        for start in range(len(folded)):
            left, right = span(start, start + 1)
            assert _fold_each_character(text[left:right]).find(folded[start]) != -1


@pytest.mark.parametrize("seed", range(5))
def test_highlight_fast_path_marks_what_the_tokens_mark(seed):
    # Han bigram queries are highlighted by substring search, other queries through tokenize():
    # a bigram-only query's <em> spans must be the same as the tokens'.
    from search.text import terms as text_terms
    from search.text import tokenize

    for text in random_texts(seed, "芯动生物科技合成昆山，、（）Ａb <&", 1, 40):
        wanted = [t for t in text_terms("芯动生物 合成 昆山")]
        expected_marked = {(token.start, token.end) for token in tokenize(text) if token.text in wanted}
        fragments = highlight(text, wanted)
        assert bool(fragments) == bool(expected_marked)
        if fragments:
            # Rebuild the marked characters from the fragment and compare with the tokens' union.
            marked, position, inside = set(), 0, False
            fragment = fragments[0]
            for piece in fragment.replace("<em>", "\0<\0").replace("</em>", "\0>\0").split("\0"):
                if piece == "<":
                    inside = True
                elif piece == ">":
                    inside = False
                else:
                    plain = html.unescape(piece)
                    if inside:
                        marked.update(range(position, position + len(plain)))
                    position += len(plain)
            assert marked == {i for start, end in expected_marked for i in range(start, end)}


@pytest.mark.parametrize("query, isolated, rest", [
    ("IC卡", ("卡",), "ic "),
    ("LED 灯", ("灯",), "led  "),
    ("3号", ("号",), "3 "),
    ("灯", ("灯",), " "),
    ("灯具 LED灯", ("灯",), "灯具 led "),  # the bigram keeps its 灯
    ("碳化硅 功率器件", (), "碳化硅 功率器件"),
    ("Micro LED", (), "micro led"),
])
def test_isolated_characters_of_a_query(query, isolated, rest):
    analyzed = analyze_query(query)
    assert analyzed.isolated == isolated
    assert text_without_isolated(analyzed) == rest
    assert set(isolated) <= set(analyzed.terms)


@pytest.mark.parametrize("text, query, matches", [
    ("IC卡芯片", "IC卡", True),  # 卡 starts the bigram 卡芯
    ("智能IC卡", "IC卡", True),  # 卡 stands alone here too
    ("银行卡 IC芯片", "IC卡", True),  # 卡 ends a bigram; IC is elsewhere (cross-token AND)
    ("IC芯片", "IC卡", False),
    ("LED灯具", "LED灯", True),
    ("LED显示", "LED灯", False),
    ("灯具", "灯具 LED灯", False),  # led is still required
    ("碳化硅功率器件", "碳化硅", True),
    ("碳化功率", "碳化硅", False),
])
def test_text_matches_finds_an_isolated_character_inside_any_token(text, query, matches):
    assert text_matches(set(terms(text)), analyze_query(query)) is matches


def test_highlight_marks_an_isolated_character_wherever_it_stands():
    wanted = analyze_query("IC卡").terms
    assert highlight("IC卡芯片与SIM卡", wanted) == ["<em>IC卡</em>芯片与SIM<em>卡</em>"]
    assert highlight("ＩＣ卡", wanted) == ["<em>ＩＣ卡</em>"]  # full width: marked in the original text
    assert highlight("芯片", wanted) == []


def test_isolated_regex_matches_the_terms_that_contain_the_character():
    pattern = re.compile(isolated_regex("卡"))
    assert [t for t in ["卡", "卡芯", "银卡", "卡卡", "芯片", "卡芯片", "ic"] if pattern.fullmatch(t)] == ["卡", "卡芯", "银卡", "卡卡"]
