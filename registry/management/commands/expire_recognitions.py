import datetime

from django.core.management.base import BaseCommand

from registry.services import expire_lapsed


class Command(BaseCommand):
    help = "Expire recognitions past their valid_until date and refresh current stages (run daily from cron)."

    def add_arguments(self, parser):
        parser.add_argument("--today", type=datetime.date.fromisoformat, help="Evaluate as of this date (YYYY-MM-DD).")

    def handle(self, *args, today=None, **options):
        expired = expire_lapsed(today=today)
        self.stdout.write(f"Expired {expired} recognition(s).")
