"""What an import job found, row by row: counts, every problem of every row, review items, pending
rows, skipped lines and sheets — and the job status they add up to.

One Report per run (importers.services.Run keeps it as ``run.report``); ``save`` writes it after
the registry transaction, so a rolled-back run still leaves its report.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings

from .errors import PENDING
from .models import ImportPendingRow, ImportReviewItem, ImportRowError, JobStatus

COUNTS = ("total", "processed", "created", "updated", "unchanged", "needs_review", "errors", "duplicates", "skipped",
          "firms_created", "pending")


def max_stored_errors():
    """Rows past this many problems are counted, not stored one by one (IMPORT_MAX_STORED_ERRORS)."""
    return getattr(settings, "IMPORT_MAX_STORED_ERRORS", 20000)


OUT_OF_SCOPE = "The row is outside the regions you may import into."
MAX_SKIPPED_LINES = 2000  # skipped lines listed on the job; the count is always exact


def jsonable(values):
    out = {}
    for key, value in values.items():
        if isinstance(value, (datetime.date, datetime.datetime, datetime.time)):
            value = value.isoformat()
        elif isinstance(value, Decimal):
            value = str(value)
        out[str(key)] = value
    return out


class Report:
    def __init__(self, job):
        self.job = job
        self.counts = dict.fromkeys(COUNTS, 0)
        self.row_errors: list[ImportRowError] = []
        self.reviews: list[ImportReviewItem] = []
        self.pending: list[ImportPendingRow] = []
        self.skipped_lines: list[list] = []
        self.skipped_sheets: list[list] = []
        self.rejected: set[tuple[str, int]] = set()  # (sheet, line) of every rejected row

    # -- rows ------------------------------------------------------------------------------

    def error(self, line, sheet, field, message, code="invalid"):
        if len(self.row_errors) < max_stored_errors():
            self.row_errors.append(ImportRowError(job=self.job, line=line, sheet=sheet or "", field=field or "",
                                                  message=message, code=code))

    def reject(self, row, problems):
        """problems: [(field, message, code)], every problem of one row; the row is counted once."""
        self.counts["errors"] += 1
        self.rejected.add((row.sheet or "", row.line))
        for field, message, code in problems:
            if code == "out_of_scope":  # one wording, whichever path found it: never another firm's region
                message = OUT_OF_SCOPE
            self.error(row.line, row.sheet, field, message, code)

    def review(self, row, values, reason, message, candidate=None, score=None, region_id=None):
        if reason == PENDING:
            return self.pend(row, values, region_id)
        self.counts["needs_review"] += 1
        self.reviews.append(ImportReviewItem(
            job=self.job, line=row.line, sheet=row.sheet or "", reason=reason, message=message,
            values=jsonable(values), raw=jsonable(row.raw), candidate_firm_id=getattr(candidate, "id", None),
            score=score,
        ))

    def pend(self, row, values, region_id=None):
        from registry.names import normalize_name

        self.counts["pending"] += 1
        name = str(values.get("name") or "")[:200]
        self.pending.append(ImportPendingRow(
            job=self.job, line=row.line, sheet=row.sheet or "", name=name, name_normalized=normalize_name(name)[:200],
            region_id=region_id, values=jsonable(values), raw=jsonable(row.raw)))

    def skip(self, sheet, line, reason):
        self.counts["skipped"] += 1
        if len(self.skipped_lines) < MAX_SKIPPED_LINES:
            self.skipped_lines.append([sheet or "", line, reason])

    def skip_sheet(self, sheet, reason):
        self.skipped_sheets.append([sheet, reason])

    # -- the job ---------------------------------------------------------------------------

    def status(self):
        """SUCCEEDED: every row applied. FAILED: there were rows and every one was rejected.
        PARTIAL: anything between (rows rejected, held for review or pending)."""
        c = self.counts
        if c["total"] and c["errors"] >= c["total"]:
            return JobStatus.FAILED
        if c["errors"] or c["needs_review"] or c["pending"]:
            return JobStatus.PARTIAL
        return JobStatus.SUCCEEDED

    def copy_to(self, job):
        for name, value in self.counts.items():
            setattr(job, name, value)
        job.skipped_lines, job.skipped_sheets = self.skipped_lines, self.skipped_sheets

    def save_rows(self, *, with_decisions):
        """Row errors always; review items and pending rows only when the rows were really applied."""
        self.row_errors.sort(key=lambda e: (e.sheet, e.line))
        ImportRowError.objects.bulk_create(self.row_errors, batch_size=1000)
        if with_decisions:
            ImportReviewItem.objects.bulk_create(self.reviews, batch_size=1000)
            ImportPendingRow.objects.bulk_create(self.pending, batch_size=1000)

    def summary(self):
        """The first line of a report: all counts."""
        c = self.counts
        return ", ".join(f"{name.replace('_', ' ')} {c[name]:,}" for name in COUNTS if name != "processed")


REPORT_HEADER = ["工作表 sheet", "行号 line", "结果 outcome", "字段 field", "代码 code", "说明 message"]


def report_rows(job):
    """Every line the job has something to say about, in file order: rejected (one line per problem),
    review, pending, skipped; then skipped sheets (line empty)."""
    rows = [[e.sheet, e.line, "rejected", e.field, e.code, e.message] for e in job.row_errors.all()]
    rows += [[i.sheet, i.line, "review", "", i.reason, i.message] for i in job.review_items.all()]
    rows += [[p.sheet, p.line, "pending", "name", "pending", f"待匹配 pending: {p.name}"] for p in job.pending_rows.all()]
    rows += [[sheet, line, "skipped", "", "skipped", reason] for sheet, line, reason in job.skipped_lines or ()]
    rows.sort(key=lambda r: (r[0], r[1]))
    rows += [[sheet, "", "sheet skipped", "", "skipped", reason] for sheet, reason in job.skipped_sheets or ()]
    return rows


def write_row_report(job, path):
    """The full row report as CSV (UTF-8 with BOM, for Excel); returns the path."""
    import csv
    from pathlib import Path

    from importers.exports import safe_cell

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(REPORT_HEADER)
        for row in report_rows(job):
            writer.writerow([safe_cell(v) for v in row])
    return path
