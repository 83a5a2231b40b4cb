import secrets
from pathlib import Path

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

import registry.data as registry_data
from registry.models import ApiToken, PolicyTarget, Region, Role, RoleAssignment

# (username, role, regions): one login per role, so the demo shows what each may see.
DEMO_USERS = (
    ("demo-admin", Role.ADMIN, ()),
    ("demo-officer", Role.OFFICER, ("320583", "320571")),  # 昆山市 and 苏州工业园区
    ("demo-analyst", Role.ANALYST, ()),
    ("demo-investor", Role.INVESTOR, ()),
)


class Command(BaseCommand):
    help = "Create or reset the demo logins (fresh random passwords and API tokens, printed once)."

    @transaction.atomic
    def handle(self, *args, **options):
        from django.conf import settings

        if not settings.DEBUG:
            raise CommandError("demo_setup is for the embedded demo only (DJANGO_DEBUG is off).")
        lines = []
        for username, role, region_codes in DEMO_USERS:
            user, _ = User.objects.get_or_create(username=username)
            password = secrets.token_urlsafe(9)
            user.set_password(password)
            user.is_staff = True
            user.is_superuser = role == Role.ADMIN
            user.save()
            assignment, _ = RoleAssignment.objects.update_or_create(user=user, defaults={"role": role})
            assignment.regions.set(Region.objects.filter(code__in=region_codes))
            ApiToken.objects.filter(user=user, name="demo").update(revoked=True)
            _, key = ApiToken.issue(user, name="demo")
            lines.append(f"  {username:<14} {role:<9} password {password:<14} token {key}")
        if not PolicyTarget.objects.exists():
            # The targets written in the Kunshan, Wuxi and Jiangsu plans (registry/data/policy_targets.csv).
            from importers.services import import_file

            job = import_file(Path(registry_data.__file__).with_name("policy_targets.csv"), kind="targets")
            self.stdout.write(f"Imported {job.created} policy targets.")
        self.stdout.write("Demo logins (pages at http://127.0.0.1:8000/, admin at /admin/, GraphQL at /graphql):")
        self.stdout.write("\n".join(lines))
