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
    "detect_date_orders", "parse_amount", "parse_count", "parse_date", "parse_money", "parse_percent", "parse_uscc",
    "parse_year", "split_key_errors",
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
# Month/day/year (US-sourced lists: 01/29/2024, "2/27/2024, 1:15:09 AM"); which of the first two is the
# month is decided per column (detect_date_orders) or by the date_order option, else by the value itself.
_SLASH_YEAR_LAST_RE = re.compile(
    r"^(?P<a>\d{1,2})\s*[/.-]\s*(?P<b>\d{1,2})\s*[/.-]\s*(?P<y>\d{4})"
    r"(?:,?\s*\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:[AaPp][Mm])?)?$"
)
DATE_ORDERS = ("mdy", "dmy")
_COMPACT_DATE_RE = re.compile(r"^(?P<y>(?:19|20)\d{2})(?P<m>\d{2})(?P<d>\d{2})$")
_SERIAL_RE = re.compile(r"^\d{5}(?:\.\d+)?$")
_CN_DIGITS = {"〇": 0, "○": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_DATE_RE = re.compile(r"^([〇○零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日$")
_DATE_HINT = "expected e.g. 2024-03-05, 2024/3/5, 2024.3.5, 2024年3月5日 or 3/5/2024"


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


def parse_date(value: Any, field: str = "date", order: str | None = None) -> dt.date | None:
    """A date from an Excel date cell, an Excel serial number or the usual written forms.

    ``order`` ("mdy" or "dmy") reads a year-last date (01/29/2024); without it a value whose
    first part is above 12 is day-first, otherwise month-first (the US form these lists come in).
    """
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
    if m := _SLASH_YEAR_LAST_RE.match(s):
        a, b = int(m["a"]), int(m["b"])
        day_first = order == "dmy" or (order is None and a > 12)
        month, day = (b, a) if day_first else (a, b)
        return _make_date(field, original, int(m["y"]), month, day)
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


def detect_date_orders(rows: list[dict[str, Any]], fields: list[str] | None = None) -> dict[str, str]:
    """Per date column, "mdy" or "dmy" when its year-last values say so (a part above 12).

    A column with 01/29/2024 is month-first for all its rows, 05/03/2024 included; a column with
    both kinds of evidence, or none, gets no entry (the option or each value decides).
    """
    fields = fields or [f for f, kind in FIELD_KINDS.items() if kind == "date"]
    orders = {}
    for field in fields:
        seen = set()
        for values in rows:
            cell = values.get(field)
            if isinstance(cell, str) and (m := _SLASH_YEAR_LAST_RE.match(unicodedata.normalize("NFKC", cell.strip()))):
                if int(m["a"]) > 12:
                    seen.add("dmy")
                elif int(m["b"]) > 12:
                    seen.add("mdy")
        if len(seen) == 1:
            orders[field] = seen.pop()
    return orders


# ---------------------------------------------------------------------------------------------
# Numbers

_NUMBER_RE = re.compile(r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$", re.IGNORECASE)
_THOUSANDS_RE = re.compile(r"(?<=\d),(?=\d{3}(?:\D|$))")
# Scale of each money unit relative to the bare currency unit, and its currency (ISO 4217).
_SCALES = {"": 1, "千": 10 ** 3, "万": 10 ** 4, "十万": 10 ** 5, "百万": 10 ** 6, "千万": 10 ** 7, "亿": 10 ** 8,
           "十亿": 10 ** 9}
CURRENCIES = {"元": "CNY", "人民币": "CNY", "人民币元": "CNY", "美元": "USD", "欧元": "EUR", "港元": "HKD",
              "港币": "HKD", "日元": "JPY", "英镑": "GBP", "瑞士法郎": "CHF", "新加坡元": "SGD", "台币": "TWD",
              "新台币": "TWD", "澳元": "AUD", "加元": "CAD", "韩元": "KRW"}
MONEY_UNITS: dict[str, tuple[Decimal, str]] = {
    f"{scale}{word}": (Decimal(factor), ccy) for scale, factor in _SCALES.items() for word, ccy in CURRENCIES.items()
    if not (scale == "" and word == "人民币")  # 人民币 alone is a currency word, never a unit of 1
}
MONEY_UNITS.update({"人民币": (Decimal(1), "CNY")})
# English headers: "Valuation (Billion $)", "(US$ m)".
MONEY_UNITS.update({"billion$": (Decimal(10) ** 9, "USD"), "billionusd": (Decimal(10) ** 9, "USD"),
                    "$b": (Decimal(10) ** 9, "USD"), "usdbillion": (Decimal(10) ** 9, "USD"),
                    "million$": (Decimal(10) ** 6, "USD"), "millionusd": (Decimal(10) ** 6, "USD"),
                    "$m": (Decimal(10) ** 6, "USD"), "us$m": (Decimal(10) ** 6, "USD"),
                    "usdmillion": (Decimal(10) ** 6, "USD"), "$": (Decimal(1), "USD"), "usd": (Decimal(1), "USD")})
# The unit each money field is stored in (registry: money in 万元, valuation in whole US dollars).
MONEY_TARGET_UNITS: dict[str, str] = {"valuation_usd": "美元"}
# Fields stored in their own currency (the firm's registered_capital + registered_capital_currency).
CURRENCY_FIELDS = frozenset({"registered_capital"})
_UNIT_ALTERNATION = "|".join(sorted(map(re.escape, MONEY_UNITS), key=len, reverse=True))
# "100万元人民币", "20(万元人民币)", "20万人民币", "4500万美元", "(万元)" (a unit and no number)
_INLINE_MONEY_RE = re.compile(r"^(?P<num>.*?)\s*[(]?\s*(?P<unit>" + _UNIT_ALTERNATION + r")\s*(?:人民币)?\s*[)]?$",
                              re.IGNORECASE)


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


def parse_amount(value: Any, unit: str | None = None, field: str = "money") -> tuple[Decimal, str] | None:
    """(amount in 万 of its currency, ISO currency) for a money cell as registries print it.

    ``unit`` is the header's unit; a unit in the cell wins ("4500万美元" → (4500, "USD"),
    "20(万元人民币)" → (20, "CNY"), "5.8000万元" → (5.8, "CNY")); no unit at all means 万元.
    An empty cell, a placeholder (N/A, —) or a unit with no number ("(万元)") is None.
    """
    s = _numeric_text(value, field)
    if s is None:
        return None
    original = clean_text(value)
    if m := _INLINE_MONEY_RE.match(s):
        s, unit = m["num"].strip(), m["unit"].lower()
        if not s or s.lower() in _MISSING:
            return None
    number = _decimal(field, original, s)
    if number < 0:
        raise CellError(field, f"{original!r} is negative; amounts must be ≥ 0", code="negative")
    key = (unit or "万元").lower()
    scale, currency = MONEY_UNITS.get(key) or MONEY_UNITS.get(key.removesuffix("人民币")) or (None, None)
    if scale is None:
        raise CellError(field, f"unknown money unit {unit!r} for {original!r}", code="invalid")
    return _plain(number * scale / 10 ** 4), currency


def _plain(number: Decimal) -> Decimal:
    """5.8000 → 5.8, 20.00 → 20 (never 2E+1)."""
    number = number.normalize()
    return number.quantize(Decimal(1)) if number.as_tuple().exponent > 0 else number


def parse_money(value: Any, unit: str | None = None, field: str = "money", *, target: str | None = None,
                rates: dict[str, Decimal] | None = None) -> Decimal | None:
    """Money converted to ``target`` (default 万元; 美元 for valuation_usd).

    ``unit`` is the header's unit (元, 万元, 亿元, 美元, Billion $ …); a unit written in the cell itself
    ("120万元") wins over it; no unit at all means the value is already in ``target``. Negative
    amounts are errors: none of the amounts we import can be negative. Another currency than the
    target's needs ``rates`` (units of the target currency per unit of the source, e.g.
    ``{"CNY": Decimal("0.14")}`` for a valuation in 亿元人民币 stored in US dollars).
    """
    target = target or MONEY_TARGET_UNITS.get(field, "万元")
    target_scale, target_ccy = MONEY_UNITS[target]
    if unit is None and _INLINE_MONEY_RE.match(_text(value) or "") is None:
        unit = target
    parsed = parse_amount(value, unit, field)
    if parsed is None:
        return None
    amount, currency = parsed  # in 万 of `currency`
    if currency != target_ccy:
        rate = (rates or {}).get(currency)
        if rate is None:
            raise CellError(field, f"{clean_text(value)!r} is in {currency}, expected an amount in {target} "
                                   f"(give an exchange rate to convert)", code="invalid")
        amount = amount * Decimal(str(rate))
    result = amount * 10 ** 4 / target_scale
    return result if result != result.to_integral_value() else result.quantize(Decimal(1))


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


def clean_value(field: str, value: Any, unit: str | None = None, *, date_order: str | None = None,
                rates: dict[str, Decimal] | None = None) -> Any:
    """Parse one cell by its field's kind (see columns.FIELD_KINDS)."""
    kind = FIELD_KINDS.get(field, "text")
    if kind == "uscc":
        return parse_uscc(value, field)
    if kind == "date":
        return parse_date(value, field, date_order)
    if kind == "money":
        if field in CURRENCY_FIELDS:
            return parse_amount(value, unit, field)
        return parse_money(value, unit, field, rates=rates)
    if kind == "count":
        return parse_count(value, field)
    if kind == "percent":
        return parse_percent(value, unit, field)
    if kind == "year":
        return parse_year(value, field)
    return clean_text(value)


def clean_values(values: dict[str, Any], units: dict[str, str | None] | None = None, *,
                 date_orders: dict[str, str] | None = None, rates: dict[str, Decimal] | None = None) -> CleanResult:
    """Clean every field of a row (SourceRow.values), collecting all errors instead of stopping.

    A field of CURRENCY_FIELDS comes back as two: ``registered_capital`` (万) and
    ``registered_capital_currency`` (ISO code). ``date_orders`` (field → "mdy"/"dmy", see
    detect_date_orders or the import's date_order option) reads year-last dates.
    """
    units = units or {}
    date_orders = date_orders or {}
    result = CleanResult({})
    for field, value in values.items():
        try:
            cleaned = clean_value(field, value, units.get(field), date_order=date_orders.get(field), rates=rates)
        except CellError as exc:
            result.errors.append(exc)
            if exc.review:
                result.values[field] = exc.value
            continue
        if field in CURRENCY_FIELDS:
            amount, currency = cleaned if cleaned is not None else (None, None)
            result.values[field] = amount
            if currency:
                result.values[f"{field}_currency"] = currency
        else:
            result.values[field] = cleaned
    return result


def split_key_errors(result: CleanResult, key_fields) -> tuple[list[CellError], list[CellError]]:
    """(errors that reject the row, errors that only warn): a bad value in a column the row does not
    need (capital, founding date, a yearly figure) is dropped from the row and reported as a warning."""
    fatal, warnings = [], []
    for error in result.fatal:
        (fatal if error.field in key_fields else warnings).append(error)
    for error in warnings:
        result.values.pop(error.field, None)
    result.errors = [e for e in result.errors if e not in warnings]  # what is left: rejections and reviews
    return fatal, warnings
