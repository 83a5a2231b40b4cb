"""Reference data shipped as CSV: regions (GB/T 2260 + NBS park codes) and industry chains.

No Django imports: the data migration, the management command, the demo generator and plain
tests all read these files through the helpers below.

* ``load_regions_rows()`` → ``[{"code", "name", "level", "parent_code", "aliases"}, …]``, all
  strings exactly as in ``regions.csv``; ``aliases`` is ``|``-separated, ``parent_code`` is ``""``
  for a province.  Parents come before children.
* ``load_chain_rows()`` → ``[{"code", "name", "name_en", "parent_code"}, …]`` from ``chains.csv``.
* ``split_aliases(row)``, ``region_index()`` and ``resolve_region(text)`` turn a region text from
  a published list (``无锡高新区（新吴区）``, ``苏州市吴中区``, ``昆山``) into its code;
  ``region_candidates(text)`` gives every code a text may mean (``通州`` → 110112 and 320612).
* ``load_history_rows()`` / ``successor_of(code)``: codes retired since 2015 (still printed in
  USCCs, characters 3–8) and the current code that took them over (``region_history.csv``).

Where the rows come from (edition, sources) and how to refresh them: ``README.md`` beside this file
and ``registry/data/build.py`` (``manage.py update_regions``).
"""

import csv
import unicodedata
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
REGIONS_CSV = DATA_DIR / "regions.csv"
CHAINS_CSV = DATA_DIR / "chains.csv"
HISTORY_CSV = DATA_DIR / "region_history.csv"

REGION_FIELDS = ("code", "name", "level", "parent_code", "aliases")
CHAIN_FIELDS = ("code", "name", "name_en", "parent_code")
REGION_LEVELS = ("province", "city", "district", "park")
HISTORY_FIELDS = ("code", "name", "parent_name", "retired_in", "successors", "successor")


def _read(path, fields):
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != fields:
            raise ValueError(f"{path.name}: header {reader.fieldnames!r}, expected {list(fields)!r}")
        return [{k: (row[k] or "").strip() for k in fields} for row in reader if any((v or "").strip() for v in row.values())]


def _parents_first(rows):
    by_code = {row["code"]: row for row in rows}
    done, ordered = set(), []

    def visit(row, depth=0):
        if row["code"] in done or depth > 10:
            return
        parent = by_code.get(row["parent_code"])
        if parent is not None:
            visit(parent, depth + 1)
        done.add(row["code"])
        ordered.append(row)

    for row in rows:
        visit(row)
    return ordered


def load_regions_rows():
    """Rows of regions.csv as dicts of strings, parents before children."""
    return _parents_first(_read(REGIONS_CSV, REGION_FIELDS))


def load_chain_rows():
    """Rows of chains.csv as dicts of strings, parents before children."""
    return _parents_first(_read(CHAINS_CSV, CHAIN_FIELDS))


def split_aliases(row):
    """The ``aliases`` cell of a region row as a list."""
    return [a.strip() for a in (row.get("aliases") or "").split("|") if a.strip()]


def normalize_region_text(text):
    """Fold full-width forms (（）→ ()) and drop all whitespace."""
    return "".join(unicodedata.normalize("NFKC", str(text or "")).split())


@lru_cache(maxsize=1)
def region_texts():
    """Normalised name/alias → every code it names (a frozenset; 通州 → {110112, 320612})."""
    texts = {}
    for row in load_regions_rows():
        for text in [row["name"], *split_aliases(row)]:
            texts.setdefault(normalize_region_text(text), set()).add(row["code"])
    return {key: frozenset(codes) for key, codes in texts.items()}


def region_candidates(text):
    """Every code a region text (name, alias or the code itself) may mean; empty if unknown."""
    key = normalize_region_text(text)
    if not key:
        return frozenset()
    if len(key) == 6 and key.isdigit():
        return frozenset({key}) if key in _codes() else frozenset()
    return region_texts().get(key, frozenset())


@lru_cache(maxsize=1)
def regions_by_code():
    """code → row (dict of strings, as in regions.csv), with its materialised ``path`` added."""
    rows = {row["code"]: dict(row) for row in load_regions_rows()}
    for row in rows.values():  # parents first, so each parent's path is already there
        parent = rows.get(row["parent_code"])
        row["path"] = (parent["path"] if parent else "") + row["code"] + "/"
    return rows


def load_history_rows():
    """Rows of region_history.csv: retired codes and their successors."""
    if not HISTORY_CSV.exists():
        return []
    return _read(HISTORY_CSV, HISTORY_FIELDS)


@lru_cache(maxsize=1)
def _successors():
    return {row["code"]: row["successor"] for row in load_history_rows() if row["successor"]}


def successor_of(code):
    """The current code that took over a retired one (a city or province when it was split); None if none."""
    return _successors().get(code)


@lru_cache(maxsize=1)
def region_index():
    """Normalised name/alias → code.

    A text shared by several rows (``鼓楼区`` is both 南京 320106 and 徐州 320302) maps to ``None``:
    ambiguous, the caller must ask for more (``南京市鼓楼区``).
    """
    index = {}
    for row in load_regions_rows():
        for text in [row["name"], *split_aliases(row)]:
            key = normalize_region_text(text)
            if key in index and index[key] != row["code"]:
                index[key] = None
            else:
                index[key] = row["code"]
    return index


def resolve_region(text):
    """Code for a region text (name, alias or the 6-digit code itself); ``None`` if unknown or ambiguous."""
    key = normalize_region_text(text)
    if not key:
        return None
    index = region_index()
    if key in index:
        return index[key]
    if len(key) == 6 and key.isdigit() and key in _codes():
        return key
    return None


@lru_cache(maxsize=1)
def _codes():
    return frozenset(row["code"] for row in load_regions_rows())


def clear_caches():
    """Forget the cached rows and indexes (after update_regions rewrote the files)."""
    for cached in (region_texts, regions_by_code, _successors, region_index, _codes):
        cached.cache_clear()
    from registry import regions  # noqa: PLC0415 - registry.regions imports this module

    regions._resolve.cache_clear()
    regions._prefix_names.cache_clear()
