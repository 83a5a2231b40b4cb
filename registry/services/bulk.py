"""Set-based counterparts of the services, for large imports (a 1,000,000-row recognition list).

Same invariants as `record_certification` / `upsert_firm`, a handful of queries per chunk instead
of a dozen per row:

1. firms are resolved for the whole chunk in one query (`firm_ids_by_uscc`), missing ones
   created in one insert (`create_firms`, COPY on PostgreSQL);
2. the chunk's certifications of the same (firm, tier) are loaded in one query, each item is
   matched exactly as `record_certification` matches it (certificate number, or start date),
   created or updated in memory, and renewal links are replayed in memory with the rules of
   `link_renewals` (same order as the per-row path, so the same result);
3. new rows are inserted in bulk (COPY on PostgreSQL), changed ones bulk-updated;
4. current stages are refreshed once for the chunk's firms, audit rows written in bulk (one per
   created/changed record), and the side effects (registry.services.effects.after_write: pool,
   precomputed tables, candidates ranking, search) run once for the chunk.

tests/importers/test_bulk.py imports the same rows both ways and compares the results.
"""

import json
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.utils import timezone

from registry.models import AuditEvent, Certification, CertificationStatus, Firm
from registry.names import normalize_name
from registry.services import audit
from registry.services.certifications import RENEWABLE, RENEWAL_GRACE, prepare_certification, status_for
from registry.services.stage import CHUNK, current_of, held_on
from registry.services.effects import RECOGNITIONS, after_write

COMPARED = ("issued_on", "valid_from", "valid_until", "authority", "level", "batch", "batch_year", "certificate_no")
PROVENANCE = ("source_name", "source_row", "source_checksum", "import_job_id")
CERT_COLUMNS = ("id", "firm_id", "stage_id", "tier_id", "status", "renews_id", "revoked_on", "revocation_reason",
                "created_at", "updated_at") + COMPARED + PROVENANCE


def copy_rows(model, columns, rows):
    """COPY on PostgreSQL, executemany elsewhere: bulk_create spends most of its time building SQL."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(columns))})", rows)


def reserve_ids(model, n):
    """n fresh primary keys, in increasing order (PostgreSQL sequence; elsewhere max(id)+1…)."""
    if n <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n])
            return sorted(r[0] for r in cursor.fetchall())
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + n))


def write_audit(events, *, actor=None, via=""):
    """events: (action, model_name, object_id, firm_id, changes) → AuditEvent rows in one insert."""
    actor_id = audit.actor_or_none(actor).pk if audit.actor_or_none(actor) else None
    now = timezone.now()
    copy_rows(AuditEvent, ("at", "actor_id", "via", "action", "model", "object_id", "firm_id", "changes"), [
        (now, actor_id, via, action, model, str(object_id), firm_id, json.dumps(changes, ensure_ascii=False))
        for action, model, object_id, firm_id, changes in events
    ])


def refresh_current_stages(firm_ids, today=None):
    """registry.services.stage.refresh_current_stage, set-based: the same `current_of` decides,
    then one UPDATE per distinct (stage, tier) instead of a CASE per firm. Returns changed ids."""
    today = today or timezone.localdate()
    firm_ids = list(firm_ids)
    changed = []
    step = CHUNK * 10
    for start in range(0, len(firm_ids), step):
        chunk = firm_ids[start:start + step]
        current = current_of(
            Certification.objects.filter(held_on(today), firm_id__in=chunk).values_list(
                "firm_id", "stage_id", "tier_id", "stage__rank", "tier__rank"))
        moves = defaultdict(list)
        for firm_id, stage_id, tier_id in Firm.objects.filter(id__in=chunk).values_list(
                "id", "current_stage_id", "current_tier_id"):
            target = current.get(firm_id, (None, None))
            if (stage_id, tier_id) != target:
                moves[target].append(firm_id)
        for (stage_id, tier_id), ids in moves.items():
            Firm.objects.filter(id__in=ids).update(current_stage_id=stage_id, current_tier_id=tier_id)
            changed.extend(ids)
    return changed


# ---------------------------------------------------------------------------------------------
# Firms


def firm_ids_by_uscc(codes):
    """{uscc: (firm_id, region_id)} for the codes already in the registry, in one query."""
    found = {}
    codes = list(set(codes))
    for start in range(0, len(codes), 5000):
        for uscc, firm_id, region_id in Firm.objects.filter(uscc__in=codes[start:start + 5000]).values_list(
                "uscc", "id", "region_id"):
            found[uscc] = (firm_id, region_id)
    return found


def create_firms(rows, *, actor=None, via=""):
    """Create firms from (uscc, name, region_code) rows already validated; returns {uscc: firm_id}.

    The same record `upsert_firm(uscc, name=..., region=...)` creates (name_normalized, audit row).
    """
    if not rows:
        return {}
    ids = reserve_ids(Firm, len(rows))
    now = timezone.now()
    copy_rows(Firm, (
        "id", "uscc", "uscc_override_reason", "name", "name_normalized", "former_names", "region_id", "industry_code",
        "description", "main_products", "technologies", "listing_status", "created_at", "updated_at",
    ), [
        (firm_id, uscc, "", name, normalize_name(name), "[]", region, "", "", "", "", "unlisted", now, now)
        for firm_id, (uscc, name, region) in zip(ids, rows)
    ])
    write_audit(
        [("create", "firm", firm_id, firm_id, {"name": [None, name], "region": [None, region]})
         for firm_id, (uscc, name, region) in zip(ids, rows)],
        actor=actor, via=via,
    )
    return {uscc: firm_id for firm_id, (uscc, _, _) in zip(ids, rows)}


# ---------------------------------------------------------------------------------------------
# Certifications


@dataclass
class _Rec:
    """A certification row held in memory while a chunk is applied."""

    key: int  # the id, or a negative placeholder for a new row
    order: tuple
    values: dict
    new: bool = False
    dirty: set = field(default_factory=set)

    def set(self, name, value):
        if self.values.get(name) != value:
            self.values[name] = value
            self.dirty.add(name)


def _link(cert, group):
    """registry.services.certifications.link_renewals, on rows in memory."""
    vf, vu = cert.values["valid_from"], cert.values["valid_until"]
    siblings = [r for r in group if r is not cert]
    earlier = [r for r in siblings if r.values["valid_from"] < vf and r.values["status"] in RENEWABLE
               and r.values["valid_until"] >= vf - RENEWAL_GRACE]
    previous = max(earlier, key=lambda r: r.values["valid_from"], default=None)
    if previous and cert.values["renews_id"] is None:
        cert.set("renews_id", previous.key)
    if previous and previous.values["status"] != CertificationStatus.SUPERSEDED:
        previous.set("status", CertificationStatus.SUPERSEDED)
    later = [r for r in siblings if vf < r.values["valid_from"] <= vu + RENEWAL_GRACE
             and r.values["status"] != CertificationStatus.REVOKED]
    following = min(later, key=lambda r: r.values["valid_from"], default=None)
    if following and following.values["renews_id"] in (None, previous.key if previous else None):
        following.set("renews_id", cert.key)
        if cert.values["status"] != CertificationStatus.REVOKED:
            cert.set("status", CertificationStatus.SUPERSEDED)


def _match(group, item):
    """record_certification's lookup: same number, or a numberless record with the same start."""
    ordered = sorted(group, key=lambda r: (r.values["issued_on"], *r.order[1:]))
    number = item["certificate_no"]
    for rec in ordered:
        if number and (rec.values["certificate_no"] == number
                       or (rec.values["certificate_no"] == "" and rec.values["valid_from"] == item["valid_from"])):
            return rec
        if not number and rec.values["valid_from"] == item["valid_from"]:
            return rec
    return None


def _conflict(group, rec):
    """The unique constraints (firm, tier, number) and (firm, tier, start), checked in memory."""
    for other in group:
        if other is rec:
            continue
        if other.values["valid_from"] == rec.values["valid_from"]:
            return "This firm already holds this tier from this date."
        if rec.values["certificate_no"] and other.values["certificate_no"] == rec.values["certificate_no"]:
            return "This firm already holds this tier with this certificate number."
    return None


def bulk_record_certifications(items, *, actor=None, via="", today=None, side_effects=True, created_firm_ids=()):
    """Record many recognitions at once; the per-row equivalent is record_certification per item.

    items: dicts with firm_id plus what prepare_certification returns (tier, dates, details,
    provenance). `created_firm_ids`: firms the caller created for this chunk (create_firms), included
    in the same single after_write (side_effects=False: the caller runs it). Returns a list aligned with items: (certification_id, "created" | "updated" |
    "unchanged") or (None, "error", message) for an item that breaks a uniqueness rule.
    """
    today = today or timezone.localdate()
    results = [None] * len(items)
    if not items:
        if side_effects and created_firm_ids:
            after_write(created_firm_ids, changed=RECOGNITIONS, sender=Firm)
        return results
    pairs = {(it["firm_id"], it["tier"].id) for it in items}
    firm_ids = sorted({f for f, _ in pairs})
    tier_ids = sorted({t for _, t in pairs})
    groups = defaultdict(list)
    fetch = ("id", "firm_id", "tier_id", "stage_id", "status", "renews_id", "revoked_on", "revocation_reason") + COMPARED + PROVENANCE
    for start in range(0, len(firm_ids), 5000):
        query = Certification.objects.filter(firm_id__in=firm_ids[start:start + 5000], tier_id__in=tier_ids)
        for row in query.values(*fetch):
            pair = (row["firm_id"], row["tier_id"])
            if pair in pairs:
                groups[pair].append(_Rec(row["id"], (row["issued_on"], 0, row["id"]), row))

    placeholder = 0
    touched, events, signals = [], [], []
    for index, item in enumerate(items):
        tier = item["tier"]
        group = groups[(item["firm_id"], tier.id)]
        values = {k: item[k] for k in item if k in COMPARED}
        provenance = {k: item[k] for k in PROVENANCE if k in item}
        rec = _match(group, item)
        if rec is None:
            placeholder -= 1
            rec = _Rec(placeholder, (values["issued_on"], 1, -placeholder), {
                "id": None, "firm_id": item["firm_id"], "tier_id": tier.id, "stage_id": tier.stage_id,
                "status": status_for(values["valid_until"], today), "renews_id": None, "revoked_on": None,
                "revocation_reason": "", "authority": "", "batch": "", "batch_year": None, "certificate_no": "",
                "source_name": "", "source_row": None, "source_checksum": "", "import_job_id": None,
                **values, **provenance,
            }, new=True)
            problem = _conflict(group, rec)
            if problem:
                results[index] = (None, "error", problem)
                continue
            group.append(rec)
            outcome = "created"
            changes = {k: audit.plain(v) for k, v in values.items()}
        else:
            changes = {k: [audit.plain(rec.values.get(k)), audit.plain(v)] for k, v in values.items()
                       if rec.values.get(k) != v}
            if not changes:
                results[index] = (rec, "unchanged")
                continue
            saved = dict(rec.values), set(rec.dirty)
            for k, v in values.items():
                rec.set(k, v)
            problem = _conflict(group, rec)
            if problem:
                rec.values, rec.dirty = saved
                results[index] = (None, "error", problem)
                continue
            for k, v in provenance.items():
                rec.set(k, v)
            if "valid_until" in changes and rec.values["status"] in (CertificationStatus.ACTIVE, CertificationStatus.EXPIRED):
                rec.set("status", status_for(values["valid_until"], today))
            outcome = "updated"
        _link(rec, group)
        touched.append((rec, outcome, changes))
        results[index] = (rec, outcome)

    # Flush: ids for new rows, then one insert and one update.
    new = [rec for group in groups.values() for rec in group if rec.new]
    ids = reserve_ids(Certification, len(new))
    real = {rec.key: new_id for rec, new_id in zip(new, ids)}
    for rec in new:
        rec.values["id"] = real[rec.key]
    now = timezone.now()
    for rec in new:
        rec.values["renews_id"] = real.get(rec.values["renews_id"], rec.values["renews_id"])
        rec.values["created_at"] = rec.values["updated_at"] = now
    copy_rows(Certification, CERT_COLUMNS, [tuple(rec.values[c] for c in CERT_COLUMNS) for rec in new])
    changed = [rec for group in groups.values() for rec in group if not rec.new and rec.dirty]
    if changed:
        fields = sorted({f for rec in changed for f in rec.dirty})
        objs = []
        for rec in changed:
            rec.values["renews_id"] = real.get(rec.values["renews_id"], rec.values["renews_id"])
            obj = Certification(id=rec.key, updated_at=now, **{f: rec.values[f] for f in fields})
            objs.append(obj)
        Certification.objects.bulk_update(objs, fields + ["updated_at"], batch_size=1000)

    out = []
    for result in results:
        if result is None or result[0] is None:
            out.append(result)
        else:
            out.append((result[0].values["id"], result[1]))
    changed_firms = sorted({rec.values["firm_id"] for rec, _, _ in touched})
    if changed_firms:
        refresh_current_stages(changed_firms, today=today)
    write_audit([("record" if outcome == "created" else "update", "certification", rec.values["id"],
                  rec.values["firm_id"], changes) for rec, outcome, changes in touched], actor=actor, via=via)
    if side_effects:
        after_write(sorted(set(changed_firms) | set(created_firm_ids)), changed=RECOGNITIONS,
                    recorded=[rec.values["id"] for rec, _, _ in touched], sender=Certification)
    return out
