"""Exports: firms, recognitions and candidate lists as CSV (UTF-8 with BOM, for Excel) or XLSX.

Rows come through registry.permissions (an officer exports only their regions), and so do the field
rules: a kind that shows internal figures asks the same question GraphQL asks before it answers
(`can_read_cultivation` for candidates, as `require_internal` does), so an investor never exports
what the API refuses them. Large exports come in pages (`page=1, 2, ...` of EXPORT_PAGE_ROWS rows,
CANDIDATE_PAGE_ROWS for candidates), never silently cut: `page_info` says how many pages there are.
Every text cell that a spreadsheet would read as a formula (= + - @, tab, carriage return) is prefixed
with ' — names and notes come from uploaded files and must never run as formulas. Cells are text a
person reads (the unmet criteria as sentences), never Python reprs.
"""

import csv
import io
import math
from dataclasses import dataclass

from django.conf import settings

from registry import permissions
from registry.models import Certification, Firm
from registry.permissions import certifications_visible_to, firms_visible_to

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
KINDS = ("firms", "recognitions", "candidates")
# The candidate finder explains each candidate live, 100 at a time (registry.eligibility.candidates.MAX_PAGE):
# a page of this many is seconds of work, not minutes.
CANDIDATE_PAGE_ROWS = 2000


class ExportRefused(ValueError):
    """This role may not have this export (the API refuses it the same figures)."""


# Kind → who may export it, asked of registry.permissions: the same rule GraphQL applies to these fields.
ACCESS = {"candidates": permissions.can_read_cultivation}


@dataclass
class PageInfo:
    page: int
    pages: int
    total: int  # rows matching, over all pages
    size: int


def safe_cell(value):
    """A cell value that cannot run as a formula in Excel/LibreOffice (OWASP CSV injection)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_START) else value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def page_rows():
    return settings.EXPORT_PAGE_ROWS


def _page(query, page, size):
    """One page (1-based) of an id-ordered queryset; None: every row."""
    query = query.order_by("id")
    return query if page is None else query[(page - 1) * size: page * size]


def firm_query(user, *, region=None, stage=None):
    query = firms_visible_to(user, Firm.objects.select_related("region", "current_stage", "current_tier"))
    if region:
        query = query.filter(region__path__contains=f"{region}/")
    if stage:
        query = query.filter(current_stage__code=stage)
    return query


def firm_rows(user, *, region=None, stage=None, page=None):
    yield ["统一社会信用代码 USCC", "企业名称 name", "地区代码 region", "地区 region name", "成立日期 founded",
           "当前阶段 stage", "当前层级 tier", "曾用名 former names"]
    query = firm_query(user, region=region, stage=stage)
    for firm in _page(query, page, page_rows()).iterator(chunk_size=2000):
        yield [firm.uscc, firm.name, firm.region_id, firm.region.name, firm.founded_on,
               firm.current_stage.code if firm.current_stage_id else "",
               firm.current_tier.code if firm.current_tier_id else "", "; ".join(firm.former_names or [])]


def recognition_query(user, *, region=None, stage=None):
    query = certifications_visible_to(user, Certification.objects.select_related("firm", "stage", "tier"))
    if region:
        query = query.filter(firm__region__path__contains=f"{region}/")
    if stage:
        query = query.filter(stage__code=stage)
    return query


def recognition_rows(user, *, region=None, stage=None, page=None):
    yield ["统一社会信用代码 USCC", "企业名称 name", "地区代码 region", "阶段 stage", "层级 tier", "证书编号 certificate",
           "批次 batch", "认定机构 authority", "发证日期 issued", "有效期至 valid until", "状态 status", "来源 source"]
    query = recognition_query(user, region=region, stage=stage)
    for cert in _page(query, page, page_rows()).iterator(chunk_size=2000):
        yield [cert.firm.uscc, cert.firm.name, cert.firm.region_id, cert.stage.code, cert.tier.code,
               cert.certificate_no, cert.batch, cert.authority, cert.issued_on, cert.valid_until, cert.status,
               cert.source_name]


def unmet_text(unmet):
    """The unmet criteria as one readable cell: their sentences, one per line."""
    return "\n".join(u["text"] if isinstance(u, dict) else str(u) for u in unmet)


def candidate_rows(user, *, region=None, stage=None, tier=None, page=None):
    """The candidate finder's list (most promising first), with what each firm still lacks."""
    from registry.eligibility.candidates import MAX_PAGE, find_candidates

    yield ["统一社会信用代码 USCC", "企业名称 name", "地区代码 region", "符合 eligible", "得分 score", "未满足 unmet"]
    offset, end = (0, math.inf) if page is None else ((page - 1) * CANDIDATE_PAGE_ROWS, page * CANDIDATE_PAGE_ROWS)
    while offset < end:
        found = find_candidates(stage, tier, region, user=user, first=int(min(MAX_PAGE, end - offset)), offset=offset)
        for item in found.items:
            yield [item.firm.uscc, item.firm.name, item.firm.region_id, "是" if item.eligible else "否", item.score,
                   unmet_text(item.unmet)]
        offset += len(found.items)
        if not found.items or offset >= found.total:
            break


def candidate_count(user, *, region=None, stage=None, tier=None):
    from registry.eligibility.candidates import find_candidates

    return find_candidates(stage, tier, region, user=user, first=0).total


ROWS = {"firms": firm_rows, "recognitions": recognition_rows, "candidates": candidate_rows}


def checked_filters(kind, user, filters):
    """The filters given; ValueError for an unknown kind or a missing target, ExportRefused for the role."""
    if kind not in ROWS:
        raise ValueError(f"Unknown export “{kind}”; one of {', '.join(KINDS)}.")
    allowed = ACCESS.get(kind)
    if allowed is not None and not allowed(user):
        raise ExportRefused(f"The {kind} export is not available to the {permissions.role_of(user)} role.")
    filters = {k: v for k, v in filters.items() if v}
    if kind == "candidates" and not filters.get("stage"):
        raise ValueError("A candidate list needs a target stage.")
    return filters


def rows_for(kind, user, page=None, **filters):
    """The header and rows of one page (1-based), or of every row when page is None (the command)."""
    filters = checked_filters(kind, user, filters)
    return ROWS[kind](user, page=page, **filters)


def page_info(kind, user, page=1, **filters):
    """Which page this is, of how many (ValueError for a page past the last)."""
    filters = checked_filters(kind, user, filters)
    if kind == "candidates":
        total, size = candidate_count(user, **filters), CANDIDATE_PAGE_ROWS
    else:
        query = firm_query if kind == "firms" else recognition_query
        total, size = query(user, **filters).count(), page_rows()
    pages = max(1, math.ceil(total / size))
    if page < 1 or page > pages:
        raise ValueError(f"Page {page} does not exist: this export has {pages} page(s) of up to {size} rows.")
    return PageInfo(page=page, pages=pages, total=total, size=size)


def write_csv(rows, out):
    """Text stream out; UTF-8 with BOM so Excel opens Chinese text correctly."""
    out.write("\ufeff")
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])


def write_xlsx(rows, out, title="export"):
    """Binary stream or path out (openpyxl write-only: bounded memory). Cells are written as text
    where they could be read as formulas."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    for row in rows:
        ws.append([safe_cell(v) for v in row])
    wb.save(out)


CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def table_file(rows, fmt, title="export"):
    """`rows` (header first) as the bytes of a CSV or XLSX file, through the formula guard above."""
    if fmt == "xlsx":
        out = io.BytesIO()
        write_xlsx(rows, out, title)
        return out.getvalue()
    out = io.StringIO()
    write_csv(rows, out)
    return out.getvalue().encode("utf-8")


def download(rows, fmt, filename, title="export"):
    """A download of `rows` as `filename` (its extension is `fmt`): what every export page answers."""
    from django.http import HttpResponse
    from django.utils.http import content_disposition_header

    response = HttpResponse(table_file(rows, fmt, title), content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def csv_lines(rows):
    """The CSV as encoded chunks, for a streaming response: bounded memory at any size."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    for n, row in enumerate(rows, 1):
        writer.writerow([safe_cell(v) for v in row])
        if n % 500 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def export(kind, user, fmt="csv", page=None, **filters):
    """One page of the export (every row: page=None) as bytes; the view streams CSV instead."""
    return table_file(rows_for(kind, user, page=page, **filters), fmt, title=kind)


# ---------------------------------------------------------------------------------------------
# An import's rejected rows, to fix and import again


REASON_HEADER = "错误原因 reason"
LINE_HEADER = "原行号 line"


def rejected_rows(job):
    """The rows an import rejected, in the file's own columns plus the line and the reasons, ready to
    fix and re-import (the two extra columns are not read by the importer). A CSV for a CSV upload,
    an XLSX with one sheet per sheet for a workbook. Returns (filename, bytes, content_type).

    Re-reads the stored upload (kept on purpose, importers.lifecycle); ValueError when the job has
    no rejected rows or its file is gone.
    """
    from pathlib import Path

    from importers.errors import ReaderError
    from importers.readers import open_source
    from importers.services import EXTRA_FIELDS, REQUIRED

    reasons = {}
    for error in job.row_errors.order_by("sheet", "line", "id"):
        label = f"{error.field}: {error.message}" if error.field else error.message
        reasons.setdefault((error.sheet or "", error.line), []).append(label)
    if not reasons:
        raise ValueError("This import rejected no rows.")
    if not job.file_path or not Path(job.file_path).is_file():
        raise ValueError("The uploaded file of this import is no longer kept.")
    sheets = []
    try:
        source = open_source(job.file_path, name=job.file_name)
        fill = ("year", "region") if job.kind == "recognitions" else ("year",)
        for table in source.tables(sheet=job.options.get("sheet"), required=REQUIRED[job.kind],
                                   fill_from_sheet=fill, extra_fields=EXTRA_FIELDS):
            header = [c.header for c in table.columns]
            rows = [header + [LINE_HEADER, REASON_HEADER]]
            for row in table.rows():
                why = reasons.get((row.sheet or "", row.line))
                if why:
                    rows.append(list(row.raw.values()) + [row.line, "；".join(why)])
            if len(rows) > 1:
                sheets.append((table.sheet or "rejected", rows))
    except ReaderError as error:
        raise ValueError(f"The uploaded file can no longer be read: {error}") from None
    stem = Path(job.file_name).stem or "import"
    if source.format == "csv":
        text = io.StringIO()
        write_csv((row for _, rows in sheets for row in rows), text)
        return f"{stem}-rejected.csv", text.getvalue().encode("utf-8"), "text/csv; charset=utf-8"
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for title, rows in sheets:
        ws = wb.create_sheet(title[:31])
        for row in rows:
            ws.append([safe_cell(v) for v in row])
    buffer = io.BytesIO()
    wb.save(buffer)
    return (f"{stem}-rejected.xlsx", buffer.getvalue(),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
