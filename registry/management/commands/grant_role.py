"""Give a user a Cultivar role: `manage.py grant_role USERNAME ROLE [--region CODE ...]`.

Creates the user when missing (with an unusable password: sign-in needs `changepassword`, or use
`create_token`). Officers need at least one region; the regions given replace the previous ones.
Running it again with another role changes the role.
"""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from registry.models import Region, Role, RoleAssignment


class Command(BaseCommand):
    help = "Grant a role (officer, analyst, investor, admin) to a user, creating the user if missing."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("role", choices=Role.values)
        parser.add_argument("--region", action="append", default=[], dest="regions", metavar="CODE",
                            help="Region code (officers; repeatable). Includes every region under it.")

    @transaction.atomic
    def handle(self, username, role, regions, **options):
        codes = [c.strip() for c in regions]
        found = {r.code: r for r in Region.objects.filter(code__in=codes)}
        unknown = [c for c in codes if c not in found]
        if unknown:
            raise CommandError(f"Unknown region code(s): {', '.join(unknown)}.")
        if role == Role.OFFICER and not codes:
            raise CommandError("An officer needs at least one --region CODE.")
        if role != Role.OFFICER and codes:
            raise CommandError(f"--region applies to officers only; the {role} role sees every region.")
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(username=username)
            user.set_unusable_password()
            user.save()
            self.stdout.write(f"Created user {username} (no password; use changepassword or create_token).")
        assignment, _ = RoleAssignment.objects.update_or_create(user=user, defaults={"role": role})
        assignment.regions.set([found[c] for c in codes])
        where = f" in {', '.join(f'{found[c].code} {found[c].name}' for c in codes)}" if codes else ""
        self.stdout.write(self.style.SUCCESS(f"{username} is now {role}{where}."))
