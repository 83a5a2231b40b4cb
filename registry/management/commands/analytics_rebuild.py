import datetime
import time

from django.core.management.base import BaseCommand

from registry.analytics import precomputed
from registry.eligibility import precomputed as candidate_ranks
from registry.models import CandidateRank, FirmStageReach, FirmYearTransition


class Command(BaseCommand):
    help = ("Rebuild the precomputed analytics tables: funnel/cohort first dates and yearly transitions from all "
            "recognitions, and the candidates ranking for one evaluation date. Needed after writes that bypass "
            "the registry services (raw SQL, restores); seed_demo runs it itself, Celery beat rebuilds the "
            "ranking daily.")

    def add_arguments(self, parser):
        parser.add_argument("--status", action="store_true", help="Only show whether the tables are complete.")
        parser.add_argument("--on", type=datetime.date.fromisoformat,
                            help="Evaluation date of the candidates ranking (default today).")
        parser.add_argument("--only", choices=("pipeline", "candidates"), help="Rebuild only one group.")

    def handle(self, *args, status, on, only, **options):
        if not status and only != "candidates":
            started = time.perf_counter()
            precomputed.rebuild()
            self.stdout.write(f"Rebuilt {FirmStageReach.objects.count():,} first-at-stage rows and "
                              f"{FirmYearTransition.objects.count():,} firm-year transitions in "
                              f"{time.perf_counter() - started:.1f} s.")
        if not status and only != "pipeline":
            started = time.perf_counter()
            candidate_ranks.rebuild(on)
            self.stdout.write(f"Ranked {CandidateRank.objects.count():,} candidate rows in "
                              f"{time.perf_counter() - started:.1f} s.")
        for name, group in (("Pipeline tables", precomputed), ("Candidates ranking", candidate_ranks)):
            state = group.state()
            if state is None:
                self.stdout.write(f"{name}: never built (computed live).")
                continue
            built = f"rebuilt {state.rebuilt_at:%Y-%m-%d %H:%M:%S %Z}" if state.rebuilt_at else "never rebuilt"
            if state.evaluated_on:
                built += f" for {state.evaluated_on}"
            verdict = "complete" if state.complete else "STALE (computed live)"
            self.stdout.write(f"{name}: {verdict}; {built}" + (f"; {state.note}" if state.note else ""))
