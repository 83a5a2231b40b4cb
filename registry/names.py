"""Company-name normalisation for exact matching (the importers' name match, Firm.name_normalized)."""

import re
import unicodedata

_SPACES = re.compile(r"\s+")
# 有限责任公司 and 有限公司 name the same legal form on published lists.
_FORM_VARIANTS = (("有限责任公司", "有限公司"),)


def normalize_name(name):
    """Fold width (（）→ ()), drop whitespace, lower-case Latin letters, unify 有限公司 variants."""
    text = unicodedata.normalize("NFKC", str(name or ""))
    text = _SPACES.sub("", text).lower()
    for variant, canonical in _FORM_VARIANTS:
        text = text.replace(variant, canonical)
    return text
