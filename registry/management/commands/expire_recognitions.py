import datetime

from django.core.management.base import BaseCommand

from cultivar.console import CommandConsole, add_output_arguments
from registry.services import expire_lapsed


class Command(BaseCommand):
    help = "Expire recognitions past their valid_until date and refresh current stages (run daily from cron)."

    def add_arguments(self, parser):
        parser.add_argument("--today", type=datetime.date.fromisoformat, help="Evaluate as of this date (YYYY-MM-DD).")
        add_output_arguments(parser)

    def handle(self, *args, today=None, **options):
        out = CommandConsole.for_command(self, options)
        with out.phase("expire lapsed recognitions", unit=None):
            expired = expire_lapsed(today=today)
        out.print(f"Expired {expired} recognition(s).")
        out.finish({"expired": expired})
