"""The region picker's data: the tree (province → city → district, parks under their parent) and a search
by name, alias, pinyin, pinyin initials or code — always inside the user's regions.

Read from registry.filtersets.region_table(), the one cached copy of the region table the GraphQL
loader also reads; the child lists and pinyin are derived from it once per copy of the table.
"""

from functools import cached_property, lru_cache

from pypinyin import lazy_pinyin

from registry.filtersets import region_table
from registry.permissions import region_paths

MAX_RESULTS = 20
LEVEL_ORDER = {"province": 0, "city": 1, "district": 2, "park": 3}
TRAIL_SEPARATOR = " › "


@lru_cache(maxsize=8192)
def spellings(name):
    """(full pinyin, initials) of a region name, lower case without spaces: 昆山市 → ("kunshanshi", "kss")."""
    syllables = [s.lower() for s in lazy_pinyin(name, errors="ignore")]
    return "".join(syllables), "".join(s[0] for s in syllables if s)


class Tree:
    """Children per parent code and the search keys, for one copy of the region table."""

    def __init__(self, table):
        self.table = table
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
            names.append(parent.name)
            parent, seen = self.table.get(parent.parent_id), seen + 1
        return TRAIL_SEPARATOR.join(reversed(names))


_tree = None


def tree():
    global _tree
    table = region_table()
    if _tree is None or _tree.table is not table:
        _tree = Tree(table)
    return _tree


def _within(paths, region):
    return paths is None or region.path.startswith(tuple(paths))


def _entry(t, region):
    return {"code": region.code, "name": region.name, "level": region.level,
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
    query = "".join((text or "").lower().split())
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
    return f"{trail}{TRAIL_SEPARATOR}{region.name}" if trail else region.name


def in_scope(user, code):
    """Whether the code names a region the user may filter by."""
    region = tree().table.get(code)
    return region is not None and _within(region_paths(user), region)
