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
    """Upsert regions and chains; takes the model classes so a migration can pass historical ones.

    Regions (~3,400 rows) go in two set-based statements, creates and changes; a second run with
    the same files writes nothing. Rows that left the file are kept (firms and targets point at them).
    """
    existing = {r.code: r for r in region_model.objects.all()}
    paths, to_create, to_update = {}, [], []
    fields = ("name", "level", "parent_id", "aliases", "path")
    for row in _ordered(load_regions_rows()):
        parent = (row.get("parent_code") or "").strip() or None
        aliases = [a.strip() for a in (row.get("aliases") or "").split("|") if a.strip()]
        paths[row["code"]] = build_path(paths.get(parent, existing[parent].path if parent in existing else ""),
                                        row["code"])
        values = {"name": row["name"], "level": row["level"], "parent_id": parent, "aliases": aliases,
                  "path": paths[row["code"]]}
        region = existing.get(row["code"])
        if region is None:
            to_create.append(region_model(code=row["code"], **values))
        elif any(getattr(region, f) != values[f] for f in fields):
            for f in fields:
                setattr(region, f, values[f])
            to_update.append(region)
    region_model.objects.bulk_create(to_create, batch_size=500)
    region_model.objects.bulk_update(to_update, fields, batch_size=500)
    chain_paths = {}
    for row in _ordered(load_chain_rows()):
        parent_code = (row.get("parent_code") or "").strip() or None
        parent = chain_model.objects.get(code=parent_code) if parent_code else None
        chain_paths[row["code"]] = build_path(chain_paths.get(parent_code, ""), row["code"])
        chain_model.objects.update_or_create(
            code=row["code"], defaults={"name": row["name"], "parent": parent, "path": chain_paths[row["code"]]}
        )
