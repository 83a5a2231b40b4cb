"""Reference data shipped with the code: regions (GB/T 2260) and industry chains.

Loaded by a data migration and re-runnable with `manage.py load_reference_data`; upserts, so a
corrected CSV updates what changed and keeps everything that points at a region.
"""

from registry.data import load_chain_rows, load_regions_rows
from registry.models.region import build_path


def _ordered(rows):
    """Parents before children, whatever order the file is in."""
    by_code = {row["code"]: row for row in rows}
    done, ordered = set(), []

    def visit(row):
        if row["code"] in done:
            return
        parent = (row.get("parent_code") or "").strip()
        if parent and parent in by_code:
            visit(by_code[parent])
        done.add(row["code"])
        ordered.append(row)

    for row in rows:
        visit(row)
    return ordered


def load_reference_data(region_model, chain_model):
    """Upsert regions and chains; takes the model classes so a migration can pass historical ones."""
    paths = {}
    for row in _ordered(load_regions_rows()):
        parent = (row.get("parent_code") or "").strip() or None
        aliases = [a.strip() for a in (row.get("aliases") or "").split("|") if a.strip()]
        paths[row["code"]] = build_path(paths.get(parent, ""), row["code"])
        region_model.objects.update_or_create(
            code=row["code"],
            defaults={"name": row["name"], "level": row["level"], "parent_id": parent, "aliases": aliases,
                      "path": paths[row["code"]]},
        )
    chain_paths = {}
    for row in _ordered(load_chain_rows()):
        parent_code = (row.get("parent_code") or "").strip() or None
        parent = chain_model.objects.get(code=parent_code) if parent_code else None
        chain_paths[row["code"]] = build_path(chain_paths.get(parent_code, ""), row["code"])
        chain_model.objects.update_or_create(
            code=row["code"], defaults={"name": row["name"], "parent": parent, "path": chain_paths[row["code"]]}
        )
