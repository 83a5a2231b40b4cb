"""The search document: a firm dict checked, and enriched with the fields search derives.

Both backends index the output of ``prepare_firm``, so fingerprints, pinyin keys and the city
facet are computed once, in Python, the same way for tantivy and for Elasticsearch (an
Elasticsearch analyzer reimplementing fingerprints would drift from ``search.text``).

Input keys (phase 2 builds them from the registry): id, uscc, name, former_names, description,
main_products, technologies, stage, tier, region_code, region_path (province → … → own code),
chains, founded_year, revenue (万元), rd_intensity, revenue_growth; optional region_names (names
along region_path, so "昆山" finds firms located in 昆山 even when their name does not say so) and
stage_rank (order of the stage on the ladder; defaults to the national ladder); aliases (brand,
English and short names, registry.FirmAlias), searched with the former names in ``former_names``
— the firm's other names — and matched exactly and by fingerprint like them.
"""

from __future__ import annotations

from typing import Mapping

from search.backends.base import STAGES
from search.text import exact_key, fingerprint, normalize, pinyin_keys

TEXT_FIELDS = ("name", "former_names", "main_products", "technologies", "description", "region_names")
HIGHLIGHT_FIELDS = ("name", "former_names", "main_products", "technologies", "description")
DESCRIPTION_FRAGMENT_CHARS = 80  # the description is highlighted in fragments; other fields whole
STAGE_RANK = {code: rank for rank, code in enumerate(STAGES, start=1)}
# Which document field each request filter tests, and which one each facet counts.
FILTER_FIELDS = {"stage": "stage", "tier": "tier", "region": "region_path", "chain": "chains"}
FACET_FIELDS = {"stage": "stage", "tier": "tier", "region": "region_city", "chain": "chains"}

# Ranking, the same in both backends: text relevance per field, and the whole-name and code
# matchers boosted far above it so an exact name, fingerprint or USCC ranks first.
# The fields that rank a text match, with their weights (both backends; search.backends.base says how).
# The description and the region names decide matches but do not rank them.
TEXT_WEIGHTS = {"name": 3.0, "former_names": 2.0, "main_products": 1.5, "technologies": 1.0}
EXACT_BOOST, FINGERPRINT_BOOST, PINYIN_BOOST = 100.0, 50.0, 10.0
USCC_BOOST, USCC_FRAGMENT_BOOST = 100.0, 30.0


def _strings(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    return [str(v).strip() for v in value if v is not None and str(v).strip()]


def _number(doc: Mapping, key: str, kind=float):
    value = doc.get(key)
    if value is None or value == "":
        return None
    try:
        return kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"firm {doc.get('id')!r}: {key} must be a number, got {value!r}") from None


def prepare_firm(doc: Mapping) -> dict:
    """Return the search document for one firm dict; raises ValueError on a missing id or name."""
    try:
        firm_id = int(doc["id"])
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"firm document needs an integer id, got {doc.get('id')!r}") from None
    name = str(doc.get("name") or "").strip()
    if not name:
        raise ValueError(f"firm {firm_id}: name is required")
    other_names = [*_strings(doc.get("former_names")), *_strings(doc.get("aliases"))]
    former_names = [n for n in dict.fromkeys(other_names) if n != name]
    region_path = _strings(doc.get("region_path"))
    region_code = str(doc.get("region_code") or (region_path[-1] if region_path else "")).strip()
    if region_code and region_code not in region_path:
        region_path.append(region_code)
    names = [name, *former_names]
    pinyin_full, pinyin_initials = pinyin_keys(names)
    stage = str(doc.get("stage") or "")
    stage_rank = doc.get("stage_rank")
    return {
        "id": firm_id,
        "uscc": normalize(doc.get("uscc") or "").replace(" ", "").upper(),
        "name": name,
        "former_names": former_names,
        "description": str(doc.get("description") or ""),
        "main_products": str(doc.get("main_products") or ""),
        "technologies": str(doc.get("technologies") or ""),
        "stage": stage,
        "tier": str(doc.get("tier") or ""),
        "stage_rank": int(stage_rank) if stage_rank is not None else STAGE_RANK.get(stage, 0),
        "region_code": region_code,
        "region_path": region_path,
        # The region facet counts cities: the second level of the path (province/city/district).
        "region_city": region_path[1] if len(region_path) > 1 else "",
        "region_names": _strings(doc.get("region_names")),
        "chains": _strings(doc.get("chains")),
        "founded_year": _number(doc, "founded_year", int),
        "revenue": _number(doc, "revenue"),
        "rd_intensity": _number(doc, "rd_intensity"),
        "revenue_growth": _number(doc, "revenue_growth"),
        "names_exact": list(dict.fromkeys(exact_key(n) for n in names)),
        "fingerprints": list(dict.fromkeys(fp for fp in map(fingerprint, names) if fp)),
        "pinyin_full": pinyin_full,
        "pinyin_initials": pinyin_initials,
    }
