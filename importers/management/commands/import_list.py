"""manage.py import_list FILE --kind recognitions --tier hnte --issued-on 2024-12-01 [--dry-run]

Prints a progress bar and a summary table; exits 1 when rows were rejected or sent to review,
2 when the file could not be imported at all.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from cultivar.console import CommandConsole
from importers.models import ImportKind, JobStatus
from importers.services import ImportRefused, create_job, run_job


class Command(BaseCommand):
    help = "Import a published list (CSV/XLSX) into the registry as a recorded import job."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--kind", required=True, choices=ImportKind.values)
        for name in ("stage", "tier", "batch", "authority", "issued-on", "valid-until", "level", "batch-year", "sheet"):
            parser.add_argument(f"--{name}")
        parser.add_argument("--dry-run", action="store_true", help="Report what would change; write nothing.")
        parser.add_argument("--user", help="Import as this user (scope and audit); default: system.")
        parser.add_argument("--per-row", action="store_true", help="Recognitions: per-row services instead of the bulk path.")
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, file, kind, dry_run, user, per_row, no_progress, **options):
        from rich.table import Table

        # The shared command console: full width when piped, log lines above the bar (cultivar/console.py).
        out = CommandConsole(self.stdout, self.stderr, quiet=no_progress)
        console = out.console
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"No user named {user!r}.")
        keys = ("stage", "tier", "batch", "authority", "issued_on", "valid_until", "level", "batch_year", "sheet")
        opts = {k: options.get(k) for k in keys if options.get(k)}
        try:
            job = create_job(file, kind=kind, user=actor, options=opts, dry_run=dry_run)
        except (ImportRefused, FileNotFoundError) as error:
            raise CommandError(str(error)) from None
        # A spinner with elapsed time from the start (reading the file sends no counts yet), then rows and rate.
        with out.phase(f"job {job.pk} {job.file_name}", unit="rows") as phase:
            job = run_job(job, per_row=per_row or None, progress=lambda run: phase.update(run.counts["processed"]))

        table = Table(title=f"Import job {job.pk}: {job.file_name} ({job.kind}{', dry run' if dry_run else ''})")
        table.add_column("status")
        for name in ("total", "created", "updated", "unchanged", "needs_review", "errors", "duplicates", "skipped",
                     "firms_created"):
            table.add_column(name.replace("_", " "), justify="right")
        table.add_row(job.status, *(f"{getattr(job, n):,}" for n in (
            "total", "created", "updated", "unchanged", "needs_review", "errors", "duplicates", "skipped",
            "firms_created")))
        console.print(table)
        for error in job.row_errors.all()[:50]:
            console.print(f"  {error.sheet + ' ' if error.sheet else ''}line {error.line} {error.field}: {error.message}",
                          markup=False)
        for item in job.review_items.all()[:50]:
            console.print(f"  review: line {item.line} ({item.reason}) {item.message}", markup=False)
        if job.status == JobStatus.FAILED:
            console.print(f"Import failed: {job.message}", markup=False)
            raise SystemExit(2)
        if job.errors or job.needs_review:
            raise SystemExit(1)
