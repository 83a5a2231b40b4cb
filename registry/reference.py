"""Reference data shipped with the code: regions (GB/T 2260) and industry chains.

Loaded by a data migration and re-runnable with `manage.py load_reference_data` (and `update_regions`);
upserts, so a corrected CSV updates what changed and keeps everything that points at a region.

Its set-based writes send no signals, so it does itself what registry.receivers does for a region
saved in the admin (regions_changed): the candidates ranking stores region paths and its pages keep
the Region instances per rebuild (registry.eligibility.precomputed.kept_for), and remembered answers
carry region names (registry.cache). A later data migration calling it gets the same, through its
historical models.
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
    Returns {"regions_created": n, "regions_changed": n}.
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
    if to_create or to_update:
        regions_changed(region_model, [r.code for r in to_update])
    chain_paths = {}
    # A migration's historical model may predate the English name (0003 and 0010 run before 0018).
    english = any(field.name == "name_en" for field in chain_model._meta.get_fields())
    for row in _ordered(load_chain_rows()):
        parent_code = (row.get("parent_code") or "").strip() or None
        parent = chain_model.objects.get(code=parent_code) if parent_code else None
        chain_paths[row["code"]] = build_path(chain_paths.get(parent_code, ""), row["code"])
        values = {"name": row["name"], "parent": parent, "path": chain_paths[row["code"]]}
        if english:
            values["name_en"] = row["name_en"]
        chain_model.objects.update_or_create(code=row["code"], defaults=values)
    return {"regions_created": len(to_create), "regions_changed": len(to_update)}


STALE_NOTE = "regions {codes} changed by the reference data; run manage.py analytics_rebuild"


def regions_changed(region_model, changed_codes):
    """What a Region save in the admin sets off (registry.receivers), for bulk writes that send no signal:
    - existing regions renamed or moved (`changed_codes`): the candidates ranking is marked stale — its
      rows store region paths and its pages keep Region instances until the next rebuild
      (precomputed.kept_for), so pages answer live, with the new names, until analytics_rebuild;
    - any change: a new data version (registry.cache), so no remembered answer shows an old name.
    With a migration's historical models, the same two rows are written through them (when they exist)."""
    from django.apps import apps as live_apps

    note = STALE_NOTE.format(codes=", ".join(changed_codes[:5]) + (" …" if len(changed_codes) > 5 else ""))[:200]
    if region_model._meta.apps is live_apps:
        from registry import cache
        from registry.eligibility import precomputed
        from registry.filtersets import codes

        if changed_codes:
            precomputed.mark_stale(note)
        cache.changed()
        codes.clear()  # this process's region table (the others re-read theirs within CodeCache.ttl)
        return
    import uuid

    from django.utils import timezone

    historical = region_model._meta.apps
    try:
        state = historical.get_model("registry", "PipelineState")
        version = historical.get_model("registry", "RegistryVersion")
    except LookupError:  # a migration before those tables: nothing was built or remembered yet
        return
    if changed_codes:
        state.objects.filter(name="candidates").update(complete=False, note=note)
    version.objects.filter(name="registry").update(token=uuid.uuid4().hex, changed_at=timezone.now())
