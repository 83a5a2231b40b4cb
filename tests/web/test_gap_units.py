"""Unmet criteria's gaps in the page's language (web_format.UnmetList, the candidates table and the
profile): the rule sets' unit codes become 万元, 个百分点, 分 …, a share's gap is shown in percentage points."""

import pytest
from django.utils import translation

from web.templatetags.web_format import UnmetList


def item(gap, unit):
    return {"text_zh": "某条件", "text_en": "a criterion", "gap": gap, "unit": unit, "missing": False}


@pytest.mark.parametrize("language, gap, unit, shown", [
    ("zh-hans", 0.0141, "ratio", "（差 1.41 个百分点）"),
    ("zh-hans", 9, "points", "（差 9 分）"),
    ("zh-hans", 97.1, "money", "（差 97.10 万元）"),
    ("zh-hans", 1, "count", "（差 1）"),
    ("zh-hans", 2.5, "years", "（差 2.50 年）"),
    ("zh-hans", 3, "new_unit", "（差 3 new_unit）"),  # a unit code no one translated yet: as given
    ("en", 0.0141, "ratio", "（short by 1.41 percentage points）"),
    ("en", 9, "points", "（short by 9 points）"),
    ("en", 97.1, "money", "（short by 97.10 10k CNY）"),
    ("en", 1, "count", "（short by 1）"),
])
def test_gap_units_in_the_page_language(language, gap, unit, shown):
    with translation.override(language):
        html = UnmetList()([item(gap, unit)])
    assert shown in html, html
    assert " ratio" not in html and " count" not in html
