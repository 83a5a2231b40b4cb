"""Cell parsers: text as published → Python values, or a CellError that names the value.

Every parser takes the cell as the reader gives it (``str``, ``None``, or a ``datetime``/``date``
for Excel date cells) and either returns the value (``None`` for an empty cell) or raises
:class:`CellError`. :func:`clean_values` applies them to a whole row and collects every error, so
a row with two bad fields is reported once with both.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field as dc_field
from decimal import Decimal, InvalidOperation
from typing import Any

from stdnum import exceptions as stdnum_exc
from stdnum.cn import uscc as stdnum_uscc

from registry.names import normalize_name
from registry.uscc import normalize as _normalize_uscc

from .columns import FIELD_KINDS
from .errors import CellError

__all__ = [
    "CellError", "CleanResult", "clean_text", "clean_values", "normalize_name", "normalize_uscc",
    "parse_count", "parse_date", "parse_money", "parse_percent", "parse_uscc", "parse_year",
]

# Placeholders people type for "no value" in numeric columns.
_MISSING = frozenset({"-", "--", "—", "——", "/", "\\", "无", "暂无", "n/a", "na", "null", "none", "#n/a"})
_INVISIBLE = "\u200b\u200c\u200d\ufeff"


def _text(value: Any) -> str | None:
    """NFKC, trimmed text of a cell, or None if empty."""
    if value is None:
        return None
    s = unicodedata.normalize("NFKC", str(value)).strip().strip(_INVISIBLE).strip()
    return s or None


def clean_text(value: Any) -> str | None:
    """Free text as published (only trimmed): names and regions keep their original characters."""
    if value is None:
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    s = str(value).strip().strip(_INVISIBLE).strip()
    return s or None


# ---------------------------------------------------------------------------------------------
# Company names: registry.names.normalize_name (imported above, re-exported here).
# USCC (统一社会信用代码, GB 32100)

def normalize_uscc(value: Any) -> str:
    """NFKC (full-width ９１… → 91…), no spaces/dashes, upper case. Does not validate (registry.uscc.normalize)."""
    return _normalize_uscc(value)


def parse_uscc(value: Any, field: str = "uscc") -> str | None:
    """Normalised, validated USCC.

    A bad check digit raises CellError(code="checksum", review=True, value=<normalised code>):
    such codes are usually a typo in one character, or a real code issued before the check was
    enforced, so a person decides. Wrong length or characters raise code="invalid".
    """
    original = clean_text(value)
    if original is None:
        return None
    code = normalize_uscc(original)
    try:
        return stdnum_uscc.validate(code)
    except stdnum_exc.InvalidChecksum:
        expected = stdnum_uscc.calc_check_digit(code)
        raise CellError(
            field,
            f"USCC {original!r} fails the GB 32100 check digit (last character {code[-1]}, expected "
            f"{expected}); sent to review",
            code="checksum", value=code, review=True,
        ) from None
    except stdnum_exc.InvalidLength:
        raise CellError(
            field, f"USCC {original!r} has {len(code)} characters, expected 18", code="invalid"
        ) from None
    except stdnum_exc.ValidationError:  # InvalidFormat, InvalidComponent
        raise CellError(
            field,
            f"USCC {original!r} is malformed (the first 8 characters must be digits; the rest digits or "
            f"letters other than I, O, S, V, Z)",
            code="invalid",
        ) from None


# ---------------------------------------------------------------------------------------------
# Dates

_EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01, counting Excel's fake 1900-02-29
_DATE_RE = re.compile(
    r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?"
    r"(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"
)
_COMPACT_DATE_RE = re.compile(r"^(?P<y>(?:19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})$")
_SERIAL_RE = re.compile(r"^\d{5}(?:\.\d+)?$")
_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_DATE_RE = re.compile(r"^([〇○零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日$")
_DATE_HINT = "expected e.g. 2024-03-05, 2024/3/5, 2024.3.5 or 2024年3月5日"


def _cn_number(s: str) -> int:
    """一 … 三十一 (month and day numerals)."""
    if "十" not in s:
        return _CN_DIGITS[s]
    tens, _, ones = s.partition("十")
    return (_CN_DIGITS[tens] if tens else 1) * 10 + (_CN_DIGITS[ones] if ones else 0)


def _make_date(field: str, original: str, y: int, m: int, d: int) -> dt.date:
    try:
        return dt.date(y, m, d)
    except ValueError:
        raise CellError(
            field, f"{original!r} is not a real date (year {y}, month {m}, day {d})", code="invalid"
        ) from None


def parse_date(value: Any, field: str = "date") -> dt.date | None:
    """A date from an Excel date cell, an Excel serial number or the usual written forms."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    original = clean_text(value)
    if original is None:
        return None
    s = unicodedata.normalize("NFKC", original)
    if m := _DATE_RE.match(s) or _COMPACT_DATE_RE.match(s):
        return _make_date(field, original, int(m["y"]), int(m["m"]), int(m["d"]))
    if _SERIAL_RE.match(s):
        serial = int(float(s))
        if 10000 <= serial < 80000:  # 1927 … 2119: anything else is not meant as a date
            return _EXCEL_EPOCH + dt.timedelta(days=serial)
    if m := _CN_DATE_RE.match(s):
        try:
            y = int("".join(str(_CN_DIGITS[c]) for c in m[1]))
            return _make_date(field, original, y, _cn_number(m[2]), _cn_number(m[3]))
        except KeyError:
            pass
    raise CellError(field, f"{original!r} is not a date ({_DATE_HINT})", code="invalid")


# ---------------------------------------------------------------------------------------------
# Numbers

_NUMBER_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$", re.IGNORECASE)
_THOUSANDS_RE = re.compile(r"(?<=\d),(?=\d{3}(?:\D|$))")
# Scale of each money unit relative to the bare currency unit, and its currency.
MONEY_UNITS: dict[str, tuple[Decimal, str]] = {
    "元": (Decimal(1), "CNY"), "千元": (Decimal(10) ** 3, "CNY"), "万元": (Decimal(10) ** 4, "CNY"),
    "百万元": (Decimal(10) ** 6, "CNY"), "亿元": (Decimal(10) ** 8, "CNY"),
    "美元": (Decimal(1), "USD"), "万美元": (Decimal(10) ** 4, "USD"), "百万美元": (Decimal(10) ** 6, "USD"),
    "亿美元": (Decimal(10) ** 8, "USD"),
}
# The unit each money field is stored in (registry: money in 万元, valuation in whole US dollars).
MONEY_TARGET_UNITS: dict[str, str] = {"valuation_usd": "美元"}
_INLINE_MONEY_RE = re.compile(r"^(?P<num>.*?)\s*(?P<unit>" + "|".join(
    sorted(map(re.escape, MONEY_UNITS), key=len, reverse=True)) + r")(?:人民币)?$")


def _decimal(field: str, original: str, s: str) -> Decimal:
    s = _THOUSANDS_RE.sub("", s.replace("，", ",")).replace(" ", "")
    if s.startswith("(") and s.endswith(")"):  # accounting negative
        s = "-" + s[1:-1]
    if not _NUMBER_RE.match(s):
        raise CellError(field, f"{original!r} is not a number", code="invalid")
    try:
        return Decimal(s)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid literals
        raise CellError(field, f"{original!r} is not a number", code="invalid") from None


def _numeric_text(value: Any, field: str) -> str | None:
    if isinstance(value, (dt.date, dt.datetime)):
        raise CellError(field, f"{value.isoformat()!r} is a date, expected a number", code="invalid")
    s = _text(value)
    if s is None or s.lower() in _MISSING:
        return None
    return s


def parse_money(value: Any, unit: str | None = None, field: str = "money", *, target: str | None = None) -> Decimal | None:
    """Money converted to ``target`` (default 万元; 美元 for valuation_usd).

    ``unit`` is the header's unit (元, 万元, 亿元, 美元 …); a unit written in the cell itself
    ("120万元") wins over it; no unit at all means the value is already in ``target``. Negative
    amounts are errors: none of the amounts we import can be negative.
    """
    target = target or MONEY_TARGET_UNITS.get(field, "万元")
    s = _numeric_text(value, field)
    if s is None:
        return None
    original = clean_text(value)
    if m := _INLINE_MONEY_RE.match(s):
        s, unit = m["num"], m["unit"]
    number = _decimal(field, original, s)
    if number < 0:
        raise CellError(field, f"{original!r} is negative; amounts must be ≥ 0", code="negative")
    source_scale, source_ccy = MONEY_UNITS.get(unit or target, (None, None))
    target_scale, target_ccy = MONEY_UNITS[target]
    if source_scale is None:
        raise CellError(field, f"unknown money unit {unit!r} for {original!r}", code="invalid")
    if source_ccy != target_ccy:
        raise CellError(field, f"{original!r} is in {unit}, expected an amount in {target}", code="invalid")
    if source_scale == target_scale:
        return number
    return number * source_scale / target_scale


def parse_percent(value: Any, unit: str | None = None, field: str = "percent", *, allow_negative: bool = False) -> Decimal | None:
    """A ratio as a fraction: "5%" → 0.05; in a (%) column "5" → 0.05.

    A bare number below 1 is taken as already a fraction ("0.05" → 0.05, with or without a (%)
    header): lists mix both styles in one column and a ratio under 1 % is far rarer than a
    fraction typed into a percent column. The price: "0.5" meaning half a percent reads as 50 %.
    """
    s = _numeric_text(value, field)
    if s is None:
        return None
    original = clean_text(value)
    explicit = s.endswith("%")
    number = _decimal(field, original, s.rstrip("%").strip())
    if number < 0 and not allow_negative:
        raise CellError(field, f"{original!r} is negative", code="negative")
    if explicit or abs(number) >= 1:
        return number / 100
    return number


def parse_count(value: Any, field: str = "count", *, allow_negative: bool = False) -> int | None:
    """A whole count (people, patents, targets): "12", "12.0", "1,200", "12人"; negative → error."""
    s = _numeric_text(value, field)
    if s is None:
        return None
    original = clean_text(value)
    s = re.sub(r"\s*[人名个件项家次]$", "", s)
    number = _decimal(field, original, s)
    if number != number.to_integral_value():
        raise CellError(field, f"{original!r} is not a whole number", code="invalid")
    if number < 0 and not allow_negative:
        raise CellError(field, f"{original!r} is negative; counts must be ≥ 0", code="negative")
    return int(number)


def parse_year(value: Any, field: str = "year") -> int | None:
    """A calendar year: 2024, "2024", "2024年", "2024年度", 2024.0."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.year
    s = _numeric_text(value, field)
    if s is None:
        return None
    original = clean_text(value)
    m = re.fullmatch(r"(\d{4})(?:\.0+)?\s*(?:年度?)?", s)
    if not m or not 1949 <= int(m[1]) <= 2100:
        raise CellError(field, f"{original!r} is not a year", code="invalid")
    return int(m[1])


# ---------------------------------------------------------------------------------------------
# Whole rows


@dataclass(slots=True)
class CleanResult:
    """A cleaned row. ``values`` holds every field that parsed (and the normalised code of a USCC
    that only failed its check digit); ``errors`` every CellError, review ones included."""

    values: dict[str, Any]
    errors: list[CellError] = dc_field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def needs_review(self) -> bool:
        return bool(self.errors) and all(e.review for e in self.errors)

    @property
    def fatal(self) -> list[CellError]:
        return [e for e in self.errors if not e.review]

    def message(self) -> str:
        return "; ".join(str(e) for e in self.errors)


def clean_value(field: str, value: Any, unit: str | None = None) -> Any:
    """Parse one cell by its field's kind (see columns.FIELD_KINDS)."""
    kind = FIELD_KINDS.get(field, "text")
    if kind == "uscc":
        return parse_uscc(value, field)
    if kind == "date":
        return parse_date(value, field)
    if kind == "money":
        return parse_money(value, unit, field)
    if kind == "count":
        return parse_count(value, field)
    if kind == "percent":
        return parse_percent(value, unit, field)
    if kind == "year":
        return parse_year(value, field)
    return clean_text(value)


def clean_values(values: dict[str, Any], units: dict[str, str | None] | None = None) -> CleanResult:
    """Clean every field of a row (SourceRow.values), collecting all errors instead of stopping."""
    units = units or {}
    result = CleanResult({})
    for field, value in values.items():
        try:
            result.values[field] = clean_value(field, value, units.get(field))
        except CellError as exc:
            result.errors.append(exc)
            if exc.review:
                result.values[field] = exc.value
    return result
