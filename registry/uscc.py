"""Unified Social Credit Code (统一社会信用代码, GB 32100-2015) normalisation and checks.

Published lists carry full-width characters, spaces and lower case; we normalise first and always
report the original text. The check digit itself is python-stdnum's, never ours.
"""

import re
import unicodedata

from stdnum import exceptions as stdnum_errors
from stdnum.cn import uscc as stdnum_uscc


class USCCError(ValueError):
    """A code that cannot be a USCC, or one whose check character is wrong (`checksum` True)."""

    def __init__(self, original, reason, checksum=False):
        self.original = original
        self.reason = reason
        self.checksum = checksum
        super().__init__(f"统一社会信用代码 “{original}”: {reason}")


# Spaces, zero-width characters, every dash, underscores and dots people type inside codes.
_STRIP_RE = re.compile(r"[\s\u200b\u200c\u200d\ufeff\-‐‑‒–—―_·.]+")


def normalize(text):
    """Fold full-width characters (９１… → 91…), drop spaces, dashes and dots, upper-case. Does not validate."""
    folded = unicodedata.normalize("NFKC", str(text if text is not None else ""))
    return _STRIP_RE.sub("", folded).upper()


def validate(text):
    """Return the normalised code or raise USCCError saying why not."""
    code = normalize(text)
    if not code:
        raise USCCError(text, "is empty")
    try:
        return stdnum_uscc.validate(code)
    except stdnum_errors.InvalidChecksum:
        raise USCCError(text, "check character does not match (GB 32100 check digit)", checksum=True) from None
    except stdnum_errors.InvalidLength:
        raise USCCError(text, f"has {len(code)} characters, a USCC has 18") from None
    except stdnum_errors.ValidationError:
        raise USCCError(text, "contains characters a USCC cannot have (I, O, Z, S, V or punctuation)") from None


def is_valid(text):
    try:
        validate(text)
    except USCCError:
        return False
    return True
