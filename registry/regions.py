"""Which region a row of a published list belongs to, from every clue it has.

    from registry.regions import resolve_row_region
    found = resolve_row_region(text="通州", province="北京", uscc="91110112239T3E0TWM")
    found.code        # "110112"
    found.warnings    # [] (or messages naming both clues when they disagree)
    found.problem     # None, or why no region could be chosen (ambiguous, unknown)

Clues, strongest first: the region text (所在地区/地区/区县 …), the row's province and city columns,
its registered address (注册地址: the administrative prefix), the file's own context (a 江苏省 list:
an import option or the title) and the USCC's division code (characters 3–8, mapped through
retired codes to their successors, else to its nearest known ancestor).

Rules (issue 12): a name shared by several regions (通州, 鼓楼, 朝阳) is never guessed — the
province/city/context or the USCC decides, else it is a problem; where the clues disagree the list's
own words win and the row carries a warning naming both; a row with no region text takes its
address, else the USCC's division. Pure Python on registry/data (cached): no database.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from registry.data import normalize_region_text, region_candidates, regions_by_code, successor_of

_USCC_DIVISION = re.compile(r"^[0-9A-Z]{2}(\d{6})")


@dataclass
class RegionFound:
    code: str | None = None
    warnings: list[str] = field(default_factory=list)
    problem: str | None = None  # why there is no code although the row gave a region text
    source: str = ""  # which clue decided: text, address, uscc, city, province, context


def describe(code: str | None) -> str:
    """'北京市通州区 110112': the full name (with its ancestors) and the code, for messages."""
    rows = regions_by_code()
    row = rows.get(code or "")
    if row is None:
        return str(code)
    names = [rows[c]["name"] for c in row["path"].strip("/").split("/") if c in rows]
    return f"{''.join(names)} {code}"


def _path(code: str) -> str:
    row = regions_by_code().get(code)
    return row["path"] if row else ""


def path_and_ancestors(path: str) -> list[str]:
    """"320000/320500/320583/" → the paths of the region and every region above it, top first."""
    return [path[: at + 1] for at, char in enumerate(path) if char == "/"]


def within(code: str, ancestor: str) -> bool:
    """True if ``code`` is ``ancestor`` or lies under it."""
    return bool(code and ancestor) and _path(code).startswith(_path(ancestor) or "\0")


def related(a: str, b: str) -> bool:
    """One of the two contains the other (苏州市 and 苏州工业园区 agree; 北京 and 南通 do not)."""
    return within(a, b) or within(b, a)


def nearest_known(code: str) -> str | None:
    """A current code for a division code: itself, its successor if retired, else its city or province."""
    rows = regions_by_code()
    if not code or not code.isdigit() or len(code) != 6:
        return None
    for candidate in (code, code[:4] + "00", code[:2] + "0000"):
        if candidate in rows:
            return candidate
        if (successor := successor_of(candidate)) and successor in rows:
            return successor
    return None


def uscc_division(uscc: str | None) -> str | None:
    """The current region of a USCC's division code (characters 3–8), or None."""
    if not uscc:
        return None
    code = unicodedata.normalize("NFKC", str(uscc)).strip().upper()
    m = _USCC_DIVISION.match(code)
    return nearest_known(m.group(1)) if m else None


_ADMIN_SUFFIX = ("省", "市", "区", "县", "旗", "州", "盟")


@lru_cache(maxsize=1)
def _prefix_names():
    """Names/aliases → codes, for reading the administrative prefix of an address, longest first; and
    the "strong" ones an address may start with when nothing narrows it yet: full names (with 省/市/区/县
    …) and the provinces' short names — a bare short name (东方, 朝阳) starts too many street names."""
    names, strong = {}, set()
    for code, row in regions_by_code().items():
        for text in [row["name"], *(a for a in row["aliases"].split("|") if a)]:
            key = normalize_region_text(text)
            if len(key) >= 2:
                names.setdefault(key, set()).add(code)
                if key.endswith(_ADMIN_SUFFIX) or row["level"] == "province":
                    strong.add(key)
    return names, frozenset(strong), sorted({len(k) for k in names}, reverse=True)


def from_address(address: str | None, scope: str | None = None) -> str | None:
    """The most specific region an address starts with (江苏省南京市鼓楼区中山路1号 → 320106).

    Reads prefix by prefix (province, city, district), each one narrowing the next; a prefix that
    names several regions counts only when the scope read so far (or ``scope``) singles one out.
    """
    text = normalize_region_text(address)
    names, strong, lengths = _prefix_names()
    found = scope
    while text:
        step = None
        for n in lengths:
            if n > len(text):
                continue
            codes = names.get(text[:n])
            if not codes or (found is None and text[:n] not in strong):
                continue
            inside = [c for c in codes if found is None or within(c, found)]
            if found is not None and len(inside) == 1 and inside[0] == found:
                step = (n, found)  # the prefix repeats what we know (北京市 after 北京)
                break
            inside = [c for c in inside if c != found]
            if len(inside) == 1:
                step = (n, inside[0])
                break
        if step is None:
            break
        text, found = text[step[0]:], step[1]
    return found if found != scope else None


def province_prefix(text: str | None) -> str | None:
    """The province a text starts with, by its name or short name only (江苏省…, 北京…); None otherwise.

    For a list's file name or title: any other prefix (东方 is also 海南省东方市) says too little."""
    key = normalize_region_text(text)
    for code, row in regions_by_code().items():
        if row["level"] == "province":
            for name in (row["name"], *(a for a in row["aliases"].split("|") if a)):
                if key.startswith(normalize_region_text(name)):
                    return code
    return None


def _scope_code(text: str | None, levels=("province", "city")) -> str | None:
    """A province/city column's code (北京 → 110000), or None if unknown or ambiguous."""
    codes = [c for c in region_candidates(text) if regions_by_code()[c]["level"] in levels]
    if len(codes) == 1:
        return codes[0]
    parsed = from_address(text)
    return parsed if parsed and regions_by_code()[parsed]["level"] in levels else None


def resolve_row_region(text=None, *, province=None, city=None, address=None, context=None,
                       uscc=None) -> RegionFound:
    """The region of one row from all its clues (see the module docstring for the rules)."""
    clues = tuple(None if v in (None, "") else str(v) for v in (text, province, city, address, context))
    found = _resolve(*clues, uscc_division(uscc))  # lists repeat the same few clue sets: cached
    return RegionFound(found.code, list(found.warnings), found.problem, found.source)


@lru_cache(maxsize=65536)
def _resolve(text, province, city, address, context, division) -> RegionFound:
    found = RegionFound()
    rows = regions_by_code()
    # What the list says about the area, most specific last; `context` only counts when the row is silent.
    scope, scope_label = None, ""
    for label, value, levels in (("省份", province, ("province",)), ("城市", city, ("province", "city"))):
        if value in (None, ""):
            continue
        code = _scope_code(value, levels)
        if code is None:
            found.warnings.append(f"{label}「{value}」不是已知的省市名称，未使用")
            continue
        if scope is not None and not related(code, scope):
            found.warnings.append(f"{label}「{value}」({describe(code)}) 与 {scope_label} ({describe(scope)}) 不一致")
            continue
        if scope is None or within(code, scope):
            scope, scope_label = code, f"{label}「{value}」"
    if scope is None and context:
        scope = _scope_code(context, ("province", "city")) or (context if context in rows else None)
        scope_label = f"名单所属地区「{context}」"

    def decide(code, source, label):
        if division is not None and division != code and within(division, code):
            code, source = division, "uscc"  # 南通 + a USCC of 南通市通州区: the USCC is more precise
        found.code, found.source = code, source
        if scope is not None and not related(code, scope):
            found.warnings.append(f"{label} ({describe(code)}) 与 {scope_label} ({describe(scope)}) 不一致")
        if division is not None and not related(code, division):
            found.warnings.append(
                f"{label} ({describe(code)}) 与统一社会信用代码的行政区划 ({describe(division)}) 不一致")
        return found

    if text not in (None, ""):
        candidates = sorted(region_candidates(text)) or ([c] if (c := from_address(text)) else [])
        if not candidates:
            found.problem = f"Unknown region “{text}” (not a district, city or park name we know)."
            return found
        label = f"地区「{text}」"
        if len(candidates) == 1:
            return decide(candidates[0], "text", label)
        named = candidates
        for narrow, source in ((scope, "scope"), (division, "uscc")):
            if narrow is None:
                continue
            inside = [c for c in candidates if related(c, narrow)]
            if len(inside) == 1:
                return decide(inside[0], source, label)
            if inside:
                candidates = inside
        if division is not None and len(agree := [c for c in named if related(c, division)]) == 1:
            return decide(agree[0], "uscc", label)  # the USCC picks among the names; decide() warns of the clash
        found.problem = (f"Region “{text}” is ambiguous: {', '.join(describe(c) for c in candidates)}; "
                         f"add a province (所在省份) or the USCC to decide.")
        return found
    if address not in (None, ""):
        code = from_address(address, scope)
        if code is not None:
            return decide(code, "address", f"注册地址「{address}」")
    if division is not None:
        if scope is not None and not related(division, scope):
            found.code, found.source = scope, "province"
            found.warnings.append(f"{scope_label} ({describe(scope)}) 与统一社会信用代码的行政区划 "
                                  f"({describe(division)}) 不一致；按 {scope_label} 记")
            return found
        found.code, found.source = division, "uscc"
        return found
    if scope is not None:
        found.code, found.source = scope, "scope"
    return found
