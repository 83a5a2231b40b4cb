import datetime
import time

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

from registry.demo.generator import DemoGenerator
from registry.models import Firm


class Command(BaseCommand):
    help = "Generate a deterministic, realistic demo registry (Jiangsu firms with ladder histories)."

    def add_arguments(self, parser):
        parser.add_argument("--firms", type=int, default=3000)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--chunk-size", type=int, default=5000)
        parser.add_argument("--today", type=datetime.date.fromisoformat, help="Evaluate statuses as of this date.")
        parser.add_argument("--if-empty", action="store_true", help="Do nothing when the registry already has firms.")
        parser.add_argument("--no-index", action="store_true", help="Skip rebuilding the search index afterwards.")

    def handle(self, *args, firms, seed, chunk_size, today, if_empty, no_index, **options):
        if firms < 1:
            raise CommandError("--firms must be at least 1.")
        if if_empty and Firm.objects.exists():
            self.stdout.write(f"The registry already holds {Firm.objects.count()} firms; nothing generated.")
            return
        started = time.perf_counter()
        generator = DemoGenerator(seed=seed, today=today)
        columns = ("{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
        with Progress(*columns, disable=not self.stdout.isatty()) as progress:
            task = progress.add_task("firms", total=firms)
            counts = generator.generate(firms, chunk_size=chunk_size, progress=lambda n: progress.advance(task, n))
        elapsed = time.perf_counter() - started
        rows = sum(counts.values())
        self.stdout.write(
            f"Generated {counts['firms']} firms, {counts['certifications']} recognitions, "
            f"{counts['indicators']} indicator rows in {elapsed:.1f} s ({rows / elapsed:,.0f} rows/s)."
        )
        if not no_index:
            # One bulk pass over the search index instead of one update per firm.
            call_command("search_reindex", stdout=self.stdout)
