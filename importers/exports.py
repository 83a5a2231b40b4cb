"""Exports: firms, recognitions and candidate lists as CSV (UTF-8 with BOM, for Excel) or XLSX.

Rows come through registry.permissions (an officer exports only their regions). Every text cell
that a spreadsheet would read as a formula (= + - @, tab, carriage return) is prefixed with ' —
names and notes come from uploaded files and must never run as formulas.
"""

import csv
import io

from registry.models import Certification, Firm
from registry.permissions import certifications_visible_to, firms_visible_to

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
KINDS = ("firms", "recognitions", "candidates")


def safe_cell(value):
    """A cell value that cannot run as a formula in Excel/LibreOffice (OWASP CSV injection)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_START) else value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def firm_rows(user, *, region=None, stage=None):
    yield ["统一社会信用代码 USCC", "企业名称 name", "地区代码 region", "地区 region name", "成立日期 founded",
           "当前阶段 stage", "当前层级 tier", "曾用名 former names"]
    query = firms_visible_to(user, Firm.objects.select_related("region", "current_stage", "current_tier"))
    if region:
        query = query.filter(region__path__contains=f"{region}/")
    if stage:
        query = query.filter(current_stage__code=stage)
    for firm in query.order_by("id").iterator(chunk_size=2000):
        yield [firm.uscc, firm.name, firm.region_id, firm.region.name, firm.founded_on,
               firm.current_stage.code if firm.current_stage_id else "",
               firm.current_tier.code if firm.current_tier_id else "", "; ".join(firm.former_names or [])]


def recognition_rows(user, *, region=None, stage=None):
    yield ["统一社会信用代码 USCC", "企业名称 name", "地区代码 region", "阶段 stage", "层级 tier", "证书编号 certificate",
           "批次 batch", "认定机构 authority", "发证日期 issued", "有效期至 valid until", "状态 status", "来源 source"]
    query = certifications_visible_to(user, Certification.objects.select_related("firm", "stage", "tier"))
    if region:
        query = query.filter(firm__region__path__contains=f"{region}/")
    if stage:
        query = query.filter(stage__code=stage)
    for cert in query.order_by("id").iterator(chunk_size=2000):
        yield [cert.firm.uscc, cert.firm.name, cert.firm.region_id, cert.stage.code, cert.tier.code,
               cert.certificate_no, cert.batch, cert.authority, cert.issued_on, cert.valid_until, cert.status,
               cert.source_name]


def candidate_rows(user, *, region=None, stage=None, tier=None, limit=100):
    """The candidate finder's list (most promising first), with what each firm still lacks."""
    from registry.eligibility.candidates import MAX_PAGE, find_candidates

    yield ["统一社会信用代码 USCC", "企业名称 name", "地区代码 region", "符合 eligible", "得分 score", "未满足 unmet"]
    offset = 0
    while offset < limit:
        page = find_candidates(stage, tier, region, user=user, first=min(MAX_PAGE, limit - offset), offset=offset)
        for item in page.items:
            unmet = "; ".join(str(getattr(u, "criterion", u)) for u in item.unmet)
            yield [item.firm.uscc, item.firm.name, item.firm.region_id, "是" if item.eligible else "否", item.score, unmet]
        offset += len(page.items)
        if not page.items or offset >= page.total:
            break


ROWS = {"firms": firm_rows, "recognitions": recognition_rows, "candidates": candidate_rows}


def rows_for(kind, user, **filters):
    if kind not in ROWS:
        raise ValueError(f"Unknown export “{kind}”; one of {', '.join(KINDS)}.")
    filters = {k: v for k, v in filters.items() if v}
    if kind == "candidates" and not filters.get("stage"):
        raise ValueError("A candidate list needs a target stage.")
    return ROWS[kind](user, **filters)


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


def export(kind, user, fmt="csv", **filters):
    """The whole export as bytes (views); the command streams to a file instead."""
    rows = rows_for(kind, user, **filters)
    if fmt == "xlsx":
        buffer = io.BytesIO()
        write_xlsx(rows, buffer, kind)
        return buffer.getvalue()
    text = io.StringIO()
    write_csv(rows, text)
    return text.getvalue().encode("utf-8")


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
