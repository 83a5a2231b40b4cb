"""The recognition pipeline's PostgreSQL backend: recognitions staged in a TEMP table, applied in SQL.

registry.services.certifications.record_certifications decides each item in memory; for a whole
list (1,000,000 rows) that is most of the time. Here the rows are already in a TEMP table (STAGE,
filled by the importer's fast path, importers/fastpath.py, with COPY) and a few statements apply
them with the same rules:

1. firms the list names and the registry lacks are created from their first row, with upsert_firm's
   record and audit row (a firm with a single row gets its current stage in the same statement);
2. a plan per row (PLAN): the firm's only row and no record of the tier → one INSERT … SELECT; the
   firm's only row naming its only record (record_certification's lookup) → one UPDATE … FROM that
   writes only rows whose compared fields are IS DISTINCT FROM the file's (a re-import writes
   nothing); anything else (several rows or records of one firm and tier: matching, conflicts,
   renewal links decided in order) → record_certifications, in line order, ROWS_BATCH at a time;
3. current stages refreshed with one UPDATE (the rule of registry.services.stage.current_of);
4. the side effects (registry.services.effects.after_write) once. The ids of the firms and records
   written are kept in a TEMP table (TOUCHED) and reach Python once, as compact arrays.

The importer's tests (tests/importers/test_fastpath.py) import the same files through both backends
and compare counts, row reports, records, renewal links, current stages and audit rows.
"""

import datetime
import json
import re
from array import array
from typing import ClassVar

import numpy as np
import pandas as pd
from django.db import connection
from django.utils import timezone
from psycopg.errors import UniqueViolation

from registry.models import Certification, Firm
from registry.services import audit
from registry.services.certifications import COMPARED, record_certifications
from registry.services.effects import FIRMS, RECOGNITIONS, after_write

STAGE = "import_fast_rows"
PLAN = "import_fast_plan"
TOUCHED = "import_fast_touched"  # firms and records the job wrote: ids stay in the database, not in Python sets
ROWS_BATCH = 20_000  # staged rows handed to record_certifications at a time


def create_stage(cursor):
    """The TEMP table a caller COPYs its rows into (one row a line of the list; problem set = not applied)."""
    cursor.execute(f"DROP TABLE IF EXISTS {STAGE}, {PLAN}")
    cursor.execute(f"""CREATE TEMP TABLE {STAGE} (
        line integer NOT NULL, uscc text NOT NULL, name text NOT NULL, name_norm text NOT NULL,
        region_id text NOT NULL, in_scope boolean NOT NULL, issued_on date NOT NULL,
        valid_from date NOT NULL, valid_until date NOT NULL, certificate_no text NOT NULL, dkey text NOT NULL,
        problem text, first_line integer, firm_region text) ON COMMIT DROP""")


class StagedRecognitions:
    """Apply the rows of STAGE without a problem, all of one tier with the same details (`base`: what
    prepare_certification gives for them, dates aside). `counts` gets created/updated/unchanged/
    firms_created; `reject(line, (field, message, code))` hears of rows refused."""

    def __init__(self, tier, base, details, *, actor, via, today, counts, reject):
        self.tier, self.base, self.details = tier, base, details
        self.compared = [k for k in COMPARED if k in base]
        self.actor, self.via, self.today, self.counts, self.reject = actor, via, today, counts, reject

    def apply(self, cursor):
        actor = audit.actor_or_none(self.actor)
        params = {"now": timezone.now(), "today": self.today, "actor": actor.pk if actor else None, "via": self.via,
                  "tier": self.tier.id, "stage": self.tier.stage_id}
        _iso_dates(cursor)
        cursor.execute(f"""CREATE TEMP TABLE {TOUCHED} (firm_id bigint NOT NULL, cert_id bigint,
                           new_firm boolean NOT NULL DEFAULT false) ON COMMIT DROP""")
        self.counts["firms_created"] += self.create_firms(cursor, params)
        self.plan(cursor, params)
        self.update_matching(cursor, params)
        self.insert_new(cursor, params)
        self.refresh_stages(cursor, params)
        self.apply_rows(cursor)
        announced = _ids(cursor, f"SELECT DISTINCT firm_id FROM {TOUCHED} ORDER BY 1")
        cert_ids = _ids(cursor, f"SELECT cert_id FROM {TOUCHED} WHERE cert_id IS NOT NULL ORDER BY 1")
        cursor.execute(f"DROP TABLE {STAGE}, {PLAN}, {TOUCHED}")
        after_write(announced, changed=RECOGNITIONS, recorded=cert_ids, sender=Certification)

    # Audit: one AuditEvent per created firm, created or changed certification, with the per-row
    # services' `changes` — not one per job. An auditor reads a firm's history record by record
    # (who changed what, from what to what); a single job row would hide which records an import
    # touched. Unchanged rows write nothing; provenance (file, line, checksum, job) is on each record.

    def create_firms(self, cursor, params):
        """Firms named by the list and not in the registry, from their first row; upsert_firm's record
        and audit row (name from '', the model's default, as upsert_firm records it). A firm with a single
        row gets its current stage here (no second write). Returns how many were created."""
        cursor.execute(f"""
            WITH creators AS (
                SELECT DISTINCT ON (uscc) uscc, name, name_norm, region_id, line, valid_from, valid_until,
                       count(*) OVER (PARTITION BY uscc) AS n
                FROM {STAGE} s WHERE problem IS NULL
                  AND NOT EXISTS (SELECT 1 FROM registry_firm f WHERE f.uscc = s.uscc)
                ORDER BY uscc, line
            ), firms AS (
                INSERT INTO registry_firm (uscc, uscc_override_reason, name, name_normalized, former_names, region_id,
                    industry_code, description, main_products, technologies, listing_status, created_at, updated_at,
                    current_stage_id, current_tier_id)
                SELECT uscc, '', name, name_norm, '[]'::jsonb, region_id, '', '', '', '', 'unlisted', %(now)s, %(now)s,
                       CASE WHEN held THEN %(stage)s END, CASE WHEN held THEN %(tier)s END
                FROM (SELECT *, n = 1 AND valid_from <= %(today)s AND valid_until >= %(today)s AS held
                      FROM creators) c ORDER BY line
                RETURNING id, uscc, name, region_id
            ), audit AS (
                INSERT INTO registry_auditevent (at, actor_id, via, action, model, object_id, firm_id, changes)
                SELECT %(now)s, %(actor)s, %(via)s, 'create', 'firm', id::text, id,
                       ('{{"name": ["", ' || to_json(name)::text || '], "region": [null, ' || to_json(region_id)::text
                        || ']}}')::jsonb  -- {{"name": ["", name], "region": [null, region]}}, as text (_json_object)
                FROM firms
            ), touched AS (
                INSERT INTO {TOUCHED} (firm_id, new_firm) SELECT id, true FROM firms
            )
            SELECT count(*) FROM firms""", params)
        return cursor.fetchone()[0]

    def plan(self, cursor, params):
        """insert: the firm's only row, no record of the tier; match: its only row, naming its only
        record (record_certification's lookup); rows: everything else, decided in file order."""
        cursor.execute(f"""CREATE TEMP TABLE {PLAN} ON COMMIT DROP AS
            SELECT s.line, f.id AS firm_id, e.id AS cert_id,
                CASE WHEN count(*) OVER (PARTITION BY f.id) > 1 OR e.n > 1 THEN 'rows'
                     WHEN e.n IS NULL THEN 'insert'
                     WHEN (s.certificate_no <> '' AND (e.certificate_no = s.certificate_no
                           OR (e.certificate_no = '' AND e.valid_from = s.valid_from)))
                       OR (s.certificate_no = '' AND e.valid_from = s.valid_from) THEN 'match'
                     ELSE 'rows' END AS path
            FROM {STAGE} s JOIN registry_firm f ON f.uscc = s.uscc LEFT JOIN (
                SELECT firm_id, count(*) AS n, min(id) AS id, min(certificate_no) AS certificate_no,
                       min(valid_from) AS valid_from
                FROM registry_certification
                WHERE tier_id = %(tier)s AND firm_id IN (SELECT f.id FROM {STAGE} s JOIN registry_firm f ON f.uscc = s.uscc)
                GROUP BY firm_id) e ON e.firm_id = f.id
            WHERE s.problem IS NULL""", params)
        cursor.execute(f"CREATE INDEX ON {PLAN} (path, line)")
        cursor.execute(f"ANALYZE {PLAN}")  # unanalysed, it looked like 500 rows: 100,000 index probes into STAGE instead of a hash join

    def _row_values(self):
        """SQL expressions of the values record_certification compares, for staged row s."""
        constants = {k: self.base[k] for k in self.compared if k not in ("issued_on", "valid_from", "valid_until",
                                                                           "certificate_no")}
        values = {k: f"s.{k}" for k in ("issued_on", "valid_from", "valid_until", "certificate_no")}
        for k in constants:
            values[k] = f"%(c_{k})s::{'integer' if k == 'batch_year' else 'text'}"
        return {k: values[k] for k in self.compared}, {f"c_{k}": v for k, v in constants.items()}

    def _provenance(self):
        return {"source_name": self.details.get("source_name", ""), "source_checksum": self.details.get(
            "source_checksum", ""), "import_job_id": self.details.get("import_job_id")}

    def update_matching(self, cursor, params):
        """Staged rows naming their firm's single record: compared field by field (IS DISTINCT FROM), only
        changed records written, each with its audit row of [old, new] pairs, like record_certification."""
        values, constants = self._row_values()
        sets = ", ".join(f"{k} = {v}" for k, v in values.items())
        old = ", ".join(f"o.{k}" for k in values)
        new = ", ".join(values.values())
        changes = " || ".join(
            f"CASE WHEN o.{k} IS DISTINCT FROM {v} THEN jsonb_build_object('{k}', jsonb_build_array(to_jsonb(o.{k}), "
            f"to_jsonb({v}))) ELSE '{{}}'::jsonb END" for k, v in values.items())
        cursor.execute(f"""
            WITH updated AS (
                UPDATE registry_certification c SET {sets},
                    source_name = %(source_name)s, source_row = s.line, source_checksum = %(source_checksum)s,
                    import_job_id = %(import_job_id)s, updated_at = %(now)s,
                    status = CASE WHEN o.valid_until IS DISTINCT FROM s.valid_until AND o.status IN ('active', 'expired')
                                  THEN CASE WHEN s.valid_until < %(today)s THEN 'expired' ELSE 'active' END
                                  ELSE o.status END
                FROM {PLAN} p JOIN {STAGE} s ON s.line = p.line JOIN registry_certification o ON o.id = p.cert_id
                WHERE p.path = 'match' AND c.id = p.cert_id AND ({old}) IS DISTINCT FROM ({new})
                RETURNING c.id, c.firm_id, {changes} AS changes
            ), audit AS (
                INSERT INTO registry_auditevent (at, actor_id, via, action, model, object_id, firm_id, changes)
                SELECT %(now)s, %(actor)s, %(via)s, 'update', 'certification', id::text, firm_id, changes FROM updated
            ), touched AS (
                INSERT INTO {TOUCHED} (firm_id, cert_id) SELECT firm_id, id FROM updated
            )
            SELECT count(*) FROM updated""", {**params, **constants, **self._provenance()})
        updated = cursor.fetchone()[0]
        cursor.execute(f"SELECT count(*) FROM {PLAN} WHERE path = 'match'")
        matched = cursor.fetchone()[0]
        self.counts["updated"] += updated
        self.counts["unchanged"] += matched - updated

    def insert_new(self, cursor, params):
        """A firm's first record of the tier: one INSERT … SELECT and its audit rows."""
        values, constants = self._row_values()
        per_row = [k for k, v in values.items() if v.startswith("s.")]
        names = ", ".join(per_row)
        changes, json_params = _json_object(per_row, dates=("issued_on", "valid_from", "valid_until"),
                                            constants={k: self.base[k] for k in values if k not in per_row})
        cursor.execute(f"""
            WITH created AS (
                INSERT INTO registry_certification (firm_id, stage_id, tier_id, status, renews_id, revoked_on,
                    revocation_reason, authority, level, batch, batch_year, certificate_no, issued_on, valid_from,
                    valid_until, source_name, source_row, source_checksum, import_job_id, created_at, updated_at)
                SELECT p.firm_id, %(stage)s, %(tier)s,
                       CASE WHEN s.valid_until < %(today)s THEN 'expired' ELSE 'active' END, NULL, NULL, '',
                       %(authority)s, %(level)s, %(batch)s, %(batch_year)s, s.certificate_no, s.issued_on, s.valid_from,
                       s.valid_until, %(source_name)s, s.line, %(source_checksum)s, %(import_job_id)s, %(now)s, %(now)s
                FROM {PLAN} p JOIN {STAGE} s ON s.line = p.line WHERE p.path = 'insert' ORDER BY s.line
                RETURNING id, firm_id, {names}
            ), audit AS (
                INSERT INTO registry_auditevent (at, actor_id, via, action, model, object_id, firm_id, changes)
                SELECT %(now)s, %(actor)s, %(via)s, 'record', 'certification', id::text, firm_id, {changes}
                FROM created
            ), touched AS (
                INSERT INTO {TOUCHED} (firm_id, cert_id) SELECT firm_id, id FROM created
            )
            SELECT count(*) FROM created""", {
            **params, **constants, **json_params, **self._provenance(), "authority": self.base.get("authority", ""),
            "level": self.base["level"], "batch": self.base.get("batch", ""), "batch_year": self.base.get("batch_year")})
        self.counts["created"] += cursor.fetchone()[0]

    def refresh_stages(self, cursor, params):
        """registry.services.stage.current_of in SQL: the highest stage, then tier, held today, for the
        firms whose records were written (a firm created here already has it)."""
        cursor.execute(f"""
            WITH firms AS (
                SELECT DISTINCT t.firm_id AS id FROM {TOUCHED} t
                WHERE t.cert_id IS NOT NULL
                  AND NOT EXISTS (SELECT 1 FROM {TOUCHED} n WHERE n.new_firm AND n.firm_id = t.firm_id)),
            best AS (
                SELECT DISTINCT ON (c.firm_id) c.firm_id, c.stage_id, c.tier_id
                FROM registry_certification c JOIN registry_stage st ON st.id = c.stage_id
                     JOIN registry_tier t ON t.id = c.tier_id
                WHERE c.firm_id IN (SELECT id FROM firms) AND c.status IN ('active', 'superseded')
                  AND c.valid_from <= %(today)s AND c.valid_until >= %(today)s
                ORDER BY c.firm_id, st.rank DESC, t.rank DESC)
            UPDATE registry_firm f SET current_stage_id = b.stage_id, current_tier_id = b.tier_id
            FROM firms LEFT JOIN best b ON b.firm_id = firms.id
            WHERE f.id = firms.id AND (f.current_stage_id, f.current_tier_id) IS DISTINCT FROM (b.stage_id, b.tier_id)""",
                       params)

    def apply_rows(self, cursor):
        """Firms with several rows or records of the tier: record_certifications, in file order."""
        cursor.execute(f"""SELECT s.line, p.firm_id, s.issued_on, s.valid_from, s.valid_until, s.certificate_no
                           FROM {PLAN} p JOIN {STAGE} s ON s.line = p.line WHERE p.path = 'rows' ORDER BY s.line""")
        with connection.cursor() as out:  # `cursor` is still handing out the rows
            while batch := cursor.fetchmany(ROWS_BATCH):
                items = [dict(self.base, firm_id=firm_id, issued_on=issued_on, valid_from=valid_from,
                              valid_until=until, certificate_no=number, source_row=line)
                         for line, firm_id, issued_on, valid_from, until, number in batch]
                results = record_certifications(items, actor=self.actor, via=self.via, today=self.today,
                                                          side_effects=False)
                firm_ids, cert_ids = [], []
                for (line, firm_id, *_), result in zip(batch, results):
                    if result[1] == "error":
                        self.reject(line, ("", result[2], "conflict"))
                        continue
                    self.counts[result[1]] += 1
                    if result[1] != "unchanged":
                        firm_ids.append(firm_id)
                        cert_ids.append(result[0])
                if firm_ids:
                    out.execute(f"INSERT INTO {TOUCHED} (firm_id, cert_id) SELECT * FROM unnest(%s::bigint[], %s::bigint[])",
                                [firm_ids, cert_ids])


def _json_object(columns, dates=(), constants=None) -> tuple[str, dict]:
    """(SQL, params) for jsonb_build_object('c', c, …) over these columns plus `constants` (the same value
    on every row, serialised once in Python), built as JSON text and parsed once: about half the time of
    jsonb_build_object on 100,000 rows. Columns in `dates` are written as their text, ISO under the
    DateStyle that _iso_dates sets: to_json of a date cost a third of the whole audit expression
    (docs/registry.md "Write pipeline performance")."""
    pairs = [f"""coalesce('"{c}": "' || {c}::text || '"', '"{c}": null')""" if c in dates
             else f"'\"{c}\": ' || coalesce(to_json({c})::text, 'null')" for c in columns]
    params = {}
    if constants:
        params["json_constants"] = json.dumps(constants, ensure_ascii=False)[1:-1]  # "k": v, … without the braces
        pairs.append("%(json_constants)s::text")
    return "('{' || " + " || ', ' || ".join(pairs) + " || '}')::jsonb", params


def _iso_dates(cursor):
    """date::text as YYYY-MM-DD for the rest of this transaction, whatever the server's DateStyle (the
    audit JSON above; ISO is PostgreSQL's and Django's default, so this changes nothing else)."""
    cursor.execute("SET LOCAL DateStyle = 'ISO'")


_COPY_ESCAPES = re.compile(r"[\\\t\n\r]")


def _escaped(text: str) -> str:
    """Text as a COPY cell: the backslash and the three characters that end a cell or a row escaped."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def copy_rows(frame, end="\n") -> list[str]:
    """A frame's rows in PostgreSQL's COPY text format, each ending in `end` (a newline, or constant cells
    and a newline) (None → NULL, "" stays ""): built from whole columns, escaping only columns that need it
    (about 3× pandas' to_csv)."""
    if frame is None or not len(frame):
        return []
    columns = []
    for name in frame.columns:
        values = frame[name].to_numpy()
        if values.dtype == bool:
            columns.append(np.where(values, "t", "f").tolist())
            continue
        if values.dtype != object:
            columns.append(values.astype(str).tolist())
            continue
        # The cells as they are when they are all text (the usual case): a round trip through numpy's
        # fixed-width strings (astype(str)) cost 100 against 64 ms per 25,000 staged rows.
        missing = pd.isna(values).tolist()  # None or NaN: NULL
        gaps = any(missing)
        present = [c for c, m in zip(values.tolist(), missing) if not m] if gaps else values.tolist()
        if not all(type(c) is str for c in present):
            present = [str(c) for c in present]
        if _COPY_ESCAPES.search("\x00".join(present)):
            present = [_escaped(c) for c in present]
        if gaps:
            cells = iter(present)
            present = ["\\N" if m else next(cells) for m in missing]
        columns.append(present)
    return ["\t".join(row) + end for row in zip(*columns)]


def copy_cell(value) -> str:
    """One value as a cell of COPY text (a constant of every row)."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    text = value.isoformat(sep=" ") if isinstance(value, datetime.datetime) else str(value)
    return _escaped(text)


def copy_text(frame) -> str | None:
    """A frame as one COPY text (copy_rows joined); None for no rows."""
    return "".join(copy_rows(frame)) or None


def _ids(cursor, sql) -> array:
    """A query's single bigint column as a compact array (8 bytes an id: a whole list's ids fit easily)."""
    cursor.execute(sql)
    ids = array("q")
    while batch := cursor.fetchmany(100_000):
        ids.extend(row[0] for row in batch)
    return ids



# ---------------------------------------------------------------------------------------------
# Firms: the firm pipeline's PostgreSQL backend (registry.services.firms.record_firms decides each row
# in memory; a firm list of 100,000 rows is staged into FIRM_STAGE by importers/fastpath.py instead).

FIRM_STAGE = "import_fast_firms"
KNOWN = "import_fast_known"  # staged lines whose firm the registry has: found once (update), not looked up again (create)
# The firm fields a staged row may carry (NULL: the row does not give it, the firm keeps its value), in
# the order record_firms' callers pass them (importers.services.FIRM_FIELDS, the currency, the region).
STAGED_FIRM_FIELDS = ("name", "founded_on", "main_products", "registered_capital", "registered_capital_currency",
                      "region")


def create_firm_stage(cursor):
    """The TEMP table a firm list's plain rows are COPY'd into. `region_id`: the row's region from every
    clue; `region_named`: the row names a region or address (a known firm only moves then);
    `capital_text`: the amount as the per-row path's Decimal prints it (the audit's value)."""
    cursor.execute(f"DROP TABLE IF EXISTS {FIRM_STAGE}")
    cursor.execute(f"""CREATE TEMP TABLE {FIRM_STAGE} (
        line integer NOT NULL, uscc text NOT NULL, name text NOT NULL, name_norm text NOT NULL,
        region_id text NOT NULL, region_named boolean NOT NULL, in_scope boolean NOT NULL,
        founded_on date, main_products text, registered_capital numeric, capital_text text,
        registered_capital_currency text, changes text NOT NULL, problem text, first_line integer,
        PRIMARY KEY (line)) ON COMMIT DROP""")
    # Keyed from the start: StagedFirms.write takes a frame's lines while later frames are still read.


def index_firm_stage_usccs(cursor):
    """FIRM_STAGE's (uscc, line) index, for a caller that looks up staged USCCs' earlier rows (a firm twice
    in one list, an officer's scope): built when first needed, kept up as further frames arrive."""
    cursor.execute(f"CREATE INDEX IF NOT EXISTS {FIRM_STAGE}_uscc ON {FIRM_STAGE} (uscc, line)")


_JSON_ESCAPED = re.compile(r'["\\\x00-\x1f]')  # what a JSON string literal must escape


def new_firm_changes(columns: dict) -> np.ndarray:
    """The audit `changes` of creating each staged firm, as JSON text (FIRM_STAGE's `changes`): for each
    field the row gives (not None), [the model's default, the value] — what upsert_firm records (audit.diff
    of a new firm, dates and amounts as text). `columns`: {field of STAGED_FIRM_FIELDS: values, None where
    the row does not give it}, the amount as its text. Built from whole columns in Python while the list is
    read (one %-format a row, a template per set of fields given); in SQL (to_json of six fields,
    concat_ws) it was half the cost of a new firm's audit row."""
    template = Firm()
    olds = {"name": template.name, "main_products": template.main_products,
            "registered_capital_currency": template.registered_capital_currency}
    n = len(columns["name"])
    pattern = np.zeros(n, dtype=np.int64)  # bit i: the row gives field i
    cells, quoted = [], []
    for bit, field in enumerate(STAGED_FIRM_FIELDS):
        values = np.asarray(columns[field], dtype=object)
        given = ~pd.isna(values)
        pattern |= given.astype(np.int64) << bit
        texts = values.tolist()
        if not given.all() or not all(type(v) is str for v in texts):
            texts = [str(v) if g else "" for v, g in zip(texts, given.tolist())]
        # One regex over the whole column; a value needing an escape (rare) makes the column go through json.dumps.
        plain = not _JSON_ESCAPED.search("".join(texts))
        cells.append(np.array(texts if plain else [json.dumps(t, ensure_ascii=False) for t in texts], dtype=object))
        quoted.append(plain)
    out = np.empty(n, dtype=object)
    for code in np.unique(pattern).tolist():
        fields = [i for i in range(len(STAGED_FIRM_FIELDS)) if code >> i & 1]
        parts = []
        for i in fields:
            old = json.dumps(olds.get(STAGED_FIRM_FIELDS[i]), ensure_ascii=False).replace("%", "%%")
            parts.append(f'"{STAGED_FIRM_FIELDS[i]}": [{old}, ' + ('"%s"' if quoted[i] else "%s") + "]")
        text = "{" + ", ".join(parts) + "}"
        rows = np.flatnonzero(pattern == code)
        out[rows] = [text % values for values in zip(*(cells[i][rows].tolist() for i in fields))]
    return out


class StagedFirms:
    """Apply the rows of FIRM_STAGE without a problem (one row per USCC: the caller has settled
    duplicates) with record_firms' rules: a new firm is created from its row; a known firm gets the
    fields its row gives (a new name pushes the old one onto former_names; the region only when the
    row names one); unchanged firms are not written. One AuditEvent per created or changed firm with
    record_firms' `changes`, then the side effects (after_write) once. The caller checked what
    record_firms' field checks would refuse (lengths, digits).

    Three steps, so that a caller can write a list a frame at a time while it reads the next frame
    (importers.fastpath.FastFirms): `begin` (the caller's thread: builds the statements), `write(cursor,
    lo, hi)` for the staged lines lo..hi (any thread, one at a time on the connection; a batch of one
    is write over the whole stage) and `finish` (the caller's thread: counts, side effects). Writing a
    frame only sees firms known before the job: a USCC the list already wrote on an earlier frame is
    a duplicate there, settled by the caller before the frame is written. Everything stays in the
    caller's transaction: a failure on any frame rolls back every frame."""

    def __init__(self, *, actor, via, counts):
        self.actor, self.via, self.counts = actor, via, counts
        self.written = {"created": 0, "updated": 0, "matched": 0}

    def begin(self, cursor):
        actor = audit.actor_or_none(self.actor)
        self.params = {"now": timezone.now(), "actor": actor.pk if actor else None, "via": self.via}
        cursor.execute(f"DROP TABLE IF EXISTS {TOUCHED}, {KNOWN}")
        cursor.execute(f"CREATE TEMP TABLE {TOUCHED} (firm_id bigint NOT NULL, fields text[]) ON COMMIT DROP")
        cursor.execute(f"CREATE TEMP TABLE {KNOWN} (line integer PRIMARY KEY) ON COMMIT DROP")  # probed per frame
        self.update_sql = self._update_sql()
        self.create_sql, defaults = self._create_sql()
        self.params.update(defaults)
        self.new_ids = []  # ids of the firms create_new wrote, an array a frame
        self._new_columns()

    def write(self, cursor, lo=0, hi=2**31 - 1):
        """The staged lines lo..hi: known firms updated (first: only firms known before), then new ones created."""
        lines = {**self.params, "lo": lo, "hi": hi}
        cursor.execute(self.update_sql, lines)
        updated, matched = cursor.fetchone()
        cursor.execute(self.create_sql, lines)
        self.written["created"] += cursor.fetchone()[0]
        self.written["updated"] += updated
        self.written["matched"] += matched

    # Firms new to the registry need no stage: create_new COPYs them and their audit rows straight into the
    # registry's tables, and the USCC's unique index tells, as the rows go in, whether one was known after
    # all (then nothing is written and the caller stages the frame). Staging new firms cost the database a
    # COPY into the stage, reading it back and a lookup of every USCC (the update statement's): per
    # 100,000 new firms about 0.8 s of the import's 3.3 s of database CPU (the COPY baseline: 2.1 s).

    def _new_columns(self):
        """What create_new writes: the staged column behind each registry_firm column (its default where the
        row gives none), and the cells every row shares (the defaults, the times), appended to each row."""
        template = Firm()
        given = {"uscc": "uscc", "name": "name", "name_normalized": "name_norm", "region_id": "region_id",
                 "founded_on": "founded_on", "main_products": "main_products",
                 "registered_capital": "registered_capital", "registered_capital_currency": "registered_capital_currency"}
        self.new_given, constants = [], {}
        for field in Firm._meta.concrete_fields:
            if field.primary_key:
                continue
            default = getattr(template, field.attname)
            if field.attname in given:
                self.new_given.append((field.column, given[field.attname], default))
            elif field.attname in ("created_at", "updated_at"):
                constants[field.column] = self.params["now"]
            else:  # as the create statement passes them (_create_sql)
                constants[field.column] = json.dumps(default) if isinstance(default, list) else default
        columns = [c for c, _, _ in self.new_given] + list(constants)
        self.new_copy = f"COPY registry_firm (id, {', '.join(columns)}) FROM STDIN"
        self.new_end = "".join("\t" + copy_cell(v) for v in constants.values()) + "\n"
        self.audit_start = "\t".join(copy_cell(v) for v in (self.params["now"], self.params["actor"], self.via, "create",
                                                            "firm")) + "\t"

    def new_rows(self, staged):
        """(firm rows, audit rows) of COPY text for create_new, the ids left out: built from a staged frame
        (create_firm_stage's columns) by the caller's reading thread, while the database writes the frame
        before it."""
        frame = pd.DataFrame({column: staged[source].to_numpy() if default is None
                              else staged[source].fillna(default).to_numpy()
                              for column, source, default in self.new_given})
        changes = staged["changes"].tolist()
        if _COPY_ESCAPES.search("\x00".join(changes)):
            changes = [copy_cell(c) for c in changes]
        return copy_rows(frame, self.new_end), changes

    def create_new(self, cursor, rows) -> bool:
        """Create the firms of new_rows, if none is in the registry: ids drawn in line order, the firms and
        their audit rows COPY'd into registry_firm and registry_auditevent — the rows write's create
        statement gives (upsert_firm's record and audit row). False, with nothing written, when the
        registry has one of them (its unique USCC index refused the COPY: no lookup beforehand)."""
        firms, changes = rows
        # one text of the ids, in the order drawn: not a row (and an int) per id to build in Python
        cursor.execute("SELECT string_agg(nextval(%s::regclass)::text, ',' ORDER BY n) FROM generate_series(1, %s) n",
                       [self.params["firm_ids"], len(firms)])
        ids = cursor.fetchone()[0].split(",")
        raw = cursor.cursor  # the job's connection, on the caller's writing thread: psycopg's own savepoint
        raw.execute("SAVEPOINT import_new_firms")
        try:
            with raw.copy(self.new_copy) as copy:
                copy.write("".join([i + "\t" + row for i, row in zip(ids, firms)]))
        except UniqueViolation as refused:
            if refused.diag.table_name != Firm._meta.db_table or "uscc" not in (refused.diag.constraint_name or ""):
                raise
            raw.execute("ROLLBACK TO SAVEPOINT import_new_firms")
            return False  # (the ids drawn stay unused: a sequence never gives one twice)
        raw.execute("RELEASE SAVEPOINT import_new_firms")
        start = self.audit_start
        with raw.copy("COPY registry_auditevent (at, actor_id, via, action, model, object_id, firm_id, changes) "
                      "FROM STDIN") as copy:
            copy.write("".join([f"{start}{i}\t{i}\t{c}\n" for i, c in zip(ids, changes)]))
        self.new_ids.append(np.array(ids, dtype=np.int64))
        self.written["created"] += len(ids)
        return True

    def finish(self, cursor):
        """Counts into `counts`, the side effects once; returns the ids of the firms written (created or
        changed), a compact array."""
        created, updated, matched = self.written["created"], self.written["updated"], self.written["matched"]
        self.counts["created"] += created
        self.counts["updated"] += updated
        self.counts["unchanged"] += matched - updated
        written = _ids(cursor, f"SELECT firm_id FROM {TOUCHED} ORDER BY 1")
        for ids in self.new_ids:
            written.frombytes(ids.tobytes())
        cursor.execute(f"SELECT DISTINCT unnest(fields) FROM {TOUCHED} WHERE fields IS NOT NULL")
        fields = None if created else {row[0] for row in cursor.fetchall()}
        cursor.execute(f"DROP TABLE {FIRM_STAGE}, {TOUCHED}, {KNOWN}")
        if len(written):
            after_write(written, changed=FIRMS, sender=Firm, fields=fields)
        return written

    # The audit `changes` of each field, as audit.diff records it: [old, new] with dates and amounts as
    # text (audit.plain). `o` is the firm before the write, NULL for a new firm (whose defaults are
    # '' for text and NULL otherwise: name and main_products then start from '').
    _NEW_JSON: ClassVar = {"name": "s.name", "founded_on": "s.founded_on::text", "main_products": "s.main_products",
                 "registered_capital": "s.capital_text", "registered_capital_currency": "s.registered_capital_currency",
                 "region": "s.region_id"}  # text: jsonb_build_array makes them JSON strings, NULL null

    def _create_sql(self):
        """(SQL, parameters): firms not in the registry (lines of lo..hi the update did not find in it), from
        their row, in line order; upsert_firm's record and audit row."""
        template = Firm()  # the model's defaults for every column the row does not give
        given = {"uscc": "s.uscc", "name": "s.name", "name_normalized": "s.name_norm", "region_id": "s.region_id",
                 "founded_on": "s.founded_on", "main_products": "coalesce(s.main_products, %(d_main_products)s)",
                 "registered_capital": "s.registered_capital",
                 "registered_capital_currency": "coalesce(s.registered_capital_currency, %(d_registered_capital_currency)s)",
                 "created_at": "%(now)s", "updated_at": "%(now)s"}
        columns, values, defaults = [], [], {}
        for field in Firm._meta.concrete_fields:
            if field.primary_key:
                continue
            columns.append(field.column)
            if field.attname in given:
                values.append(given[field.attname])
            else:
                defaults[f"d_{field.attname}"] = field.get_db_prep_save(getattr(template, field.attname), connection)
                values.append(f"%(d_{field.attname})s")
        defaults["d_main_products"] = template.main_products
        defaults["d_registered_capital_currency"] = template.registered_capital_currency
        defaults = {k: (json.dumps(v) if isinstance(v, list) else v) for k, v in defaults.items()}
        # Each new firm's id is drawn first (in line order), so its audit row is written from the same staged
        # row: no join of the inserted firms back to the stage (by USCC; on an unanalysed stage the planner
        # once chose a nested loop over it, minutes for 100,000 rows). The audit `changes` come staged as
        # JSON text (new_firm_changes): only parsed here.
        with connection.cursor() as cursor:  # the caller's thread (begin): the id sequence, looked up once
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [connection.ops.quote_name(Firm._meta.db_table)])
            defaults["firm_ids"] = cursor.fetchone()[0]  # per row, the lookup was most of the id's cost
        return f"""
            WITH s AS MATERIALIZED (
                SELECT nextval(%(firm_ids)s::regclass) AS id, n.*
                FROM (SELECT s.* FROM {FIRM_STAGE} s
                      WHERE s.line BETWEEN %(lo)s AND %(hi)s AND s.problem IS NULL
                        AND NOT EXISTS (SELECT 1 FROM {KNOWN} k WHERE k.line = s.line)
                      ORDER BY s.line) n
            ), firms AS (
                INSERT INTO registry_firm (id, {", ".join(columns)}) SELECT s.id, {", ".join(values)} FROM s
            ), audit AS (
                INSERT INTO registry_auditevent (at, actor_id, via, action, model, object_id, firm_id, changes)
                SELECT %(now)s, %(actor)s, %(via)s, 'create', 'firm', s.id::text, s.id, s.changes::jsonb FROM s
            ), touched AS (
                INSERT INTO {TOUCHED} (firm_id) SELECT id FROM s
            )
            SELECT count(*) FROM s""", defaults

    @staticmethod
    def _column(field):
        return "region_id" if field == "region" else field

    def _update_sql(self):
        """Known firms whose row (of lo..hi) changes a field: one UPDATE … FROM and their audit rows. The
        statement returns (firms updated, rows matched to a known firm)."""
        differs = {
            "name": "s.name IS DISTINCT FROM o.name",
            "founded_on": "s.founded_on IS NOT NULL AND s.founded_on IS DISTINCT FROM o.founded_on",
            "main_products": "s.main_products IS NOT NULL AND s.main_products IS DISTINCT FROM o.main_products",
            "registered_capital": "s.registered_capital IS NOT NULL AND s.registered_capital IS DISTINCT FROM o.registered_capital",
            "registered_capital_currency": "s.registered_capital_currency IS NOT NULL "
                                           "AND s.registered_capital_currency IS DISTINCT FROM o.registered_capital_currency",
            "region": "s.region_named AND s.region_id IS DISTINCT FROM o.region_id",
        }
        old_json = {"name": "o.name", "founded_on": "o.founded_on::text", "main_products": "o.main_products",
                    "registered_capital": "o.registered_capital::text",
                    "registered_capital_currency": "o.registered_capital_currency", "region": "o.region_id"}
        flags = ", ".join(f"({v}) AS d_{k}" for k, v in differs.items())
        # a new name pushes the old one onto former_names (once): record_firms' rule
        former = "CASE WHEN d_name AND NOT (o.former_names ? o.name) THEN o.former_names || jsonb_build_array(o.name) " \
                 "ELSE o.former_names END"
        changes = "jsonb_strip_nulls(jsonb_build_object(" + ", ".join(
            f"'{k}', CASE WHEN c.d_{k} THEN jsonb_build_array({old_json[k]}, {self._NEW_JSON[k]}) END"
            for k in STAGED_FIRM_FIELDS) + "))"
        keys = ", ".join(f"CASE WHEN c.d_{k} THEN '{k}' END" for k in STAGED_FIRM_FIELDS)
        sets = ", ".join(f"{self._column(k)} = CASE WHEN c.d_{k} THEN s.{self._column(k)} ELSE o.{self._column(k)} END"
                         for k in STAGED_FIRM_FIELDS)
        return f"""
            WITH matched AS (
                SELECT s.line, o.id, {flags} FROM {FIRM_STAGE} s JOIN registry_firm o ON o.uscc = s.uscc
                WHERE s.line BETWEEN %(lo)s AND %(hi)s AND s.problem IS NULL
            ), changed AS (
                SELECT c.*, {former} AS former_names, o.former_names IS DISTINCT FROM ({former}) AS d_former,
                       {changes} AS changes
                FROM matched c JOIN registry_firm o ON o.id = c.id JOIN {FIRM_STAGE} s ON s.line = c.line
                WHERE {" OR ".join(f"c.d_{k}" for k in STAGED_FIRM_FIELDS)}
            ), updated AS (
                UPDATE registry_firm f SET {sets}, former_names = c.former_names, name_normalized = s.name_norm,
                    updated_at = %(now)s
                FROM changed c JOIN {FIRM_STAGE} s ON s.line = c.line JOIN registry_firm o ON o.id = c.id
                WHERE f.id = c.id
            ), audit AS (
                INSERT INTO registry_auditevent (at, actor_id, via, action, model, object_id, firm_id, changes)
                SELECT %(now)s, %(actor)s, %(via)s, 'update', 'firm', c.id::text, c.id,
                       c.changes || CASE WHEN c.d_former THEN jsonb_build_object('former_names',
                           jsonb_build_array(o.former_names, c.former_names)) ELSE '{{}}'::jsonb END
                FROM changed c JOIN registry_firm o ON o.id = c.id
            ), known AS (
                INSERT INTO {KNOWN} (line) SELECT line FROM matched
            ), touched AS (
                INSERT INTO {TOUCHED} (firm_id, fields)
                SELECT c.id, array_remove(ARRAY[{keys}, CASE WHEN c.d_former THEN 'former_names' END], NULL)
                FROM changed c
            )
            SELECT (SELECT count(*) FROM changed), (SELECT count(*) FROM matched)"""
