"""Give a user a Cultivar role: `manage.py grant_role USERNAME ROLE [--region CODE ...]`.

Creates the user when missing, and prints a one-time link to set the password
(/accounts/set-password/<uid>/<token>/, valid for PASSWORD_RESET_TIMEOUT, dead once used): the
administrator sends the link, the user chooses the password, and no password ever passes through the
command line, the shell history or a log. `--link` prints a fresh link for an existing user (a
forgotten password); `--password-stdin` reads the password from standard input instead (a password
manager's pipe; typed without echo on a terminal). Officers need at least one region; the regions
given replace the previous ones. Running it again with another role changes the role.
"""

import getpass
import sys

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils import translation
from django.utils.http import urlsafe_base64_encode

from registry.models import Region, Role, RoleAssignment

DEFAULT_SITE = "http://127.0.0.1:8000"


class Command(BaseCommand):
    help = "Grant a role (officer, analyst, investor, admin) to a user, creating the user if missing."
    stealth_options = ("stdin",)  # tests pass the password's stream here

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("role", choices=Role.values)
        parser.add_argument("--region", action="append", default=[], dest="regions", metavar="CODE",
                            help="Region code (officers; repeatable). Includes every region under it.")
        how = parser.add_mutually_exclusive_group()
        how.add_argument("--link", action="store_true",
                         help="Print a one-time set-password link (a new user without --password-stdin gets one anyway).")
        how.add_argument("--password-stdin", action="store_true",
                         help="Read the password from standard input (one line; on a terminal asked twice, not echoed).")
        parser.add_argument("--site", default=DEFAULT_SITE, metavar="URL",
                            help=f"The address users open Cultivar at, for the link (default {DEFAULT_SITE}).")

    def handle(self, username, role, regions, link, password_stdin, site, **options):
        password = self.read_password(options.get("stdin") or sys.stdin) if password_stdin else None
        with transaction.atomic():
            user, created = self.grant(username, role, regions, password)
        if link or (created and password is None):
            self.stdout.write(f"One-time link for {username} to set the password (valid for "
                              f"{self.link_hours()} hours, dead once used; send it to {username} only):")
            self.stdout.write(site.rstrip("/") + set_password_path(user))

    def grant(self, username, role, regions, password):
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
        created = user is None
        if created:
            user = User(username=username)
            user.set_unusable_password()
        if password is not None:
            with translation.override("en"):  # the command speaks English, as its other messages do
                try:
                    password_validation.validate_password(password, user)
                except ValidationError as problem:
                    raise CommandError("The password read from standard input is refused: "
                                       + " ".join(problem.messages)) from None
            user.set_password(password)
        if created or password is not None:
            user.save()
        if created:
            self.stdout.write(f"Created user {username}.")
        if password is not None:
            self.stdout.write(f"Password of {username} set from standard input.")
        assignment, _ = RoleAssignment.objects.update_or_create(user=user, defaults={"role": role})
        assignment.regions.set([found[c] for c in codes])
        where = f" in {', '.join(f'{found[c].code} {found[c].name}' for c in codes)}" if codes else ""
        self.stdout.write(self.style.SUCCESS(f"{username} is now {role}{where}."))
        return user, created

    def read_password(self, stream):
        if stream.isatty():
            first = getpass.getpass("Password: ")
            if getpass.getpass("Password (again): ") != first:
                raise CommandError("The two passwords differ; nothing was changed.")
            return first
        line = stream.readline().rstrip("\r\n")
        if not line:
            raise CommandError("--password-stdin read an empty line; nothing was changed.")
        return line

    @staticmethod
    def link_hours():
        return round(settings.PASSWORD_RESET_TIMEOUT / 3600)


def set_password_path(user):
    """The path of the user's set-password page (web.views.auth.SetPasswordView checks the token)."""
    return reverse("web:set_password", kwargs={
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": default_token_generator.make_token(user),
    })
