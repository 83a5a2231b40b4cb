"""manage.py export {firms,recognitions,candidates} --format csv|xlsx --out FILE [--region --stage --tier --user]"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from importers.exports import KINDS, rows_for, write_csv, write_xlsx


class Command(BaseCommand):
    help = "Export firms, recognitions or a candidate list to CSV or XLSX (formula-safe)."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("--format", choices=("csv", "xlsx"), default="csv")
        parser.add_argument("--out", required=True)
        parser.add_argument("--region")
        parser.add_argument("--stage")
        parser.add_argument("--tier")
        parser.add_argument("--user", help="Export what this user may see (default: everything).")

    def handle(self, *args, kind, format, out, region, stage, tier, user, **options):
        actor = None
        if user:
            actor = get_user_model().objects.filter(username=user).first()
            if actor is None:
                raise CommandError(f"No user named {user!r}.")
        else:
            actor = get_user_model()(is_superuser=True, is_active=True)  # unsaved: sees every region
        filters = {"region": region, "stage": stage}
        if kind == "candidates":
            filters["tier"] = tier
        try:
            rows = rows_for(kind, actor, **filters)
            if format == "xlsx":
                write_xlsx(rows, out, kind)
            else:
                with open(out, "w", encoding="utf-8", newline="") as fh:
                    write_csv(rows, fh)
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Wrote {out}")
