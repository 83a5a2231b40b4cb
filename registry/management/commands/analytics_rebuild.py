import datetime

from django.core.management.base import BaseCommand

from cultivar.console import CommandConsole, add_output_arguments
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
        add_output_arguments(parser)

    def handle(self, *args, status, on, only, **options):
        out = CommandConsole.for_command(self, options)
        summary = {}
        if not status and only != "candidates":
            with out.phase("pipeline tables", unit=None):
                precomputed.rebuild()
            summary["first_at_stage_rows"] = FirmStageReach.objects.count()
            summary["transition_rows"] = FirmYearTransition.objects.count()
            out.print(f"Rebuilt {summary['first_at_stage_rows']:,} first-at-stage rows and "
                      f"{summary['transition_rows']:,} firm-year transitions.")
        if not status and only != "pipeline":
            with out.phase("candidates ranking", unit=None):
                candidate_ranks.rebuild(on)
            summary["candidate_rows"] = CandidateRank.objects.count()
            out.print(f"Ranked {summary['candidate_rows']:,} candidate rows.")
        for key, name, group in (("pipeline", "Pipeline tables", precomputed),
                                 ("candidates", "Candidates ranking", candidate_ranks)):
            state = group.state()
            if state is None:
                summary[key] = {"complete": False, "built": False}
                out.print(f"{name}: never built (computed live).")
                continue
            summary[key] = {"complete": state.complete, "rebuilt_at": state.rebuilt_at,
                            "evaluated_on": state.evaluated_on, "note": state.note, "behind_since": state.behind_since}
            built = f"rebuilt {state.rebuilt_at:%Y-%m-%d %H:%M:%S %Z}" if state.rebuilt_at else "never rebuilt"
            if state.evaluated_on:
                built += f" for {state.evaluated_on}"
            verdict = ("STALE (computed live)" if not state.complete
                       else f"complete, BEHIND since {state.behind_since:%Y-%m-%d %H:%M:%S %Z} (answers as rebuilt)"
                       if state.behind_since else "complete")
            out.print(f"{name}: {verdict}; {built}" + (f"; {state.note}" if state.note else ""))
        out.finish(summary)
