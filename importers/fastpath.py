"""Recognition lists on PostgreSQL, set-based: the fast path of an import job (issue 4's speed goal).

When it applies (``applies``): PostgreSQL, a recognition job not forced per row, a CSV table whose
columns are among FAST_FIELDS (name, USCC, region, certificate number, dates) and the tier given
as an option. Anything else goes through ``Run.apply`` as before.

How (``FastImport``):

1. The CSV is read in chunks of text cells (pandas' C parser, ``Table.frames``) and cleaned
   vectorised: USCC check digit in numpy (stdnum.cn.uscc's algorithm, checked against stdnum in
   tests/importers/test_fastpath.py), dates, regions and validity through the usual per-value
   parsers on the chunk's unique values only.
2. Rows that are plainly valid are COPY'd into a TEMP staging table. Every other row — no USCC
   (name matching, fuzzy review), a bad check digit (review), padded or odd cells, unknown
   regions, bad dates, possible footnotes — goes through the per-row code (``Run.prepare`` and
   ``Run.apply_recognitions_bulk``) right away, with today's reports.
3. At the end, the import's own checks run on the staged rows (duplicates inside the file, region
   scope), and the registry's recognition pipeline applies the rest through its PostgreSQL backend
   (registry.services.staged: firm creation, a plan in SQL, INSERT … SELECT / UPDATE … FROM, the
   remaining rows through record_certifications in file order, current stages, side effects once).
   This module writes no registry table itself.

The result is the per-row path's (counts, reports, registry), which tests/importers/test_bulk.py
checks. Two cases would depend on the order the two kinds of rows are applied in: a row handled per
row whose USCC is also on a staged row, and a row without a USCC (its name is matched against the
firms the rows above it created). Then ``OrderSensitive`` is raised, the job's savepoint rolled
back and the job re-run on the per-row bulk path (a list with rows lacking a USCC is not fast).

Firm lists (``FastFirms``, ``applies_firms``) go the same way: the same frames and checks, plain rows
written by registry.services.staged's StagedFirms (record_firms' rules) frame by frame on the worker
thread while the next frame is read (``FastFirms.copy`` says why that stays correct) — a frame of firms
new to the registry COPY'd straight into it (``create_new``), any other frame staged into FIRM_STAGE
and written in SQL — the rest per row; tests/importers/test_fast_firms.py compares the paths.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.core.exceptions import ValidationError
from django.core.validators import DecimalValidator
from django.db import connection

from registry.models import Firm
from registry.names import normalize_name
from registry.regions import resolve_row_region
from registry.services.certifications import COMPARED, prepare_certification
from registry.services.staged import (
    FIRM_STAGE,
    STAGE,
    StagedFirms,
    StagedRecognitions,
    copy_text,
    create_firm_stage,
    create_stage,
    index_firm_stage_usccs,
    new_firm_changes,
)

from .cleaning import _SLASH_YEAR_LAST_RE as _YEAR_LAST
from .cleaning import parse_amount, parse_date
from .columns import FIELD_KINDS
from .errors import CellError
from .models import ImportKind
from .readers import _FOOTNOTE_START, _TOTAL_START
from .report import OUT_OF_SCOPE

FAST_FIELDS = frozenset({"name", "uscc", "region", "certificate_no", "issued_on", "valid_until"})
FRAME_ROWS = 25_000  # a frame is COPY'd while the next is cleaned (_Background): small enough to overlap
FIRST_FRAME_ROWS = 5_000  # the first frame is cut to this: the worker starts while the rest of it is cleaned
WORK_MEM = "64MB"  # per sort or hash of the staged statements (a 100,000-row list's sorts spilled ~15 MB to disk)

_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_WEIGHTS = np.array((1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28), dtype=np.int64)
_INDEX = np.full(128, -1, dtype=np.int64)
_INDEX[[ord(c) for c in _ALPHABET]] = np.arange(len(_ALPHABET))
_INVISIBLE_RE = "[\u200b\u200c\u200d\ufeff]"
# Names normalize_name leaves as they are: unified ideographs, ASCII digits, lower-case letters, ().
_PLAIN_NAME_RE = r"[\u3400-\u4dbf\u4e00-\u9fff0-9a-z()]+"
_SUFFIX_RE = "责任|責任"
_SUSPECT_START = frozenset(_FOOTNOTE_START | _TOTAL_START)
_SEP = "\x00"  # joins a column's cells for the whole-column checks (the reader refuses NUL bytes)
# Whole-column checks search for a literal first (the separator), which re scans for at C speed: a pattern
# that starts with a class or an alternation, such as (?:^|\x00)\s, tries it at every character (10-15×
# slower on a 25,000-row column). A cell's end is a cell's start in the reversed text.
_SPACE_AFTER_SEP = re.compile("\x00\\s")  # \s is str.isspace, what strip() removes
_INVISIBLE = re.compile(_INVISIBLE_RE)
_SUSPECT_AFTER_SEP = re.compile("\x00[" + re.escape("".join(sorted(_SUSPECT_START))) + "]")


def _padded(whole: str) -> bool:
    """Whether a cell of a joined column (_SEP between cells) starts or ends with whitespace."""
    return whole[:1].isspace() or whole[-1:].isspace() or _SPACE_AFTER_SEP.search(whole) is not None \
        or _SPACE_AFTER_SEP.search(whole[::-1]) is not None


def _suspect(whole: str) -> bool:
    """Whether a cell of a joined column starts like a footnote or a total."""
    return whole[:1] in _SUSPECT_START or _SUSPECT_AFTER_SEP.search(whole) is not None


_WHOLE_COLUMN: dict = {}


def fullmatch_cells(cells: pd.Series, pattern: str) -> np.ndarray:
    """cells.str.fullmatch(pattern) as a bool array, by one match over the whole column when every cell is
    empty or matches (the usual case; a possessive repeat, so a miss costs no backtracking), cell by cell
    otherwise. An empty cell does not match, as with str.fullmatch (the pattern never matches empty text)."""
    whole_re = _WHOLE_COLUMN.get(pattern)
    if whole_re is None:
        unit = f"(?:{pattern})?"
        whole_re = _WHOLE_COLUMN[pattern] = re.compile(f"(?:{unit}\x00)*+{unit}")
    if len(cells) and whole_re.fullmatch(_SEP.join(cells.tolist())):
        return np.array(cells != "", dtype=bool)
    return np.array(cells.str.fullmatch(pattern), dtype=bool)


_PLAIN_COLUMN = re.compile(f"(?:{_PLAIN_NAME_RE}\x00)*{_PLAIN_NAME_RE}")


class OrderSensitive(Exception):
    """A per-row row and a staged row concern the same firm: apply the job in file order instead."""


def valid_uscc(codes) -> np.ndarray:
    """True where the text already is a normalised USCC that passes stdnum.cn.uscc.validate.

    Vectorised GB 32100: 18 characters, the first 8 digits, the rest from the code alphabet, the
    last the check character of the first 17. False means "not plainly valid": the per-row parser
    decides (it may normalise full-width or lower-case text, or send the row to review).
    """
    codes = pd.Series(codes, dtype=object).fillna("")
    out = np.zeros(len(codes), dtype=bool)
    sel = np.flatnonzero((codes.str.len() == 18).to_numpy())
    if not len(sel):
        return out
    chars = codes.iloc[sel].to_numpy(dtype="U18").view(np.uint32).reshape(-1, 18).astype(np.int64)
    idx = _INDEX[np.minimum(chars, 127)]
    ok = (chars < 128).all(axis=1) & (idx >= 0).all(axis=1) & (idx[:, :8] < 10).all(axis=1)
    total = (idx[:, :17] * _WEIGHTS).sum(axis=1)
    ok &= idx[:, 17] == (31 - total) % 31
    out[sel] = ok
    return out


def normalize_names(names: pd.Series) -> pd.Series:
    """registry.names.normalize_name over a column; plain names (most) need no work."""
    whole = _SEP.join(names.tolist())
    if _PLAIN_COLUMN.fullmatch(whole) and not re.search(_SUFFIX_RE, whole):
        return names
    plain = names.str.fullmatch(_PLAIN_NAME_RE) & ~names.str.contains(_SUFFIX_RE)
    out = names.copy()
    odd = ~plain.to_numpy(dtype=bool)
    if odd.any():
        out[odd] = [normalize_name(n) for n in names[odd]]
    return out


def copy_frame(cursor, table, frame, text=None):
    """COPY a frame into a TEMP table in PostgreSQL's text format; `text`: copy_text(frame), when the
    caller built it already (on the reading thread, so the worker's connection is not kept waiting)."""
    if frame is None or not len(frame):
        return
    text = copy_text(frame) if text is None else text
    with cursor.cursor.copy(f"COPY {table} ({', '.join(frame.columns)}) FROM STDIN") as copy:
        copy.write(text)


def applies(run, table) -> bool:
    """Whether this table of this job goes the fast way (a recognition list or a firm list, below)."""
    if run.kind == ImportKind.FIRMS:
        return applies_firms(run, table)
    fields = [c.field for c in table.columns if c.field]
    return (
        connection.vendor == "postgresql" and run.kind == ImportKind.RECOGNITIONS and not run.per_row and run.fast
        and table.format == "csv" and table._frames is not None and not table.from_sheet
        and "uscc" in fields and set(fields) <= FAST_FIELDS and len(fields) == len(set(fields))
        and bool(run.options.get("tier")) and ("issued_on" in fields or bool(run.options.get("issued_on")))
    )


class _Background:
    """One staging COPY at a time on a worker thread, so that the database ingests a frame while Python
    cleans the next. The connection is never used by both threads at once: the reader waits before it
    touches it (the next COPY, a per-row write, the stage's index); an error in the COPY is raised there."""

    def __enter__(self):
        self.pool, self.pending = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-copy"), None
        return self

    def submit(self, fn, *args):
        self.wait()
        self.pending = self.pool.submit(fn, *args)

    def wait(self):
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()

    def __exit__(self, *exc):
        try:
            if exc[0] is None:
                self.wait()
            elif self.pending is not None:  # the reader failed: let the COPY end before the job rolls back
                self.pending.exception()
        finally:
            self.pool.shutdown(wait=True)


@dataclass
class _Row:
    """What Run.reject needs of a staged row."""

    line: int
    sheet: str | None = None


class FastImport:
    """One CSV table of a recognition job, applied set-based (see the module docstring)."""

    stage = STAGE  # the TEMP table staged rows are COPY'd into
    create_stage = staticmethod(create_stage)

    def __init__(self, run, table):
        self.run, self.table = run, table
        self.columns = {c.field: c.index for c in table.columns if c.field}
        self.first_needed = min(self.columns["uscc"], self.columns.get("name", self.columns["uscc"]))
        # The same details for every row: options only (no tier/authority/batch columns here).
        self.tier = run.tier_for({})
        probe = run.recognition_details({"issued_on": datetime.date(2000, 1, 1)}, 0)[3]
        probe.pop("source_row")
        self.details = probe
        self.base = prepare_certification(self.tier, datetime.date(2000, 1, 1), **probe)
        self.compared = [k for k in COMPARED if k in self.base]
        self.regions, self.dates, self.validity, self.scope_ok, self.iso = {}, {}, {}, {}, {}
        self.slow_usccs, self.staged = set(), 0

    # -- reading -------------------------------------------------------------------------------

    def read(self):
        run = self.run
        convert = self.table.converter()
        with connection.cursor() as cursor, _Background() as background:
            # The set-based statements sort and hash a whole list: in memory, not in 4 MB runs on disk
            # (PostgreSQL's default); for this job's transaction only.
            cursor.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
            self.create_stage(cursor)
            self.background = background
            for lines, frame in self.frames():
                fast, staged = self.clean(lines, frame)
                text = self.copy_payload(staged)  # here, not on the worker: the database idles while it is built
                background.wait()  # the previous frame's COPY: one statement at a time on the connection
                slow = np.flatnonzero(~fast)
                if len(slow):
                    self.per_row(convert, lines, frame, fast, slow)
                # PostgreSQL takes this frame in while Python cleans the next one (the two cores overlap)
                background.submit(self.copy, cursor, lines, staged, text)
                self.staged += int(fast.sum())
                run.counts["total"] += int(fast.sum())
                run.counts["processed"] += int(fast.sum())
                if fast[-1]:
                    convert.saw_data()
                if run.progress:
                    run.progress(run)
            background.wait()
            self.index_stage(cursor)

    def frames(self):
        """The table's frames, the first one cut in two: nothing overlaps until a frame is staged."""
        first = FIRST_FRAME_ROWS
        for lines, frame in self.table.frames(FRAME_ROWS):
            if first and len(lines) > first:
                yield lines[:first], frame.iloc[:first]
                lines, frame = lines[first:], frame.iloc[first:]
            first = 0
            yield lines, frame

    def index_stage(self, cursor):
        """The staged rows are in: their keys for the set-based statements."""
        cursor.execute(f"ALTER TABLE {self.stage} ADD PRIMARY KEY (line)")
        cursor.execute(f"CREATE INDEX ON {self.stage} (uscc)")
        # The columns the set-based statements join and filter on (the others only pass through): about
        # half the time of a whole-table ANALYZE, and the row count is updated all the same.
        cursor.execute(f"ANALYZE {self.stage} (line, uscc, problem)")

    def per_row(self, convert, lines, frame, fast, slow):
        """The rows not staged, through the per-row code, in file order."""
        run = self.run
        cells = frame.iloc[slow].to_numpy(dtype=object).tolist()
        rows = []
        for i, row_cells in zip(slow.tolist(), cells):
            if i and fast[i - 1]:
                convert.saw_data()
            rows.extend(convert([(int(lines[i]), row_cells)]))
        ready = []
        for row in rows:
            run.counts["total"] += 1
            prepared = run.prepare(row, self.table.units)
            if prepared is not None:
                if not prepared[1].get("uscc"):
                    # Matching by name depends on the firms the rows above created: apply the file in order.
                    raise OrderSensitive()
                ready.append(prepared)
                self.slow_usccs.add(prepared[1]["uscc"])
        run.apply(ready)
        run.counts["processed"] += len(rows)

    def _map(self, values: pd.Series, cache: dict, parse) -> pd.Series:
        """parse() over the unique values only (dates, regions): a few hundred calls per chunk."""
        for value in values.unique():
            if value not in cache:
                cache[value] = parse(value)
        return values.map(cache)

    def texts(self, frame: pd.DataFrame, needed=None):
        """(mask of rows still plain, {field: stripped text column}, an empty column) for a chunk: a row
        with an empty cell in a `needed` column (None: any column), invisible characters in a used
        column or a first cell that starts like a footnote or total is left to the per-row code. Each
        check first runs once over the whole column joined into one string (C speed), and cell by
        cell only when that finds something."""
        n = len(frame)
        ok = np.ones(n, dtype=bool)
        if frame.isna().to_numpy().any():
            missing = frame.isna() if needed is None else frame[[self.columns[f] for f in needed]].isna()
            ok &= ~missing.any(axis=1).to_numpy()
            frame = frame.fillna("")
        empty = pd.Series([""] * n, index=frame.index, dtype=object)
        text, joined = {}, {}
        for index in range(max(self.columns.values()) + 1):
            cells = frame[index]
            whole = _SEP.join(cells.tolist())
            if _padded(whole):
                cells = cells.str.strip()
                whole = _SEP.join(cells.tolist())
            text[index], joined[index] = cells, whole
        for index in self.columns.values():
            if _INVISIBLE.search(joined[index]):
                ok &= ~text[index].str.contains(_INVISIBLE_RE).to_numpy(dtype=bool)
        # Possible footnotes or totals (their first filled cell starts like one) stay with the reader's rules.
        if any(_suspect(joined[index]) for index in range(self.first_needed + 1)):
            first = empty
            for index in range(self.first_needed + 1):
                first = first.where(first != "", text[index])
            ok &= ~first.str[:1].isin(_SUSPECT_START).to_numpy(dtype=bool)

        return ok, {field: text[index] for field, index in self.columns.items()}, empty

    def clean(self, lines, frame: pd.DataFrame):
        """(mask of rows to stage, their clean columns): only rows the per-row cleaning would take as
        they are; anything doubtful is left to it. Each check first runs once over the whole column
        joined into one string (C speed), and cell by cell only when that finds something."""
        run = self.run
        n = len(frame)
        ok, text, empty = self.texts(frame)

        uscc = text["uscc"]
        ok &= valid_uscc(uscc)
        name = text.get("name", empty)
        lengths = name.str.len().to_numpy()
        ok &= (lengths > 0) & (lengths <= 200)
        # The region as the per-row path decides it (text, the USCC's division, the list's context); a row
        # whose clues disagree carries a warning, so it is left to the per-row path (None here).
        region = self._map(text["region"] + "|" + uscc.str[2:8], self.regions, self._region) \
            if "region" in text else pd.Series([None] * n, index=frame.index)
        ok &= region.notna().to_numpy()
        cert = text.get("certificate_no", empty)
        ok &= (cert.str.len() <= 40).to_numpy()
        issued_text, until_text = text.get("issued_on", empty), text.get("valid_until", empty)
        issued_row = self._map(issued_text, self.dates, self._date)
        ok &= ((issued_row != False) & (self._map(until_text, self.dates, self._date) != False)).to_numpy(bool)
        if not run.options.get("issued_on"):
            ok &= issued_row.notna().to_numpy()
        if not ok.any():
            return ok, None

        sel = np.flatnonzero(ok)
        validity = self._map(issued_text.iloc[sel] + "|" + until_text.iloc[sel], self.validity, self._validity)
        validity = validity.reset_index(drop=True)
        good = validity.notna().to_numpy()
        ok[sel[~good]] = False
        sel, validity = sel[good], validity[good]
        region_codes = region.iloc[sel]
        in_scope = self._map(region_codes, self.scope_ok, self._in_scope)
        names = name.iloc[sel]
        norms = normalize_names(names)
        long = (norms.str.len() > 200).to_numpy()
        ok[sel[long]] = False
        row_cert = cert.iloc[sel].to_numpy()
        row_issued = self._map(issued_text.iloc[sel], self.iso, lambda t: (self._date(t) or None) and self._date(t).isoformat())
        staged = pd.DataFrame({
            "line": lines[sel], "uscc": uscc.iloc[sel].to_numpy(), "name": names.to_numpy(), "name_norm": norms.to_numpy(),
            "region_id": region_codes.to_numpy(), "in_scope": in_scope.to_numpy(),
            "issued_on": [v[0] for v in validity], "valid_from": [v[1] for v in validity],
            "valid_until": [v[2] for v in validity], "certificate_no": row_cert,
            # Run.dedupe_key: (uscc, tier column, number or the row's own issue date)
            "dkey": np.where(row_cert != "", row_cert, row_issued.fillna("").to_numpy()),
        })[~long]
        return ok, staged

    def _region(self, key):
        text, division = key.rsplit("|", 1)
        found = resolve_row_region(text or None, uscc=f"91{division}", context=self.run.context)
        return found.code if text and found.code and not found.warnings else None

    def _date(self, text):
        """parse_date, with False for a cell it rejects (the per-row path reports it)."""
        try:
            return parse_date(text or None)
        except CellError:
            return False

    def _validity(self, pair):
        """(issued_on, valid_from, valid_until) as prepare_certification gives them, or None (the per-row
        path reports the row)."""
        issued, until = (self._date(v) for v in pair.split("|"))
        try:
            item = prepare_certification(self.tier, issued or self.run.options.get("issued_on"),
                                              valid_until=until or self.run.options.get("valid_until"), **self.details)
        except Exception:  # ValidationError: left to the per-row path, which reports it
            return None
        return item["issued_on"].isoformat(), item["valid_from"].isoformat(), item["valid_until"].isoformat()

    def _in_scope(self, code):
        scope = self.run.scope
        return scope is None or any(self.run.region_paths.get(code, "").startswith(p) for p in scope)

    @staticmethod
    def copy_payload(staged):
        """What the worker's copy() gets for a frame, built on the reading thread: its COPY text."""
        return copy_text(staged)

    def copy(self, cursor, lines, staged, text):
        copy_frame(cursor, self.stage, staged, text)

    # -- applying --------------------------------------------------------------------------------

    def apply(self):
        """The import's own checks on the staged rows (order, duplicates in the file, scope), then the
        registry's recognition pipeline applies them (registry.services.staged, its PostgreSQL backend)."""
        if not self.staged:
            return
        run = self.run
        with connection.cursor() as cursor:
            self.check_order(cursor)
            self.duplicates(cursor)
            if run.scope is not None:
                self.out_of_scope(cursor)
            StagedRecognitions(
                self.tier, self.base, self.details, actor=run.user, via=run.via, today=run.today, counts=run.counts,
                reject=lambda line, problem: run.reject(_Row(line), [problem]),
            ).apply(cursor)
        run.row_errors.sort(key=lambda e: (e.sheet, e.line))

    def check_order(self, cursor):
        """A row applied per row whose firm also has staged rows: their order matters."""
        if self.slow_usccs:
            cursor.execute(f"SELECT 1 FROM {self.stage} WHERE uscc = ANY(%s) LIMIT 1", [sorted(self.slow_usccs)])
            if cursor.fetchone():
                raise OrderSensitive()

    def _report(self, cursor, problem, make):
        cursor.execute(f"SELECT line, first_line, firm_region, region_id FROM {STAGE} WHERE problem = %s "
                       f"ORDER BY line", [problem])
        for line, first_line, firm_region, region_id in cursor.fetchall():
            self.run.reject(_Row(line), [make(first_line, firm_region or region_id)])

    def duplicates(self, cursor):
        """Run.prepare's duplicate rule: the first row of a (USCC, number or date) key imports."""
        # Keys seen twice, by hashing (no sort of the whole list; most lists have none), then their later rows.
        cursor.execute(f"""UPDATE {STAGE} s SET problem = 'duplicate', first_line = d.first
            FROM (SELECT uscc, dkey, min(line) AS first FROM {STAGE} GROUP BY uscc, dkey HAVING count(*) > 1) d
            WHERE s.uscc = d.uscc AND s.dkey = d.dkey AND s.line > d.first""")
        if cursor.rowcount:
            self.run.counts["duplicates"] += cursor.rowcount
            self._report(cursor, "duplicate",
                         lambda first, _: ("", f"Duplicate of line {first}: not imported twice.", "duplicate"))

    def out_of_scope(self, cursor):
        """Run.check_scope: a known firm's region decides; a new firm's, the row that would create it."""
        paths = list(self.run.scope)
        cursor.execute(f"""UPDATE {STAGE} s SET problem = 'scope', firm_region = f.region_id
            FROM registry_firm f JOIN registry_region r ON r.code = f.region_id
            WHERE s.problem IS NULL AND f.uscc = s.uscc
              AND NOT EXISTS (SELECT 1 FROM unnest(%s::text[]) p WHERE starts_with(r.path, p))""", [paths])
        cursor.execute(f"""UPDATE {STAGE} s SET problem = 'scope'
            WHERE s.problem IS NULL AND NOT s.in_scope
              AND NOT EXISTS (SELECT 1 FROM registry_firm f WHERE f.uscc = s.uscc)
              AND NOT EXISTS (SELECT 1 FROM {STAGE} c WHERE c.uscc = s.uscc AND c.problem IS NULL
                              AND c.in_scope AND c.line < s.line)""")
        self._report(cursor, "scope", lambda _, code: (
            "region", f"Region {code} is outside the regions you may import into.", "out_of_scope"))


# --- firm lists ---------------------------------------------------------------------------------

# Columns a firm list may have on the fast path: what Run.apply_firms reads (importers.services.FIRM_FIELDS
# and the region clues) or the other names it adds (importers.services.EXTRA_FIELDS: 曾用名, 别名, 英文名称);
# any other mapped column must be free text the firm import ignores (clean_text never refuses a value,
# so it cannot add a warning).
FAST_FIRM_FIELDS = frozenset({"uscc", "name", "region", "province", "city", "address", "founded_on", "main_products",
                              "registered_capital"})
# Plain forms that are their own parsed value: an ISO date (checked real by pandas); an amount in 万元 as
# parse_amount prints it (no leading or trailing zero, at most 2 decimals, at most 14 whole digits).
_ISO_DATE = r"\d{4}-\d{2}-\d{2}"
_PLAIN_AMOUNT = r"(?:0|[1-9]\d{0,13})(?:\.\d?[1-9])?"
FIRM_DIRECT = "import_fast_direct"  # (line, USCC) of the rows StagedFirms.create_new wrote, for a later frame's duplicates
_KEY_SEP = "\x1f"  # joins a row's region clues into one cache key (pandas drops NULs in joined text)
_CAPITAL = DecimalValidator(max_digits=16, decimal_places=2)  # Firm.registered_capital's own limits


def applies_firms(run, table) -> bool:
    from .services import EXTRA_FIELDS

    fields = [c.field for c in table.columns if c.field]
    others = set(fields) - FAST_FIRM_FIELDS
    return (
        connection.vendor == "postgresql" and not run.per_row and run.fast
        and table.format == "csv" and table._frames is not None and not table.from_sheet
        and {"uscc", "name"} <= set(fields) and len(fields) == len(set(fields))
        and all(FIELD_KINDS.get(f, "text") == "text" for f in others - set(EXTRA_FIELDS))
    )


class FastFirms(FastImport):
    """One CSV table of a firm list, applied set-based: plain rows staged into FIRM_STAGE and written by
    registry.services.staged.StagedFirms (record_firms' rules in SQL); every other row through the
    per-row code (Run.prepare, Run.apply_firms_bulk) with today's reports."""

    stage = FIRM_STAGE

    def create_stage(self, cursor):
        """registry's firm stage, plus the row's other-name cells (added per firm once it is written), and
        the writer the frames go to as they are staged."""
        from .services import EXTRA_FIELDS

        create_firm_stage(cursor)
        self.names = [f for f in EXTRA_FIELDS if f in self.columns]
        if self.names:
            cursor.execute(f"ALTER TABLE {FIRM_STAGE} " + ", ".join(f"ADD COLUMN {f} text" for f in self.names))
        self.writer = StagedFirms(actor=self.run.user, via=self.run.via, counts=self.run.counts)
        self.writer.begin(cursor)
        self.decide_sql = self._decide_sql()

    def index_stage(self, cursor):
        """Keyed when created (create_firm_stage), its USCCs indexed when a frame needed them (copy); every
        frame is already settled and written."""

    def copy_payload(self, staged):
        """On the reading thread: (repeats, new rows, COPY text) for the worker's copy(). `repeats`: a USCC of
        the frame may be on a row above it (_repeats). Without a scope, other-name columns or repeats, a
        frame whose firms all prove new goes straight into the registry (StagedFirms.create_new: its rows
        are built here); otherwise it is staged (its COPY text). Which one to build is guessed from the
        frame before (a list is mostly new or mostly known; for the second frame, the first one's, waited for):
        a frame guessed new whose COPY the registry refuses is staged (its text built on the worker); a
        frame guessed known is staged, and when none of its firms was known the next one is tried new."""
        if staged is None or not len(staged):
            return False, None, None
        repeats = self._repeats(staged["uscc"].to_numpy())
        self.frames_sent += 1
        if self.frames_sent == 2:  # the first frame's outcome first (5,000 rows, written while this one was read)
            self.background.wait()
        if self.run.scope is None and not self.names and not repeats and self.new_before:
            return repeats, self.writer.new_rows(staged), None
        return repeats, None, copy_text(staged)

    def copy(self, cursor, lines, staged, payload):
        """On the worker thread (_Background), while the main thread reads the next frame: write the frame's
        firms straight into the registry (StagedFirms.create_new) when guessed new and none is known; else
        stage it, settle its duplicates and scope against the rows above it, and write it
        (StagedFirms.write). Correct frame by frame because a
        row's outcome depends only on the rows above it: the copy of a firm that counts is its first row
        inside the officer's regions, so a later frame's row of a firm an earlier frame counted (and
        wrote) is a duplicate, never an update. A row left to the per-row path whose firm is also staged
        is found by check_order at the end and the job re-runs in file order; all of it is one
        transaction (the job's), so any failure, on any frame, rolls every frame back."""
        repeats, new, text = payload
        if staged is None or not len(staged):
            return
        if new is not None:  # guessed new (copy_payload): straight in, unless the registry knows one of them
            self.new_before = self.writer.create_new(cursor, new)
            if self.new_before:
                self.direct.append((staged["line"].to_numpy(dtype=np.int64), staged["uscc"].to_numpy().astype("S18")))
                return
        copy_frame(cursor, FIRM_STAGE, staged, text)
        bounds = {"lo": int(staged["line"].iloc[0]), "hi": int(staged["line"].iloc[-1])}
        if self.run.scope is not None or repeats:
            if not self.usccs_indexed:  # most lists never get here: no index to keep up while they are staged
                index_firm_stage_usccs(cursor)
                self.usccs_indexed = True
            self.stage_direct(cursor)
            cursor.execute(self.decide_sql, {**bounds, "paths": list(self.run.scope or ())})
            self.flagged += cursor.rowcount
        matched = self.writer.written["matched"]
        self.writer.write(cursor, **bounds)
        if self.run.scope is None and not self.names and not repeats:
            self.new_before = self.writer.written["matched"] == matched

    def stage_direct(self, cursor):
        """The frames create_new wrote, as (line, uscc) rows of FIRM_DIRECT: the duplicate check of a later
        frame looks up earlier rows there too (a list with repeats; the others never build it)."""
        if not self.direct:
            return
        if not self.direct_table:
            cursor.execute(f"DROP TABLE IF EXISTS {FIRM_DIRECT}")
            cursor.execute(f"CREATE TEMP TABLE {FIRM_DIRECT} (line integer NOT NULL, uscc text NOT NULL) ON COMMIT DROP")
            self.direct_table = True
            self.decide_sql = self._decide_sql()
        for lines, usccs in self.direct:
            copy_frame(cursor, FIRM_DIRECT, pd.DataFrame({"line": lines, "uscc": usccs.astype(str).astype(object)}))
        self.direct = []
        cursor.execute(f"CREATE INDEX IF NOT EXISTS {FIRM_DIRECT}_uscc ON {FIRM_DIRECT} (uscc, line)")
        cursor.execute(f"ANALYZE {FIRM_DIRECT}")

    def check_order(self, cursor):
        """A row applied per row whose firm also has a fast row (staged or created straight): the hashes of
        every fast row's USCC (_repeats) say it; a hash collision only re-runs the job in file order."""
        if self.slow_usccs and len(self.seen_hashes):
            hashes = pd.util.hash_array(np.array(sorted(self.slow_usccs), dtype=object))
            at = np.minimum(np.searchsorted(self.seen_hashes, hashes), len(self.seen_hashes) - 1)
            if (self.seen_hashes[at] == hashes).any():
                raise OrderSensitive()

    def _repeats(self, usccs) -> bool:
        """Whether a USCC of this frame may be on a row above it (this frame's or an earlier one's): hashes of
        every staged USCC, kept sorted (8 bytes a row). Without a scope nothing else settles a row, so a
        frame without repeats (most) needs no lookup; a hash collision only costs the lookup."""
        hashes = np.sort(pd.util.hash_array(usccs.astype(object)))
        seen = self.seen_hashes
        repeats = bool((hashes[1:] == hashes[:-1]).any())
        if not repeats and len(seen):
            at = np.minimum(np.searchsorted(seen, hashes), len(seen) - 1)
            repeats = bool((seen[at] == hashes).any())
        # two sorted runs: a stable sort merges them in linear time (a list of 1,000,000 rows, 40 frames)
        self.seen_hashes = np.sort(np.concatenate((seen, hashes)), kind="stable")
        return repeats

    def __init__(self, run, table):
        self.run, self.table = run, table
        self.columns = {c.field: c.index for c in table.columns if c.field}
        self.first_needed = min(self.columns["uscc"], self.columns["name"])
        self.unit = table.units.get("registered_capital")
        self.order = run.options.get("date_order")
        if self.order:  # what Run.read_table gives the rows it cleans, for the rows left to it here
            run.date_orders = {f: self.order for f in table.fields}
        self.regions, self.dates, self.amounts, self.scope_ok = {}, {}, {}, {}
        self.slow_usccs, self.staged, self.names, self.flagged = set(), 0, [], 0
        self.seen_hashes, self.usccs_indexed = np.empty(0, dtype=np.uint64), False
        # create_new's frames: (lines, USCCs) not yet in FIRM_DIRECT; whether the frame before proved new
        self.direct, self.direct_table, self.new_before, self.frames_sent = [], False, True, 0

    def clean(self, lines, frame: pd.DataFrame):
        """(mask of rows to stage, their typed columns): rows whose every value the per-row cleaning takes
        as it is, without a warning, and that record_firms' field checks accept."""
        ok, text, empty = self.texts(frame, needed=("uscc", "name"))
        uscc, name = text["uscc"], text["name"]
        ok &= valid_uscc(uscc)
        lengths = name.str.len().to_numpy()
        ok &= (lengths > 0) & (lengths <= 200)
        # The region from every clue (Run.region_code); clues that disagree (a warning) or an unknown
        # region text are the per-row path's to report.
        clues = [text.get(f, empty) for f in ("region", "province", "city", "address")]
        region = self._map(clues[0] + _KEY_SEP + clues[1] + _KEY_SEP + clues[2] + _KEY_SEP + clues[3] + _KEY_SEP
                           + uscc.str[2:8], self.regions, self._firm_region)
        ok &= region.notna().to_numpy()
        named = ((clues[0] != "") | (clues[3] != "")).to_numpy()
        # Dates and amounts: the common plain forms are their own result (a vectorised check), the rest
        # go through the per-row parsers once per distinct value.
        cells = text.get("founded_on", empty)
        founded = cells.to_numpy(dtype=object).copy()
        plain = fullmatch_cells(cells, _ISO_DATE)
        plain[plain] = pd.to_datetime(cells[plain], format="%Y-%m-%d", errors="coerce").notna().to_numpy()
        rest = np.flatnonzero(~plain)
        if len(rest):
            founded[rest] = self._map(cells.iloc[rest], self.dates, self._founded).to_numpy(dtype=object)
            ok[rest[founded[rest] == False]] = False
        amount, currency, ok = self._amounts(text.get("registered_capital", empty), ok)
        if not ok.any():
            return ok, None
        sel = np.flatnonzero(ok)
        names = name.iloc[sel]
        norms = normalize_names(names)
        long = (norms.str.len() > 200).to_numpy()
        ok[sel[long]] = False
        codes = region.iloc[sel]
        products = text.get("main_products", empty).iloc[sel].replace("", None)  # empty: not given (NULL)
        staged = pd.DataFrame({
            "line": lines[sel], "uscc": uscc.iloc[sel].to_numpy(), "name": names.to_numpy(),
            "name_norm": norms.to_numpy(), "region_id": codes.to_numpy(), "region_named": named[sel],
            "in_scope": self._map(codes, self.scope_ok, self._in_scope).to_numpy(),
            "founded_on": founded[sel],  # ISO text; None or empty → NULL (not given)
            "main_products": products.to_numpy(),
            "registered_capital": amount[sel], "capital_text": amount[sel], "registered_capital_currency": currency[sel],
            **{f: text[f].iloc[sel].replace("", None).to_numpy() for f in self.names},
        })[~long]
        staged["changes"] = new_firm_changes({
            "name": staged["name"].to_numpy(), "founded_on": staged["founded_on"].to_numpy(),
            "main_products": staged["main_products"].to_numpy(), "registered_capital": staged["capital_text"].to_numpy(),
            "registered_capital_currency": staged["registered_capital_currency"].to_numpy(),
            "region": staged["region_id"].to_numpy()})
        return ok, staged

    def _amounts(self, cells: pd.Series, ok):
        """(amount text, currency, ok) arrays for a registered-capital column (see _amount)."""
        amount = cells.to_numpy(dtype=object).copy()
        currency = np.full(len(cells), "CNY", dtype=object)
        blank = (cells == "").to_numpy()
        amount[blank], currency[blank] = None, None
        plain = fullmatch_cells(cells, _PLAIN_AMOUNT) if self.unit in (None, "万元") else blank
        rest = np.flatnonzero(~plain & ~blank)
        if len(rest):
            if len(self.amounts) > 500_000:  # amounts are many and varied: keep the cache bounded
                self.amounts.clear()
            for i, parsed in zip(rest.tolist(), self._map(cells.iloc[rest], self.amounts, self._amount).tolist()):
                if parsed is False:
                    ok[i] = False
                else:
                    amount[i], currency[i] = parsed or (None, None)
        return amount, currency, ok

    def _firm_region(self, key):
        parts = key.split(_KEY_SEP)
        if len(parts) != 5:  # a clue holding the separator itself: the per-row path decides
            return None
        region, province, city, address, division = parts
        found = resolve_row_region(region or None, province=province or None, city=city or None,
                                   address=address or None, uscc=f"91{division}", context=self.run.context)
        return found.code if found.code and not found.problem and not found.warnings else None

    def _founded(self, text):
        """ISO text, None for an empty cell, False where the per-row path would warn. A year-last date
        without the date_order option is read by the column's other values (detect_date_orders, per
        chunk of the per-row path): the list is applied that way instead."""
        if not self.order and _YEAR_LAST.match(unicodedata.normalize("NFKC", text)):
            raise OrderSensitive()
        try:
            value = parse_date(text or None, "founded_on", self.order)
        except CellError:
            return False
        return value.isoformat() if value else None

    def _amount(self, text):
        """(amount as text, currency), None for no amount, False where the per-row path would warn or
        record_firms refuse (more than 2 decimals or 14 whole digits)."""
        try:
            parsed = parse_amount(text or None, self.unit, "registered_capital")
            if parsed is None:
                return None
            _CAPITAL(parsed[0])
        except (CellError, ValidationError):
            return False
        return str(parsed[0]), parsed[1]

    def apply(self):
        """Run.prepare's duplicate rule and Run.check_scope on the staged rows, then record_firms' rules
        in SQL (registry.services.staged.StagedFirms)."""
        if not self.staged:
            return
        run = self.run
        with connection.cursor() as cursor:
            self.check_order(cursor)
            self.report_problems(cursor)
            named = self.other_names(cursor)
            written = self.writer.finish(cursor)
            if self.direct_table:
                cursor.execute(f"DROP TABLE {FIRM_DIRECT}")
        self.add_other_names(named, written)
        run.row_errors.sort(key=lambda e: (e.sheet, e.line))

    def other_names(self, cursor):
        """The staged rows that give other names (曾用名, 别名, 英文名称): [(uscc, {field: cell})] in line order."""
        if not self.names:
            return []
        cursor.execute(f"SELECT uscc, {', '.join(self.names)} FROM {FIRM_STAGE} WHERE problem IS NULL "
                       f"AND ({' OR '.join(f'{f} IS NOT NULL' for f in self.names)}) ORDER BY line")
        return [(row[0], dict(zip(self.names, row[1:]))) for row in cursor.fetchall()]

    def add_other_names(self, named, written):
        """As Run.apply_firms_bulk after record_firms: each row's names onto its firm (add_firm_aliases:
        former names through upsert_firm, aliases with their audit row); a row that only added names
        counts as updated. Few rows of a list carry them: one firm at a time."""
        from .services import add_firm_aliases

        if not named:
            return
        run = self.run
        written = set(np.asarray(written).tolist())
        firms = Firm.objects.in_bulk([uscc for uscc, _ in named], field_name="uscc")
        for uscc, values in named:
            firm = firms[uscc]
            if add_firm_aliases(firm, values, source=run.job.file_name, actor=run.user, via=run.via) \
                    and firm.pk not in written:
                run.counts["unchanged"] -= 1
                run.counts["updated"] += 1

    def _decide_sql(self):
        """The staged lines lo..hi settled against the rows above them: the copy of a firm that counts is its
        first row inside the officer's regions (a known firm: its region, and the row's when it names one; a
        new firm: the row's region); rows above it are out of scope, rows below it duplicates of it —
        Run.prepare/release_held's outcome in file order. A firm counted on an earlier frame (its row still
        without a problem) makes every row of it here a duplicate; it is looked up by the stage's (uscc,
        line) index, one probe a row."""
        prior = f"""(SELECT min(o.line) FROM {FIRM_STAGE} o
                     WHERE o.uscc = s.uscc AND o.line < %(lo)s AND o.problem IS NULL)"""
        if self.direct_table:  # and the rows create_new wrote (never a problem)
            prior = f"""least({prior}, (SELECT min(d.line) FROM {FIRM_DIRECT} d WHERE d.uscc = s.uscc AND d.line < %(lo)s))"""
        if self.run.scope is None:  # every region allowed: only duplicates, no lookup of the registry's firms
            bad, firms = "false", ""
        else:  # the registry's firm decides where a row is (a firm counted above is settled by `prior`)
            bad = """CASE WHEN f.id IS NOT NULL THEN NOT EXISTS (SELECT 1 FROM unnest(%(paths)s::text[]) p
                                                             WHERE starts_with(r.path, p))
                                                  OR (s.region_named AND NOT s.in_scope)
                          ELSE NOT s.in_scope END"""
            firms = "LEFT JOIN registry_firm f ON f.uscc = s.uscc LEFT JOIN registry_region r ON r.code = f.region_id"
        return f"""
            WITH flags AS (
                SELECT s.line, s.uscc, {prior} AS prior, {bad} AS bad
                FROM {FIRM_STAGE} s {firms} WHERE s.line BETWEEN %(lo)s AND %(hi)s
            ), decided AS (
                SELECT line, bad, coalesce(prior, min(line) FILTER (WHERE NOT bad) OVER (PARTITION BY uscc)) AS counted
                FROM flags
            )
            UPDATE {FIRM_STAGE} s SET problem = CASE WHEN s.line > d.counted THEN 'duplicate' ELSE 'scope' END,
                first_line = d.counted
            FROM decided d
            WHERE s.line = d.line AND (d.line > d.counted OR (d.bad AND (d.counted IS NULL OR d.line < d.counted)))"""

    def report_problems(self, cursor):
        """The rows copy() settled as duplicates or out of scope, into the row report."""
        if not self.flagged:
            return
        cursor.execute(f"SELECT line, problem, first_line FROM {FIRM_STAGE} WHERE problem IS NOT NULL ORDER BY line")
        for line, problem, first in cursor.fetchall():
            if problem == "duplicate":
                self.run.counts["duplicates"] += 1
                self.run.reject(_Row(line), [("", f"Duplicate of line {first}: not imported twice.", "duplicate")])
            else:
                self.run.reject(_Row(line), [("region", OUT_OF_SCOPE, "out_of_scope")])


def run_table(run, table):
    """Import one table the fast way; OrderSensitive when the file must be applied in order."""
    job = (FastFirms if run.kind == ImportKind.FIRMS else FastImport)(run, table)
    job.read()
    job.apply()


__all__ = ["FAST_FIELDS", "FAST_FIRM_FIELDS", "FastFirms", "FastImport", "OrderSensitive", "applies", "normalize_names", "run_table", "valid_uscc"]
