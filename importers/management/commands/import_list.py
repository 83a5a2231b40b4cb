"""manage.py import_list FILE --kind recognitions --tier hnte --issued-on 2024-12-01 [--dry-run]

Prints a progress bar and a summary (every count, the first problems and how many more), writes
the full row report to a CSV file (--report, default VAR_DIR/imports/reports/) and prints its path;
exits 1 when rows were rejected, sent to review or left pending, 2 when the job failed.
"""

from pathlib import Path

from django.conf import settings

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from cultivar.console import CommandConsole
from importers.models import ImportKind, JobStatus
from importers.report import COUNTS, report_rows, write_row_report
from importers.services import ImportRefused, create_job, run_job

SHOWN_PROBLEMS = 20


def print_summary(console, job, report_path, shown=SHOWN_PROBLEMS):
    """Counts, the first problems and "N more", the skipped sheets, and where the full report is."""
    console.print(f"Import job {job.pk}: {job.file_name} ({job.kind}{', dry run' if job.dry_run else ''}): "
                  f"{job.status}", markup=False, soft_wrap=True)
    names = [n for n in COUNTS if n != "processed"]
    console.print("  " + ", ".join(f"{n.replace('_', ' ')} {getattr(job, n):,}" for n in names), markup=False,
                  soft_wrap=True)
    if job.message:
        console.print(f"Import {job.status}: {job.message}", markup=False, soft_wrap=True)
    problems = [r for r in report_rows(job) if r[2] != "skipped"]
    for sheet, line, outcome, field, code, message in problems[:shown]:
        where = f"{sheet + ' ' if sheet else ''}line {line}" if line != "" else f"sheet {sheet}"
        if outcome == "rejected":
            console.print(f"  {where} {field or 'row'}: {message}", markup=False, soft_wrap=True)
        else:
            console.print(f"  {outcome}: {where} ({code}) {message}", markup=False, soft_wrap=True)
    if len(problems) > shown:
        console.print(f"  … and {len(problems) - shown:,} more (all in the report file)", markup=False, soft_wrap=True)
    console.print(f"Row report: {write_row_report(job, report_path)}", markup=False, soft_wrap=True)


class Command(BaseCommand):
    help = "Import a published list (CSV/XLSX) into the registry as a recorded import job."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--kind", required=True, choices=ImportKind.values)
        for name in ("stage", "tier", "batch", "authority", "issued-on", "valid-until", "level", "batch-year", "sheet"):
            parser.add_argument(f"--{name}")
        parser.add_argument("--date-order", choices=("mdy", "dmy"), help="Year-last dates (01/29/2024): month or day first.")
        parser.add_argument("--region-context", help="The list's own region (江苏省) for names such as 鼓楼 or 通州.")
        parser.add_argument("--usd-per-cny", help="Rate for a valuation in 亿元人民币 stored in US dollars (e.g. 0.14).")
        parser.add_argument("--dry-run", action="store_true", help="Report what would change; write nothing.")
        parser.add_argument("--user", help="Import as this user (scope and audit); default: system.")
        parser.add_argument("--per-row", action="store_true", help="Recognitions: per-row services instead of the bulk path.")
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument("--report", help="Where to write the full row report (CSV); default "
                                             "VAR_DIR/imports/reports/job-<id>-report.csv.")

    def handle(self, *args, file, kind, dry_run, user, per_row, no_progress, report=None, **options):

        # The shared command console: full width when piped, log lines above the bar (cultivar/console.py).
        out = CommandConsole(self.stdout, self.stderr, quiet=no_progress)
        console = out.console
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"No user named {user!r}.")
        keys = ("stage", "tier", "batch", "authority", "issued_on", "valid_until", "level", "batch_year", "sheet")
        keys += ("date_order", "region_context", "usd_per_cny")
        opts = {k: options.get(k) for k in keys if options.get(k)}
        try:
            job = create_job(file, kind=kind, user=actor, options=opts, dry_run=dry_run)
        except (ImportRefused, FileNotFoundError) as error:
            raise CommandError(str(error)) from None
        # A spinner with elapsed time from the start (reading the file sends no counts yet), then rows and rate.
        with out.phase(f"job {job.pk} {job.file_name}", unit="rows") as phase:
            job = run_job(job, per_row=per_row or None, progress=lambda run: phase.update(run.counts["processed"]))

        report_path = report or Path(settings.VAR_DIR) / "imports" / "reports" / f"job-{job.pk}-report.csv"
        print_summary(console, job, report_path)
        if job.status == JobStatus.FAILED:
            raise SystemExit(2)
        if job.errors or job.needs_review or job.pending:
            raise SystemExit(1)
