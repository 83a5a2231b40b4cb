"""Re-derive regions.csv and region_history.csv from the published code lists.

    python manage.py update_regions --from result.csv [--parks areas.csv]

* ``--from``: the "areacodes" summary table (``result.csv``: 代码, 一级行政区, 二级行政区, 名称, 级别,
  状态, 启用时间, 变更/弃用时间, 新代码), which carries every county-level-and-above code of the
  Ministry of Civil Affairs' yearly GB/T 2260 lists since 1981, whether it is still in use, and the
  codes that took over a retired one.
* ``--parks``: optional, the National Bureau of Statistics' county-level list as ``code,name,
  cityCode,provinceCode``; its ``xx7x`` codes are the development zones (经济技术开发区, 高新区 …)
  that statistics treat as county-level units, and they become ``park`` rows.
* ``regions_local.csv`` (kept by hand, same columns as regions.csv) adds rows no source has
  (parks such as 苏州工业园区) and the aliases officers met on real lists; its aliases are merged
  into the derived rows, its rows never removed.

No Django here: plain functions, so the command and a test can call them on small files.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from registry.data import DATA_DIR, REGION_FIELDS, _read

LOCAL_CSV = DATA_DIR / "regions_local.csv"
HISTORY_CSV = DATA_DIR / "region_history.csv"
HISTORY_FIELDS = ("code", "name", "parent_name", "retired_in", "successors", "successor")
# USCCs exist since 2015: a code retired before then is on no USCC (and may have been reused since).
HISTORY_SINCE = 2015

_ETHNIC = ("蒙古|回|藏|维吾尔|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|佤|畲|拉祜|水|东乡|纳西|"
           "景颇|柯尔克孜|土|达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|阿昌|普米|塔吉克|怒|乌孜别克|俄罗斯|鄂温克|"
           "德昂|保安|裕固|京|塔塔尔|独龙|鄂伦春|赫哲|门巴|珞巴|基诺|各")
_AUTONOMOUS_RE = re.compile(rf"^(.{{2,}}?)(?:(?:{_ETHNIC})族?)+自治(?:区|州|县|旗)$")
_SUFFIXES = ("特别行政区", "自治区", "地区", "林区", "特区", "省", "市", "区", "县", "旗", "盟")


def short_name(name: str) -> str | None:
    """朝阳区 → 朝阳, 延边朝鲜族自治州 → 延边, 广西壮族自治区 → 广西; None when nothing sensible is left."""
    if m := _AUTONOMOUS_RE.match(name):
        return m.group(1)
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


def _level(code: str) -> str:
    if code.endswith("0000"):
        return "province"
    if code.endswith("00"):
        return "city"
    return "park" if code[4] == "7" else "district"


def _parent(code: str, known: set[str]) -> str:
    if code.endswith("0000"):
        return ""
    city = code[:4] + "00"
    if not code.endswith("00") and city in known:
        return city
    return code[:2] + "0000"


def _split_codes(cell: str) -> list[str]:
    """'130404[2014];130402' → ['130404', '130402']."""
    return [re.sub(r"\[.*?\]", "", c).strip() for c in (cell or "").split(";") if c.strip()]


def read_areacodes(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    wanted = {"代码", "名称", "状态", "变更/弃用时间", "新代码", "二级行政区"}
    if not rows or not wanted <= set(rows[0]):
        raise ValueError(f"{path}: not an areacodes summary table (needs columns {sorted(wanted)})")
    return rows


def read_nbs_parks(path: Path) -> dict[str, str]:
    """code → name of the development zones (xx7x codes) in an NBS county-level list."""
    parks = {}
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for row in csv.DictReader(fh):
            code = (row.get("code") or "").strip().strip('"')
            if len(code) == 6 and code[4] == "7":
                parks[code] = (row.get("name") or "").strip().strip('"')
    return parks


def _aliases(code: str, name: str, by_code: dict[str, dict]) -> list[str]:
    """Spellings published lists use: short forms and forms prefixed by the parent names."""
    out = []
    short = short_name(name)
    parent = by_code.get(_parent(code, set(by_code)))
    provinces = {short_name(r["name"]) for r in by_code.values() if r["level"] == "province"}
    if short and not (parent is not None and short_name(parent["name"]) == short) and \
            (parent is None or short not in provinces):
        out.append(short)  # 淮安 is 淮安市, not its 淮安区; 河北 is the province, not 天津市河北区
    chain = []
    while parent is not None:
        chain.insert(0, parent)
        parent = by_code.get(parent["parent_code"]) if parent["parent_code"] else None
    if chain:
        direct = chain[-1]
        for prefix in (direct["name"], short_name(direct["name"])):
            if prefix:
                out.append(prefix + name)
        if len(chain) == 2:
            out.append(chain[0]["name"] + direct["name"] + name)
            if short_name(chain[0]["name"]):
                out.append(short_name(chain[0]["name"]) + direct["name"] + name)
            if name.endswith("市"):  # a county-level city is often written under its province alone
                out.append(chain[0]["name"] + name)
    return [a for a in out if a != name]


def derive(areacodes: list[dict], parks: dict[str, str] | None = None,
           local: list[dict] | None = None) -> tuple[list[dict], list[dict]]:
    """(regions rows, history rows) in the committed files' columns, sorted by code."""
    current: dict[str, str] = {}
    retired: dict[str, dict] = {}  # code → its latest record out of use
    old_names: dict[str, set[str]] = {}
    for row in areacodes:
        code, name = row["代码"].strip(), row["名称"].strip()
        if row["状态"] == "在用":
            current[code] = name
            continue
        year = int(row["变更/弃用时间"] or 0)
        successors = _split_codes(row["新代码"])
        if successors == [code]:  # renamed in place: the old name is an alias of the same code
            old_names.setdefault(code, set()).add(name)
            continue
        if code not in retired or year > int(retired[code]["变更/弃用时间"] or 0):
            retired[code] = row
    local_names = {(row["name"], row["parent_code"]) for row in local or ()}
    for code, name in (parks or {}).items():
        if (name, code[:4] + "00") not in local_names:  # the project's own code for a park wins (320571)
            current.setdefault(code, name)

    known = set(current)
    by_code = {code: {"code": code, "name": name, "level": _level(code), "parent_code": _parent(code, known),
                      "aliases": []} for code, name in current.items()}
    for local_row in local or ():
        code = local_row["code"]
        if code not in by_code:
            by_code[code] = {**local_row, "aliases": []}
    for code, row in sorted(by_code.items()):
        if row["level"] != "park":
            row["aliases"].extend(_aliases(code, row["name"], by_code))

    def chase(code, seen=()):
        """Current codes a retired code ended up in (successors may themselves be retired)."""
        if code in current or code in by_code:
            return {code}
        if code not in retired or code in seen:
            return set()
        found = set()
        for nxt in _split_codes(retired[code]["新代码"]):
            found |= chase(nxt, (*seen, code))
        return found

    history = []
    for code, row in sorted(retired.items()):
        if code in by_code or int(row["变更/弃用时间"] or 0) < HISTORY_SINCE:
            continue
        successors = sorted(chase(code))
        successor = _common_ancestor(successors, by_code)
        history.append({"code": code, "name": row["名称"].strip(), "parent_name": (row.get("二级行政区") or "").strip(),
                        "retired_in": row["变更/弃用时间"], "successors": ";".join(successors),
                        "successor": successor})
        if successor in by_code and len(successors) == 1:
            # Lists keep printing the old name (通州市, 海门市) for years.
            old_names.setdefault(successor, set()).add(row["名称"].strip())
    for code, names in old_names.items():
        if code in by_code:
            row = by_code[code]
            for old in sorted(names):
                if old != row["name"]:
                    row["aliases"].append(old)
                    parent = by_code.get(row["parent_code"])
                    if parent is not None and parent["level"] == "city":
                        row["aliases"].append(parent["name"] + old)

    for local_row in local or ():
        row = by_code[local_row["code"]]
        row["aliases"].extend(a.strip() for a in local_row["aliases"].split("|") if a.strip())
    regions = []
    for code in sorted(by_code):
        row = by_code[code]
        aliases = list(dict.fromkeys(a for a in row["aliases"] if a and a != row["name"]))
        regions.append({"code": code, "name": row["name"], "level": row["level"], "parent_code": row["parent_code"],
                        "aliases": "|".join(aliases)})
    return regions, history


def _common_ancestor(codes: list[str], by_code: dict) -> str:
    if not codes:
        return ""
    if len(codes) == 1:
        return codes[0]
    if len({c[:4] for c in codes}) == 1 and codes[0][:4] + "00" in by_code:
        return codes[0][:4] + "00"
    if len({c[:2] for c in codes}) == 1:
        return codes[0][:2] + "0000"
    return ""


def write_csv(path: Path, fields, rows, header_comment: str | None = None):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def update(areacodes_path: Path, parks_path: Path | None = None, *, out_dir: Path = DATA_DIR,
           local_path: Path = LOCAL_CSV) -> dict:
    """Rewrite regions.csv and region_history.csv; returns counts for the command to print."""
    local = _read(local_path, REGION_FIELDS) if local_path.exists() else []
    parks = read_nbs_parks(parks_path) if parks_path else {}
    regions, history = derive(read_areacodes(areacodes_path), parks, local)
    write_csv(out_dir / "regions.csv", REGION_FIELDS, regions)
    write_csv(out_dir / "region_history.csv", HISTORY_FIELDS, history)
    levels = {}
    for row in regions:
        levels[row["level"]] = levels.get(row["level"], 0) + 1
    return {"regions": len(regions), "history": len(history), **levels}
