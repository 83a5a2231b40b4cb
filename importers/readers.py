"""Read published lists (CSV or XLSX) into batches of rows keyed by canonical field.

The file is identified by its bytes, not its name. Each sheet (a CSV is one sheet) becomes a
:class:`Table`: its header row is found by scoring the first rows against the header synonyms,
and :meth:`Table.batches` then streams :class:`SourceRow` lists — title rows, blank rows, 序号
columns, totals and footnotes left out (and listed in ``Table.skipped``), every row carrying the
line number a person sees in Excel or a text editor. Cells stay text; Excel date cells stay
``datetime`` so the date parser can tell them from numbers.

Typical use (phase 2 is a thin loop over this)::

    source = open_source(path)
    for table in source.tables(required=[("uscc", "name")]):
        for batch in table.batches():
            for row in batch:
                result = clean_values(row.values, table.units)
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import datetime as dt
import os
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field as dc_field
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import ParseError

import pandas as pd

from .columns import (
    FIELD_KINDS, TABLE_UNIT_RE, UNITS, Column, Requirement, check_required, header_score, map_columns,
    missing_fields, normalize_header,
)
from .errors import (
    CorruptFileError, EmptyFileError, EncodingError, HeaderNotFoundError, LimitExceeded, MissingColumnsError,
    ReaderError, SheetNotFoundError, UnsupportedFormatError,
)

__all__ = [
    "SourceRow", "Table", "SourceFile", "open_source", "iter_batches", "iter_rows", "sniff_format",
    "ReaderError", "EmptyFileError", "UnsupportedFormatError", "EncodingError", "CorruptFileError",
    "HeaderNotFoundError", "MissingColumnsError", "SheetNotFoundError",
]

HEADER_SCAN_ROWS = 20  # the header must be among the first rows of a sheet
DEFAULT_CHUNKSIZE = 5000
SNIFF_BYTES = 64 * 1024
# Above this many inflated bytes an XLSX is streamed (openpyxl read-only). Read-only mode cannot see
# merged cells, so vertically merged data cells are only filled down in workbooks below it.
XLSX_FULL_LOAD_MAX_BYTES = 16 * 1024 * 1024


def limit(name: str, default: int) -> int:
    """A reader limit from the settings (IMPORT_MAX_COLUMNS, IMPORT_MAX_CELLS, IMPORT_MAX_INFLATED_BYTES);
    every refusal names the setting. Read per file, so tests and deployments can change them."""
    try:
        from django.conf import settings

        return int(getattr(settings, name, default))
    except Exception:  # readers also work without Django (scripts)
        return default


def _too_many_columns(where: str, width: int, at_least: bool = False) -> LimitExceeded:
    most = limit("IMPORT_MAX_COLUMNS", 500)
    return LimitExceeded(f"{where}: {'at least ' if at_least else ''}{width:,} columns; lists may have at most "
                         f"{most:,} (IMPORT_MAX_COLUMNS). "
                         f"Remove the empty or extra columns and upload it again.")


class CellBudget:
    """Counts the cells read from one file; past IMPORT_MAX_CELLS the read stops (a few billion
    empty cells are as slow as real ones)."""

    def __init__(self, where: str):
        self.where, self.left = where, limit("IMPORT_MAX_CELLS", 20_000_000)

    def take(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            most = limit("IMPORT_MAX_CELLS", 20_000_000)
            raise LimitExceeded(f"{self.where}: more than {most:,} cells (IMPORT_MAX_CELLS); split the list.")

Cell = str | dt.datetime | dt.date | dt.time | None
Source = str | os.PathLike | IO[bytes]


@dataclass(slots=True)
class SourceRow:
    """One data row. ``line`` is 1-based as a person sees it (Excel row / physical CSV line).

    ``values``: canonical field → stripped text (None if empty), or a datetime for Excel date
    cells; fields filled from the sheet name are included. ``raw``: original header → original
    cell, every named column, untouched, for reports.
    """

    line: int
    sheet: str | None
    values: dict[str, Cell]
    raw: dict[str, Any]


# ---------------------------------------------------------------------------------------------
# Row classification (after the header)

_FOOTNOTE_RE = re.compile(
    r"^[*※]?\s*(注|备注|附注|说明|填表说明|填报说明|数据来源|资料来源|来源|制表|制表人|填表人|审核人|联系人|"
    r"联系电话|填报日期|填表日期|制表日期)\s*\d*\s*(?:[:：、.．]|$)"
)
_FOOTNOTE_START = frozenset("注备附说填数资来制审联*※＊")
_TOTAL_WORDS = frozenset({"合计", "总计", "小计", "共计"})
_TOTAL_START = frozenset("合总小共")
_SHEET_YEAR_RE = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")


def _is_empty(cell: Any) -> bool:
    return cell is None or (cell.__class__ is str and (not cell or cell.isspace()))


def _looks_like_number(text: str) -> bool:
    return text.strip().replace(".", "", 1).isdigit()


def _has_valid_uscc(cells, pos) -> bool:
    if pos is None or pos >= len(cells) or not isinstance(cells[pos], str):
        return False
    from registry.uscc import is_valid

    return is_valid(cells[pos])


@dataclass
class Table:
    """One sheet's table. Iterate :meth:`batches` once, in order; ``skipped`` fills as it goes."""

    source_name: str
    sheet: str | None
    format: str  # "csv" | "xlsx"
    encoding: str | None  # CSV only
    header_line: int
    columns: list[Column]
    units: dict[str, str]  # field → unit, for money/percent parsing
    from_sheet: dict[str, str]  # fields filled from the sheet name (e.g. year from "2023年度")
    warnings: list[str] = dc_field(default_factory=list)
    skipped: list[tuple[int, str]] = dc_field(default_factory=list)  # (line, reason)
    _rows: Iterator[list[tuple[int, list[Cell]]]] | None = dc_field(default=None, repr=False)
    _pending: list[tuple[int, list[Cell]]] = dc_field(default_factory=list, repr=False)
    _frames: Any = dc_field(default=None, repr=False)  # CSV: () -> iterator of (lines, DataFrame)

    @property
    def fields(self) -> list[str]:
        """Canonical fields present (columns, then fields filled from the sheet name)."""
        return [c.field for c in self.columns if c.field] + [f for f in self.from_sheet if not self.has_column(f)]

    def has_column(self, field: str) -> bool:
        return any(c.field == field for c in self.columns)

    @property
    def label(self) -> str:
        return f"{self.source_name} [{self.sheet}]" if self.sheet else self.source_name

    def rows(self) -> Iterator[SourceRow]:
        for batch in self.batches():
            yield from batch

    def batches(self) -> Iterator[list[SourceRow]]:
        """Data rows in batches of about ``chunksize``; one pass only."""
        if self._rows is None:
            raise RuntimeError("Table.batches() can only be iterated once")
        raw_batches, self._rows = self._rows, None
        pending, self._pending = self._pending, []
        convert = self.converter()
        if pending:
            first = convert(pending)
            if first:
                yield first
        for batch in raw_batches:
            rows = convert(batch)
            if rows:
                yield rows

    def frames(self, size: int | None = None) -> Iterator[tuple[Any, pd.DataFrame]]:
        """CSV only: the raw cells under the header as (line numbers, DataFrame of text cells indexed by
        column position), about ``size`` rows each (the table's chunksize by default), for vectorised
        importers (importers.fastpath).
        Rows are not classified here: hand the ones you do not take to a :meth:`converter`. One pass,
        instead of :meth:`batches`."""
        if self._frames is None or self._rows is None:
            raise RuntimeError("Table.frames() is for CSV tables whose rows were not read yet")
        self._rows.close()  # the row reader only served to find the header
        self._rows, self._pending = None, []
        for lines, frame in self._frames(size) if size else self._frames():
            keep = lines > self.header_line
            if not keep.all():
                lines, frame = lines[keep], frame[keep]
            if len(lines):
                yield lines, frame

    def converter(self) -> "RowConverter":
        """Turns raw (line, cells) into SourceRows, leaving out title, blank, total and footnote rows."""
        return RowConverter(self)

    @staticmethod
    def _classify(cells, content_pos, header_texts, first_col, state) -> str | None:
        """Why a row after the header is not data (blank, footnote, total, repeated header), or None."""
        filled = [i for i, c in enumerate(cells) if c and (c.__class__ is not str or not c.isspace())]
        if not filled:
            return "blank"
        first = cells[filled[0]]
        if first.__class__ is str:
            text = first.strip()
            if text[:1] in _FOOTNOTE_START and _FOOTNOTE_RE.match(unicodedata.normalize("NFKC", text)) \
                    and not _has_valid_uscc(cells, state.get("uscc_pos")):  # 备注 in 序号's place, then a firm
                state["footer"] = True
                return "footnote"
            if text[:1] in _TOTAL_START and re.sub(r"\s+", "", text) in _TOTAL_WORDS:
                return "total"
            if len(filled) >= 2 and header_texts.get(filled[0]) == text and all(
                isinstance(cells[i], str) and header_texts.get(i) == cells[i].strip() for i in filled
            ):
                return "repeated header"
        for i in filled:
            if i in content_pos:
                break
        else:
            # Only 序号 or unnamed columns are filled: a numbered empty row, or a note written there.
            if all(isinstance(cells[i], str) and _looks_like_number(cells[i]) for i in filled):
                return "blank"
            state["footer"] = True
            return "footnote"
        if len(filled) == 1 and (state["footer"] or (
                filled[0] == first_col and state["data_seen"] and state["prev_blank"])):
            state["footer"] = True
            return "footnote"
        return None


class RowConverter:
    """Table.batches' row filter as an object, so a caller that takes some rows itself (the fast
    path) can hand over the rest in file order; ``saw_data()`` tells it a data row it did not see
    came before the next ones (the footnote rules look at the previous row)."""

    def __init__(self, table: Table):
        self.table = table
        self.field_pos = [(c.field, c.index) for c in table.columns if c.field]
        self.raw_pos = []
        seen_headers: set[str] = set()
        for c in table.columns:
            key = c.header if c.header not in seen_headers else f"{c.header}#{c.index + 1}"
            seen_headers.add(key)
            self.raw_pos.append((key, c.index))
        self.content_pos = frozenset(c.index for c in table.columns if not c.is_index)
        self.header_texts = {c.index: c.header for c in table.columns}
        self.first_col = min((c.index for c in table.columns), default=0)
        uscc_pos = next((c.index for c in table.columns if c.field == "uscc"), None)
        self.state = {"footer": False, "prev_blank": False, "data_seen": False, "uscc_pos": uscc_pos}

    def saw_data(self) -> None:
        self.state["prev_blank"] = False
        self.state["data_seen"] = True

    def __call__(self, batch: list[tuple[int, list[Cell]]]) -> list[SourceRow]:
        table, state = self.table, self.state
        field_pos, raw_pos, from_sheet, sheet = self.field_pos, self.raw_pos, table.from_sheet, table.sheet
        out = []
        for line, cells in batch:
            reason = table._classify(cells, self.content_pos, self.header_texts, self.first_col, state)
            if reason:
                table.skipped.append((line, reason))
                state["prev_blank"] = reason == "blank"
                continue
            state["prev_blank"] = False
            state["data_seen"] = True
            n = len(cells)
            values: dict[str, Cell] = {}
            for fld, i in field_pos:
                v = cells[i] if i < n else None
                if v.__class__ is str:
                    v = v.strip() or None
                values[fld] = v
            for fld, v in from_sheet.items():
                if values.get(fld) is None:
                    values[fld] = v
            raw = {key: (cells[i] if i < n else None) for key, i in raw_pos}
            out.append(SourceRow(line, sheet, values, raw))
        return out


# ---------------------------------------------------------------------------------------------
# Sniffing

_MAGIC = [
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"{\\rtf", "an RTF document"),
]
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _name_of(source: Source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return Path(source).name
    return Path(getattr(source, "name", "") or "upload").name


def _head_bytes(source: Source, n: int) -> tuple[bytes, bool]:
    """First n bytes, and whether that is the whole file."""
    if isinstance(source, (str, os.PathLike)):
        try:
            with open(source, "rb") as fh:
                data = fh.read(n + 1)
        except FileNotFoundError:
            raise ReaderError(f"{_name_of(source)}: file not found") from None
    else:
        source.seek(0)
        data = source.read(n + 1)
        source.seek(0)
    return data[:n], len(data) <= n


def _zip_kind(source: Source, name: str) -> str:
    try:
        if not isinstance(source, (str, os.PathLike)):
            source.seek(0)
        with zipfile.ZipFile(source) as zf:
            infos = zf.infolist()
            names = {info.filename for info in infos}
            inflated = sum(info.file_size for info in infos)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise CorruptFileError(f"{name}: truncated or damaged XLSX file (the ZIP container is unreadable: {exc})") from None
    finally:
        if not isinstance(source, (str, os.PathLike)):
            source.seek(0)
    most = limit("IMPORT_MAX_INFLATED_BYTES", 200 * 1024 * 1024)
    if inflated > most:  # a zip bomb, or a workbook far larger than any list: refused before opening
        raise LimitExceeded(f"{name}: the workbook unpacks to {inflated:,} bytes; at most {most:,} "
                            f"(IMPORT_MAX_INFLATED_BYTES) are read.")
    if "xl/workbook.xml" in names:
        return "xlsx"
    if any(n.startswith("word/") for n in names):
        what = "a Word document"
    elif any(n.startswith("ppt/") for n in names):
        what = "a PowerPoint document"
    elif "content.xml" in names:
        what = "an OpenDocument file (.ods); save it as .xlsx"
    else:
        what = "a ZIP archive without an Excel workbook in it"
    raise UnsupportedFormatError(f"{name}: not a CSV or XLSX file ({what})")


def _control_chars(text: str) -> int:
    return sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\r\n")


def _decode_sample(data: bytes, complete: bool, name: str) -> tuple[str, str, str]:
    """(encoding to read with, encoding to report, decoded sample)."""
    if data.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise EncodingError(f"{name}: UTF-32 text is not supported; save the file as UTF-8 or GBK CSV")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise EncodingError(f"{name}: UTF-16 text is not supported; save the file as UTF-8 or GBK CSV")
    if b"\x00" in data:
        even = data[: len(data) // 2 * 2]
        for utf16 in ("utf-16-le", "utf-16-be"):
            text = even.decode(utf16, errors="replace")
            if "\ufffd" not in text and _control_chars(text) <= max(2, len(text) // 100):
                raise EncodingError(f"{name}: looks like UTF-16 text, which is not supported; save as UTF-8 or GBK CSV")
        raise UnsupportedFormatError(f"{name}: binary data, not a CSV or XLSX file")
    candidates = (("utf-8-sig", "utf-8-sig"), ("gb18030", "gbk"))
    if not data.startswith(codecs.BOM_UTF8):
        candidates = (("utf-8", "utf-8"), ("gb18030", "gbk"))
    for read_as, label in candidates:
        try:
            text = codecs.getincrementaldecoder(read_as)().decode(data, final=complete)
        except UnicodeDecodeError:
            continue
        if label == "gbk":
            try:
                codecs.getincrementaldecoder("gbk")().decode(data, final=complete)
            except UnicodeDecodeError:
                label = "gb18030"
        if _control_chars(text) > max(2, len(text) // 100):
            raise UnsupportedFormatError(f"{name}: binary data, not a CSV or XLSX file")
        return read_as, label, text
    raise EncodingError(f"{name}: text is neither UTF-8 nor GBK/GB18030; save the file as UTF-8 CSV")


def _first_non_ascii_window(source: Source, block: int = 1 << 20) -> bytes | None:
    """SNIFF_BYTES from the line holding the first non-ASCII byte of the file, or None."""
    fh = open(source, "rb") if isinstance(source, (str, os.PathLike)) else source
    try:
        fh.seek(0)
        offset = 0
        while chunk := fh.read(block):
            if not chunk.isascii():
                pos = next(i for i, b in enumerate(chunk) if b >= 0x80)
                start = chunk.rfind(b"\n", 0, pos) + 1
                fh.seek(offset + start)
                return fh.read(SNIFF_BYTES)
            offset += len(chunk)
        return None
    finally:
        if fh is source:
            fh.seek(0)
        else:
            fh.close()


def sniff_format(source: Source, name: str | None = None) -> str:
    """'csv' or 'xlsx' from the file's bytes; ReaderError for anything else (or an empty file).
    ``name``: the name messages use (the uploaded name, never the stored copy's)."""
    name = name or _name_of(source)
    data, complete = _head_bytes(source, SNIFF_BYTES)
    if not data:
        raise EmptyFileError(f"{name}: the file is empty")
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(source, name)
    if data.startswith(_OLE2):
        raise UnsupportedFormatError(
            f"{name}: an Excel 97-2003 (.xls) or other legacy Office file; open it in Excel and save as .xlsx"
        )
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise UnsupportedFormatError(f"{name}: not a CSV or XLSX file ({what})")
    stripped = data.lstrip(codecs.BOM_UTF8).lstrip().lower()
    if stripped.startswith((b"<html", b"<!doctype", b"<table", b"<?xml")):
        raise UnsupportedFormatError(
            f"{name}: a web page or XML file saved under a spreadsheet name; open it in Excel and save as .xlsx"
        )
    _decode_sample(data, complete, name)
    return "csv"


# ---------------------------------------------------------------------------------------------
# Raw row producers: batches of (line, cells)


def _sniff_delimiter(text: str) -> tuple[str, int]:
    """(delimiter, widest row) from a sample: the delimiter giving most rows of one width ≥ 2."""
    lines = text.splitlines()
    best = (",", 0)
    for delim in (",", "\t", ";", "|"):
        try:
            widths = [len(r) for r in csv.reader(lines[:200], delimiter=delim) if any(c.strip() for c in r)]
        except csv.Error:
            continue
        if widths:
            common = max(set(widths), key=widths.count)
            score = widths.count(common) if common >= 2 else 0
            if score > best[1]:
                best = (delim, score)
    delim = best[0]
    try:
        width = max((len(r) for r in csv.reader(lines, delimiter=delim)), default=1)
    except csv.Error:
        width = max((line.count(delim) + 1 for line in lines), default=1)
    return delim, max(width, 1)


def _csv_frames(source: Source, encoding: str, delimiter: str, ncols: int, chunksize: int, name: str):
    """(line numbers, DataFrame of text cells) per chunk of the whole file, pandas' C parser."""
    import numpy as np

    budget = CellBudget(name)

    if not isinstance(source, (str, os.PathLike)):
        source.seek(0)
    line = 1
    try:
        with pd.read_csv(
            source, header=None, names=range(ncols), dtype=str, keep_default_na=False, na_filter=False,
            skip_blank_lines=False, sep=delimiter, encoding=encoding, chunksize=chunksize, engine="c",
        ) as reader:
            for chunk in reader:
                budget.take(chunk.size)
                # a quoted cell with line breaks spans several physical lines
                height = np.ones(len(chunk), dtype=np.int64)
                for col in chunk.columns:
                    cells = chunk[col]
                    if "\n" in "".join(cells.tolist()):
                        height += cells.str.count("\n").to_numpy(dtype=np.int64)
                lines = line + np.concatenate(([0], np.cumsum(height)[:-1]))
                line += int(height.sum())
                yield lines, chunk
    except UnicodeDecodeError as exc:
        raise EncodingError(
            f"{name}: bytes after line {line} are not valid {encoding} ({exc.reason}); the file mixes encodings"
        ) from None
    except pd.errors.ParserError as exc:
        raise CorruptFileError(f"{name}: cannot parse the CSV near line {line}: {exc}") from None


def _csv_raw_batches(source: Source, encoding: str, delimiter: str, ncols: int, chunksize: int, name: str):
    for lines, chunk in _csv_frames(source, encoding, delimiter, ncols, chunksize, name):
        yield list(zip(lines.tolist(), chunk.to_numpy(dtype=object).tolist()))


def _cell_text(v: Any) -> Cell:
    """XLSX cell → text, keeping date/time cells as objects."""
    if v is None or v.__class__ is str:
        return v
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() and abs(v) < 1e16 else repr(v)
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v
    return str(v)


EXCEL_MAX_COLUMNS = 16_384  # XFD: no worksheet Excel writes has a wider row
_XML_ROOT = re.compile(rb"<(\w+:)?worksheet[\s>]")


def _scan_worksheets(source: Source, name: str) -> None:
    """Count the cells of every worksheet in its raw XML before openpyxl sees it: openpyxl builds a
    whole row before yielding it, so a row of millions of cells would stall even in read-only mode.
    Refuses a row wider than Excel allows and more cells than IMPORT_MAX_CELLS. Byte counts only
    (C speed); rows are looked at one by one only in a chunk holding more cells than a row may."""
    most_cells = limit("IMPORT_MAX_CELLS", 20_000_000)
    if not isinstance(source, (str, os.PathLike)):
        source.seek(0)
    try:
        with zipfile.ZipFile(source) as zf:
            for info in zf.infolist():
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                    with zf.open(info) as fh:
                        _scan_sheet_xml(fh, name, most_cells)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise CorruptFileError(f"{name}: damaged XLSX file ({type(exc).__name__}: {exc})") from None
    finally:
        if not isinstance(source, (str, os.PathLike)):
            source.seek(0)


def _scan_sheet_xml(fh, name: str, most_cells: int) -> None:
    row = cell_tokens = None
    cells = width = 0  # width: cells so far in the row still open
    carry = b""
    while chunk := fh.read(1 << 18):
        data = carry + chunk
        cut = data.rfind(b"<")  # never split a tag between two chunks
        data, carry = (data[:cut], data[cut:]) if cut > 0 else (data, b"")
        if row is None:
            m = _XML_ROOT.search(data)
            prefix = (m.group(1) or b"") if m else b""  # <x:worksheet>: every tag carries the prefix
            row = b"<" + prefix + b"row"
            cell_tokens = [b"<" + prefix + b"c" + end for end in (b" ", b">", b"/")]
        n = sum(data.count(t) for t in cell_tokens)
        cells += n
        if cells > most_cells:
            raise LimitExceeded(f"{name}: more than {most_cells:,} cells (IMPORT_MAX_CELLS); split the list.")
        if width + n <= EXCEL_MAX_COLUMNS:  # no row in this chunk can be too wide
            last = data.rfind(row)
            width = width + n if last < 0 else sum(data.count(t, last) for t in cell_tokens)
            continue
        for i, part in enumerate(data.split(row)):
            width = (0 if i else width) + sum(part.count(t) for t in cell_tokens)
            if width > EXCEL_MAX_COLUMNS:
                raise LimitExceeded(f"{name}: a worksheet row has more than {EXCEL_MAX_COLUMNS:,} cells, more "
                                    f"than Excel allows; not a list we can read.")


_XLSX_ERRORS = (zipfile.BadZipFile, KeyError, ParseError, ValueError, TypeError, OSError, EOFError, zlib.error)


def _xlsx_raw_batches(ws, chunksize: int, name: str):
    where = f"{name} [{ws.title}]"
    most_columns = limit("IMPORT_MAX_COLUMNS", 500)
    budget = CellBudget(where)
    fill: dict[tuple[int, int], Any] = {}
    for rng in getattr(ws, "merged_cells", None) and ws.merged_cells.ranges or ():
        if rng.max_row > rng.min_row:  # vertical merges only: a merged title or footnote stays one cell
            top_left = ws.cell(rng.min_row, rng.min_col).value
            for r in range(rng.min_row, rng.max_row + 1):
                for c in range(rng.min_col, rng.max_col + 1):
                    if (r, c) != (rng.min_row, rng.min_col):
                        fill[(r, c)] = top_left
    batch = []
    try:
        for line, values in enumerate(ws.iter_rows(min_row=1, values_only=True), start=1):
            width = len(values)
            while width and values[width - 1] is None:  # styled empty cells at the end of a row
                width -= 1
            if width > most_columns:
                raise _too_many_columns(where, width)
            budget.take(width)
            cells = [_cell_text(v) for v in values[:width]]
            if fill:
                for c in range(len(cells)):
                    if (line, c + 1) in fill and cells[c] is None:
                        cells[c] = _cell_text(fill[(line, c + 1)])
            batch.append((line, cells))
            if len(batch) >= chunksize:
                yield batch
                batch = []
    except LimitExceeded:
        raise
    except _XLSX_ERRORS as exc:
        raise CorruptFileError(f"{name} [{ws.title}]: damaged worksheet data ({type(exc).__name__}: {exc})") from None
    if batch:
        yield batch


# ---------------------------------------------------------------------------------------------
# Files and tables


class SourceFile:
    """A file identified by its bytes. :meth:`tables` yields one Table per sheet."""

    def __init__(self, source: Source, *, name: str | None = None):
        self.source = source
        self.name = name or _name_of(source)
        self.format = sniff_format(source, self.name)
        self.encoding: str | None = None
        self.skipped_sheets: list[tuple[str, str]] = []  # (sheet, reason)
        self._scanned = False
        if self.format == "csv":
            data, complete = _head_bytes(source, SNIFF_BYTES)
            self._read_as, self.encoding, sample = _decode_sample(data, complete, self.name)
            if data.isascii() and not complete:
                # An ASCII start says nothing about the encoding: judge by the first non-ASCII bytes.
                window = _first_non_ascii_window(source)
                if window:
                    self._read_as, self.encoding, _ = _decode_sample(window, False, self.name)
            if not complete and "\n" in sample:
                sample = sample[: sample.rindex("\n")]
            self._delimiter, self._ncols = _sniff_delimiter(sample)
            if self._ncols > limit("IMPORT_MAX_COLUMNS", 500):
                raise _too_many_columns(self.name, self._ncols, at_least=not complete)

    @property
    def sheet_names(self) -> list[str]:
        if self.format == "csv":
            return []
        wb = self._load_workbook()
        try:
            return list(wb.sheetnames)
        finally:
            wb.close()

    def _size(self) -> int:
        """Inflated bytes of the workbook (checked against IMPORT_MAX_INFLATED_BYTES when sniffed)."""
        if not isinstance(self.source, (str, os.PathLike)):
            self.source.seek(0)
        try:
            with zipfile.ZipFile(self.source) as zf:
                return sum(info.file_size for info in zf.infolist())
        finally:
            if not isinstance(self.source, (str, os.PathLike)):
                self.source.seek(0)

    def _load_workbook(self):
        import openpyxl

        if not self._scanned:
            _scan_worksheets(self.source, self.name)
            self._scanned = True
        if not isinstance(self.source, (str, os.PathLike)):
            self.source.seek(0)
        try:
            return openpyxl.load_workbook(
                self.source, read_only=self._size() > XLSX_FULL_LOAD_MAX_BYTES, data_only=True
            )
        except _XLSX_ERRORS as exc:
            raise CorruptFileError(f"{self.name}: damaged XLSX file ({type(exc).__name__}: {exc})") from None

    def tables(
        self,
        *,
        sheet: str | int | None = None,
        required: Iterable[Requirement] = (),
        chunksize: int = DEFAULT_CHUNKSIZE,
        fill_from_sheet: Sequence[str] = ("year",),
        header_rows: int = HEADER_SCAN_ROWS,
        extra_fields: dict[str, Sequence[str]] | None = None,
    ) -> Iterator[Table]:
        """One Table per sheet (every sheet, or the one named / numbered by ``sheet``).

        ``required``: fields that must have a column; a tuple means one of them. Sheets without any
        recognisable header (notes, empty sheets) are skipped into ``skipped_sheets`` when reading
        every sheet, and are an error when the sheet was asked for. ``fill_from_sheet``: fields to
        take from the sheet name when no column carries them — "year" (a 4-digit year in the name,
        e.g. 2023年度) and/or "region" (the name itself, for one-sheet-per-district lists).
        ``extra_fields``: {field: headers} a caller reads beyond importers.columns' synonyms (an
        importer's own columns, e.g. 别名), matched like them on otherwise unknown headers.
        Consume each table's batches before moving to the next.
        """
        required = list(required)
        extra = {normalize_header(h)[0]: f for f, headers in (extra_fields or {}).items() for h in (f, *headers)}
        opts = dict(required=required, chunksize=chunksize, fill_from_sheet=fill_from_sheet, header_rows=header_rows,
                    extra=extra)
        if self.format == "csv":
            args = (self.source, self._read_as, self._delimiter, self._ncols)
            table = self._table(_csv_raw_batches(*args, chunksize, self.name), None, **opts)
            table._frames = lambda size=chunksize: _csv_frames(*args, size, self.name)
            yield table
            return
        wb = self._load_workbook()
        try:
            names = wb.sheetnames
            if sheet is None:
                selected = names
            elif isinstance(sheet, int):
                if not 0 <= sheet < len(names):
                    raise SheetNotFoundError(f"{self.name}: no sheet number {sheet}; sheets: {', '.join(names)}")
                selected = [names[sheet]]
            elif sheet in names:
                selected = [sheet]
            else:
                raise SheetNotFoundError(f"{self.name}: no sheet named {sheet!r}; sheets: {', '.join(names)}")
            found = 0
            for sheet_name in selected:
                ws = wb[sheet_name]
                if sheet is None and getattr(ws, "sheet_state", "visible") != "visible":
                    self.skipped_sheets.append((sheet_name, f"{self.name} [{sheet_name}]: hidden sheet"))
                    continue
                raw = _xlsx_raw_batches(ws, chunksize, self.name)
                try:
                    table = self._table(raw, sheet_name, **opts)
                except (HeaderNotFoundError, EmptyFileError) as exc:
                    if sheet is not None:
                        raise
                    self.skipped_sheets.append((sheet_name, str(exc)))
                    continue
                found += 1
                yield table
            if not found:
                details = "; ".join(reason for _, reason in self.skipped_sheets)
                raise HeaderNotFoundError(f"{self.name}: no sheet has a recognisable table ({details})")
        finally:
            wb.close()

    def _table(self, raw_batches, sheet, *, required, chunksize, fill_from_sheet, header_rows, extra) -> Table:
        where = f"{self.name} [{sheet}]" if sheet else self.name
        raw_batches = iter(raw_batches)
        head: list[tuple[int, list[Cell]]] = []
        for batch in raw_batches:
            head.extend(batch)
            if len(head) > header_rows:
                break
        scan = head[:header_rows]
        if not any(any(not _is_empty(c) for c in cells) for _, cells in scan):
            if not head or all(all(_is_empty(c) for c in cells) for _, cells in head):
                raise EmptyFileError(f"{where}: no data (the {'sheet' if sheet else 'file'} is empty)")
            raise HeaderNotFoundError(f"{where}: the first {header_rows} rows are empty; no header found")

        from_sheet: dict[str, str] = {}
        if sheet and "year" in fill_from_sheet and (m := _SHEET_YEAR_RE.search(sheet)):
            from_sheet["year"] = m.group(1)
        if sheet and "region" in fill_from_sheet:
            from_sheet["region"] = sheet.strip()

        best_i, best_score = -1, 0
        for i, (_, cells) in enumerate(scan):
            score = header_score(cells)
            if score > best_score:
                best_i, best_score = i, score
        if best_score == 0:
            first = next(cells for _, cells in scan if any(not _is_empty(c) for c in cells))
            shown = ", ".join(str(c).strip() for c in first if not _is_empty(c))
            raise HeaderNotFoundError(
                f"{where}: no header row in the first {header_rows} rows (no cell names a known column such as "
                f"企业名称 or 统一社会信用代码). First row: {shown[:200]}"
            )
        header_line, header_cells = scan[best_i]
        columns, warnings = map_columns(header_cells)
        taken = {c.field for c in columns if c.field}
        for i, c in enumerate(columns):
            if not c.field and extra.get(c.key) and extra[c.key] not in taken:
                columns[i] = dataclasses.replace(c, field=extra[c.key])
                taken.add(extra[c.key])
        # A lone match (e.g. a title mentioning 地区) is only a header if it is all we need.
        provided = {c.field for c in columns if c.field} | set(from_sheet)
        lone_ok = (required and not missing_fields([Column(-1, f, f, f) for f in provided], required)) or any(
            c.is_index for c in columns)
        if best_score < 2 and not lone_ok:
            if required:
                check_required(columns, required, where=where, extra=from_sheet)
            raise HeaderNotFoundError(
                f"{where}: no header row found; the best candidate (line {header_line}) names only "
                f"{', '.join(c.header for c in columns if c.field)}"
            )
        check_required(columns, required, where=where, extra=from_sheet)
        from_sheet = {f: v for f, v in from_sheet.items() if not any(c.field == f for c in columns)}

        # A "单位：万元" line above the header sets the unit of money columns that name none.
        default_unit = None
        for _, cells in head[:best_i]:
            for c in cells:
                if isinstance(c, str) and (m := TABLE_UNIT_RE.search(unicodedata.normalize("NFKC", c))):
                    default_unit = UNITS.get(m.group(1), default_unit)
        units = {}
        for c in columns:
            if not c.field:
                continue
            unit = c.unit
            if unit is None and default_unit and FIELD_KINDS.get(c.field) == "money":
                unit = default_unit
            if unit:
                units[c.field] = unit

        table = Table(
            source_name=self.name, sheet=sheet, format=self.format, encoding=self.encoding,
            header_line=header_line, columns=columns, units=units, from_sheet=from_sheet, warnings=warnings,
        )
        for line, cells in head[:best_i]:
            if any(not _is_empty(c) for c in cells):
                table.skipped.append((line, "above header"))
        table._pending = head[best_i + 1:]
        table._rows = raw_batches
        return table


def open_source(source: Source, *, name: str | None = None) -> SourceFile:
    """Identify a file (path or binary file object) and check it can be read; ReaderError if not."""
    return SourceFile(source, name=name)


def iter_batches(source: Source, **options) -> Iterator[list[SourceRow]]:
    """Every data row of every selected sheet, in batches (options as for SourceFile.tables)."""
    for table in open_source(source).tables(**options):
        yield from table.batches()


def iter_rows(source: Source, **options) -> Iterator[SourceRow]:
    for batch in iter_batches(source, **options):
        yield from batch
