"""The region picker's data: the tree (province → city → district, parks under their parent) and a search
by name, alias, pinyin, pinyin initials or code — always inside the user's regions. And region names
in the page's language: `local_name` (the `region_name` filter) is the one place English pages get
"Kunshan" for 昆山市.

Read from registry.filtersets.region_table(), the one cached copy of the region table the GraphQL
loader also reads; the child lists and pinyin are derived from it once per copy of the table.
"""

import re
from functools import cached_property, lru_cache

from pypinyin import lazy_pinyin

from registry.filtersets import region_table
from registry.permissions import region_paths
from web.choices import english_page

MAX_RESULTS = 20
LEVEL_ORDER = {"province": 0, "city": 1, "district": 2, "park": 3}
TRAIL_SEPARATOR = " › "


@lru_cache(maxsize=8192)
def spellings(name):
    """(full pinyin, initials) of a region name, lower case without spaces: 昆山市 → ("kunshanshi", "kss")."""
    syllables = [s.lower() for s in lazy_pinyin(name, errors="ignore")]
    return "".join(syllables), "".join(s[0] for s in syllables if s)


# English names: the administrative suffix translated, the place romanised in pinyin (GB/T 2260 holds
# no English). Longest suffix first; "" drops it (江苏省 → Jiangsu, 昆山市 → Kunshan, as in English usage).
SUFFIXES = (
    ("特别行政区", ""), ("高新技术产业开发区", "Hi-tech Industrial Development Zone"), ("风景名胜区", "Scenic Area"),
    ("管理区管委会", "Administrative Zone"),
    ("经济技术开发区", "Economic and Technological Development Zone"), ("高新技术开发区", "Hi-tech Development Zone"),
    ("经济开发区", "Economic Development Zone"), ("工业园区", "Industrial Park"), ("开发区", "Development Zone"),
    ("管理区", "Administrative Zone"), ("示范区", "Demonstration Zone"), ("实验区", "Pilot Zone"),
    ("高新区", "Hi-tech Zone"), ("新区", "New Area"), ("园区", "Park"), ("自治区", ""),
    ("自治州", "Autonomous Prefecture"), ("自治县", "Autonomous County"), ("自治旗", "Autonomous Banner"),
    ("地区", "Prefecture"), ("林区", "Forestry District"), ("省", ""), ("市", ""), ("盟", "League"), ("旗", "Banner"),
    ("县", "County"), ("区", "District"),
)
# Where the pinyin of the characters is not the name's English (usage, or a reading pypinyin gets wrong).
ENGLISH_NAMES = {
    "内蒙古自治区": "Inner Mongolia", "陕西省": "Shaanxi", "香港特别行政区": "Hong Kong", "澳门特别行政区": "Macao",
    "单县": "Shan County", "盐都区": "Yandu District", "六合区": "Luhe District",
}
# The people named in an autonomous region's name (延边朝鲜族自治州 → Yanbian Autonomous Prefecture).
PEOPLES = re.compile(
    "(?:(?:蒙古|回|藏|维吾尔|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|佤|畲|拉祜|水|东乡|纳西|景颇|"
    "柯尔克孜|土|达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|普米|塔吉克|怒|鄂温克|保安|裕固|独龙|鄂伦春)族"
    "|蒙古|柯尔克孜|哈萨克|维吾尔)+$")
SPLIT_WORDS = ("省", "市")  # inside a park's name: 苏州市吴中… → Suzhou Wuzhong …


def romanised(word):
    """昆山 → "Kunshan", 西安 → "Xi'an": pinyin syllables joined, an apostrophe before a vowel-initial one."""
    out = ""
    for syllable in lazy_pinyin(word, errors="ignore"):
        out += ("'" if out and syllable[:1] in "aoe" else "") + syllable
    return out[:1].upper() + out[1:]


def _stem(name):
    """(place part, English suffix word) of a region name."""
    for suffix, word in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name[: -len(suffix)]
            if suffix.startswith("自治"):
                stem = PEOPLES.sub("", stem) or stem
            return stem, word
    return name, ""


class Tree:
    """Children per parent code and the search keys, for one copy of the region table."""

    def __init__(self, table):
        self.table = table
        self.english = {}  # name → English, filled as pages show names
        self.children = {}
        for region in sorted(table.values(), key=lambda r: (LEVEL_ORDER.get(r.level, 9), r.code)):
            self.children.setdefault(region.parent_id, []).append(region)

    @cached_property
    def keys(self):
        """(region, lower-case name and aliases, pinyin, initials): made on the first search only, so the
        pages that just name a chosen region never pay for the pinyin (3,400 names: about a second on this loaded machine, once per process)."""
        keys = []
        for region in self.table.values():
            full, initials = spellings(region.name)
            texts = [region.name.lower(), *(str(a).lower() for a in region.aliases or ())]
            keys.append((region, texts, full, initials))
        return keys

    def trail(self, region):
        names, seen = [], 0
        parent = self.table.get(region.parent_id)
        while parent is not None and seen < 10:
            names.append(local_name(parent))
            parent, seen = self.table.get(parent.parent_id), seen + 1
        return TRAIL_SEPARATOR.join(reversed(names))

    @cached_property
    def places(self):
        """The place part of every province, city and district name of two characters or more: the words a
        park's long name is cut into (parks are not places: 泰州医药高新… → Taizhou Yiyao Hi-tech …)."""
        return {stem for stem in (_stem(r.name)[0] for r in self.table.values() if r.level != "park") if len(stem) >= 2}

    @cached_property
    def longest_place(self):
        return max(map(len, self.places), default=2)

    def english_name(self, name):
        """The English of a region name, made once per name and copy of the table."""
        found = self.english.get(name)
        if found is None:
            found = self.english[name] = ENGLISH_NAMES.get(name) or self._english(name)
        return found

    def _english(self, name):
        stem, word = _stem(name)
        words, rest, i = [], "", 0
        longest = self.longest_place
        while i < len(stem):  # cut at known place names (河北唐山芦台 → Hebei Tangshan Lutai), longest first
            found = next((stem[i:i + n] for n in range(min(longest, len(stem) - i), 1, -1)
                          if stem[i:i + n] in self.places), None)
            if found or stem[i] in SPLIT_WORDS and i:
                if rest:
                    words.append(rest)
                rest = ""
                if found:
                    words.append(found)
                i += len(found) if found else 1
            else:
                rest += stem[i]
                i += 1
        if rest:
            words.append(rest)
        return " ".join([romanised(w) for w in words if w] + ([word] if word else [])) or name


_tree = None


def tree():
    global _tree
    table = region_table()
    if _tree is None or _tree.table is not table:
        _tree = Tree(table)
    return _tree


def local_name(region):
    """The region's name in the page's language: 昆山市 on Chinese pages, Kunshan on English ones."""
    if region is None or not english_page():
        return getattr(region, "name", "")
    return tree().english_name(region.name)


def _within(paths, region):
    return paths is None or region.path.startswith(tuple(paths))


def _entry(t, region):
    return {"code": region.code, "name": local_name(region), "level": region.level,
            "children": bool(t.children.get(region.code)), "trail": t.trail(region)}


def roots(user):
    """The top of the user's tree: the provinces, or an officer's own regions (the highest ones)."""
    t, paths = tree(), region_paths(user)
    if paths is None:
        return [_entry(t, r) for r in t.children.get(None, [])]
    tops = sorted(p for p in paths if not any(p != q and p.startswith(q) for q in paths))
    by_path = {r.path: r for r in t.table.values() if r.path in tops}
    return [_entry(t, by_path[p]) for p in tops if p in by_path]


def children(user, code):
    """The regions directly under `code`; None when the code is unknown or outside the user's regions
    (the caller answers 404 either way, so a region's existence does not leak)."""
    t, paths = tree(), region_paths(user)
    parent = t.table.get(code)
    if parent is None or not _within(paths, parent):
        return None
    return [_entry(t, r) for r in t.children.get(code, [])]


def search(user, text, limit=MAX_RESULTS):
    """Regions in scope whose name or alias contains the text, whose pinyin or initials start with it, or
    whose code starts with it: exact names first, then provinces before cities before districts."""
    query = "".join((text or "").lower().split()).replace("'", "")  # xi'an as typed from an English name
    if not query:
        return []
    t, paths = tree(), region_paths(user)
    latin = query.isascii() and query.isalpha()
    found = []
    for region, texts, full, initials in t.keys:
        if query in texts:
            rank = 0
        elif any(query in s for s in texts) or (latin and (full.startswith(query) or initials.startswith(query))):
            rank = 1
        elif query.isdigit() and region.code.startswith(query):
            rank = 2
        else:
            continue
        if _within(paths, region):
            found.append((rank, LEVEL_ORDER.get(region.level, 9), region.code, region))
    found.sort(key=lambda row: row[:3])
    return [_entry(t, row[3]) for row in found[:limit]]


def label(code):
    """'name（trail）' for a selected code, '' when unknown (the form names the problem)."""
    t = tree()
    region = t.table.get(code or "")
    if region is None:
        return ""
    trail = t.trail(region)
    return f"{trail}{TRAIL_SEPARATOR}{local_name(region)}" if trail else local_name(region)


def in_scope(user, code):
    """Whether the code names a region the user may filter by."""
    region = tree().table.get(code)
    return region is not None and _within(region_paths(user), region)
