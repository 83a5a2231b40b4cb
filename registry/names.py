"""Company-name normalisation for exact matching (the importers' name match, Firm.name_normalized).

One place: importers.cleaning re-exports this function.
"""

import re
import unicodedata

_NAME_BRACKETS = str.maketrans({"【": "(", "】": ")", "〔": "(", "〕": ")", "[": "(", "]": ")", "{": "(", "}": ")"})
_NAME_SPACE_RE = re.compile(r"[\s\u200b\u200c\u200d\ufeff]+")
# 有限责任公司 / 责任有限公司 and 有限公司 name the same legal form on published lists.
_NAME_SUFFIXES = (("有限責任公司", "有限公司"), ("有限责任公司", "有限公司"), ("责任有限公司", "有限公司"))


def normalize_name(name):
    """The one key used to match company names (Firm.name_normalized, the importers' name match).

    NFKC (full-width letters and （） → ASCII), every bracket style → (), no whitespace, Latin
    letters case-folded, 有限责任公司 / 责任有限公司 → 有限公司. Idempotent. 股份有限公司 stays
    distinct from 有限公司: they are different legal forms.
    """
    if name is None:
        return ""
    s = unicodedata.normalize("NFKC", str(name)).translate(_NAME_BRACKETS)
    s = _NAME_SPACE_RE.sub("", s).casefold()
    for variant, canonical in _NAME_SUFFIXES:
        s = s.replace(variant, canonical)
    return s
