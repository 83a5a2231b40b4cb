import time

from django.core.management.base import BaseCommand

from registry.analytics import precomputed
from registry.models import FirmStageReach, FirmYearTransition


class Command(BaseCommand):
    help = ("Rebuild the precomputed pipeline tables (funnel/cohort first dates, yearly transitions) from all "
            "recognitions. Needed after writes that bypass the registry services (raw SQL, restores); "
            "seed_demo runs it itself.")

    def add_arguments(self, parser):
        parser.add_argument("--status", action="store_true", help="Only show whether the tables are complete.")

    def handle(self, *args, status, **options):
        if not status:
            started = time.perf_counter()
            precomputed.rebuild()
            self.stdout.write(f"Rebuilt {FirmStageReach.objects.count():,} first-at-stage rows and "
                              f"{FirmYearTransition.objects.count():,} firm-year transitions in "
                              f"{time.perf_counter() - started:.1f} s.")
        state = precomputed.state()
        if state is None:
            self.stdout.write("Pipeline tables: never built (analytics compute live).")
            return
        built = f"rebuilt {state.rebuilt_at:%Y-%m-%d %H:%M:%S %Z}" if state.rebuilt_at else "never rebuilt"
        verdict = "complete" if state.complete else "STALE (analytics compute live)"
        self.stdout.write(f"Pipeline tables: {verdict}; {built}" + (f"; {state.note}" if state.note else ""))
