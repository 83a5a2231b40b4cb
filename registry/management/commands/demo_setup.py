"""Demo logins, safe to run again: `manage.py demo_setup [--reset]`.

The first run creates one login per role with a random password and an API token, prints them
once and keeps them in var/demo-logins.txt (owner-only), because only hashes are stored in the
database. Later runs keep every password and token and say so; `--reset` issues new ones (and
revokes the old demo tokens), saying what it reset. It also imports the policy targets and fills
demo-officer's cultivation pool (DEMO_POOL), each once: the officer's first look is a board in use.
"""

import datetime
import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

import registry.data as registry_data
from cultivar.console import CommandConsole, add_output_arguments
from registry.eligibility import find_candidates
from registry.models import ApiToken, CultivationEntry, PolicyTarget, Region, Role, RoleAssignment
from registry.services.cultivation import add_to_cultivation_pool, update_cultivation_entry

# (username, role, regions): one login per role, so the demo shows what each may see.
DEMO_USERS = (
    ("demo-officer", Role.OFFICER, ("320583", "320571")),  # 昆山市 and 苏州工业园区
    ("demo-analyst", Role.ANALYST, ()),
    ("demo-investor", Role.INVESTOR, ()),
    ("demo-admin", Role.ADMIN, ()),
)
# The officer's cultivation pool a few months into the year: (target stage, steps after 入库 with
# their notes, the 入库 note). Firms are the officer's best-ranked candidates for each target.
DEMO_POOL = (
    ("hnte", (), "区科技局走访，企业有意今年申报高企"),
    ("hnte", (), "待补充近三年研发费用明细"),
    ("hnte", (("coaching", "研发费用归集辅导，已约第二次上门"),), "走访后入库"),
    ("hnte", (("coaching", "知识产权布局：建议补充 2 件发明专利"),), "入库"),
    ("hnte", (("applied", "申报材料已提交，等待专家评审"),), "材料齐备，直接申报"),
    ("hnte", (("coaching", "高企申报培训已参加"), ("applied", "经辅导后提交申报")), "入库"),
    ("gazelle", (), "营收增速连续两年超过 20%，列入瞪羚培育"),
    ("gazelle", (("coaching", "对接市瞪羚企业申报辅导"),), "入库"),
    ("srdi", (("applied", "专精特新中小企业申报已提交"),), "主营业务收入占比达标"),
    ("srdi", (("applied", "已提交"), ("rejected", "评审未通过：研发投入占比不足，明年再报")), "入库"),
)
TOKEN_NAME = "demo"
DEFAULT_BIND = "127.0.0.1:8000"  # gunicorn.conf.py's


def site():
    """Where the demo server answers: GUNICORN_BIND's address (`make demo` passes it on to the server), so
    the printed links follow a port chosen by the user; a wildcard host is reached as 127.0.0.1."""
    bind = os.environ.get("GUNICORN_BIND") or DEFAULT_BIND
    if bind.startswith(("unix:", "fd://")) or ":" not in bind:
        bind = DEFAULT_BIND
    host, _, port = bind.rpartition(":")
    if host in ("", "0.0.0.0", "[::]", "::"):
        host = "127.0.0.1"
    return f"http://{host}:{port}"


def logins_file():
    return Path(settings.VAR_DIR) / "demo-logins.txt"


class Command(BaseCommand):
    help = ("Create the demo logins (one per role) or keep the existing ones; print each with its role, "
            "regions and where to start. --reset issues new passwords and tokens.")

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true",
                            help="New passwords and API tokens for every demo login (the old demo tokens are revoked).")
        add_output_arguments(parser)

    def handle(self, *args, reset, **options):
        if not settings.DEBUG:
            raise CommandError("demo_setup is for the embedded demo only (DJANGO_DEBUG is off).")
        out = CommandConsole.for_command(self, options)
        with transaction.atomic():
            logins = [self._login(username, role, codes, reset) for username, role, codes in DEMO_USERS]
            targets = self._targets()
            pooled = self._pool(User.objects.get(username=DEMO_USERS[0][0]))
        fresh = [login for login in logins if login["password"] or login["token"]]
        if fresh:
            self._save(fresh)

        if targets:
            out.print(f"Imported {targets} policy targets (registry/data/policy_targets.csv).")
        if pooled:
            out.print(f"Put {pooled} of demo-officer's candidates in the cultivation pool, at several steps, with notes.")
        rows = []
        for login in logins:
            rows.append((login["username"], login["role"], "、".join(login["regions"]) or "全部（all regions）",
                         login["password"] or "unchanged", login["state"]))
        out.table("Demo logins", ("login", "role", "regions", "password", "state"), rows)
        # Tokens on lines of their own: a 43-character key folded inside a table cannot be copied.
        for login in logins:
            if login["token"]:
                out.print(f"API token of {login['username']}: {login['token']}", soft_wrap=True)
        if len(fresh) < len(logins):
            out.print(f"Unchanged passwords and tokens were printed when they were made and are kept in "
                      f"{logins_file()}; `manage.py demo_setup --reset` issues new ones.")
        start = site()
        out.print(f"Start at {start}/ and sign in as demo-officer (昆山市 and 苏州工业园区): targets, candidates and "
                  f"certificates that lapse soon. Analysts: demo-analyst. Programmers: {start}/graphql with "
                  f"'Authorization: Token <API token>'. Admin: {start}/admin/.")
        out.finish({"logins": logins, "targets_imported": targets, "pooled": pooled, "logins_file": str(logins_file()),
                    "start": f"{start}/", "graphql": f"{start}/graphql"})

    def _login(self, username, role, codes, reset):
        """Make the login as it should be; secrets only when new or reset (None = unchanged)."""
        user, created = User.objects.get_or_create(username=username)
        password = None
        if created or reset or not user.has_usable_password():
            password = secrets.token_urlsafe(9)
            user.set_password(password)
        user.is_staff = True
        user.is_superuser = role == Role.ADMIN
        user.save()
        assignment, _ = RoleAssignment.objects.update_or_create(user=user, defaults={"role": role})
        regions = list(Region.objects.filter(code__in=codes).order_by("code"))
        if len(regions) != len(codes):
            raise CommandError(f"Region(s) {', '.join(codes)} missing: run `manage.py load_reference_data` first.")
        assignment.regions.set(regions)
        tokens = ApiToken.objects.filter(user=user, name=TOKEN_NAME, revoked=False)
        key = None
        if reset or not tokens.exists():
            tokens.update(revoked=True)
            key = ApiToken.issue(user, name=TOKEN_NAME)[1]
        if created:
            state = "created"
        elif reset:
            state = "reset: new password and token, old demo token revoked"
        elif password or key:
            state = "kept; new " + " and ".join(w for w, new in (("password", password), ("token", key)) if new)
        else:
            state = "kept"
        return {"username": username, "role": str(role), "regions": [f"{r.code} {r.name}" for r in regions],
                "password": password, "token": key, "state": state}

    def _targets(self):
        if PolicyTarget.objects.exists():
            return 0
        # The targets written in the Kunshan, Wuxi and Jiangsu plans (registry/data/policy_targets.csv).
        from importers.services import import_file

        return import_file(Path(registry_data.__file__).with_name("policy_targets.csv"), kind="targets").created

    def _pool(self, officer):
        """The officer's board as DEMO_POOL says, once: nothing when the pool holds any entry."""
        if CultivationEntry.objects.exists():
            return 0
        today = timezone.localdate()
        taken, pooled = {}, 0
        for step, (stage, moves, note) in enumerate(DEMO_POOL):
            if stage not in taken:
                try:
                    taken[stage] = list(find_candidates(stage, user=officer, first=20).items)
                except ValidationError:  # no rules in force for this rung: no candidates to pool
                    taken[stage] = []
            offered = taken[stage]
            if not offered:
                continue
            firm = offered.pop(0).firm
            # Entries dated over the last three months, each later step a fortnight after the one before
            # (at most 28 days: every note lies in the past).
            started = today - datetime.timedelta(days=90 - 5 * step)
            entry = add_to_cultivation_pool(firm, stage, target_year=today.year, owner=officer, actor=officer,
                                            note=note, via="demo_setup", today=started)
            for later, (status, text) in enumerate(moves, start=1):
                update_cultivation_entry(entry, status=status, note=text, actor=officer, via="demo_setup",
                                         noted_on=started + datetime.timedelta(days=14 * later), today=today)
            pooled += 1
        return pooled

    def _save(self, fresh):
        """Keep new secrets where the person can find them again (owner-only; var/ is not in git)."""
        path = logins_file()
        path.parent.mkdir(parents=True, exist_ok=True)
        known = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                parts = line.split("\t")
                if len(parts) == 3 and not line.startswith("#"):
                    known[parts[0]] = parts[1:]
        for login in fresh:
            old = known.get(login["username"], ["", ""])
            known[login["username"]] = [login["password"] or old[0], login["token"] or old[1]]
        text = "# demo logins: username, password, API token (manage.py demo_setup --reset replaces them)\n"
        text += "".join(f"{name}\t{pw}\t{token}\n" for name, (pw, token) in sorted(known.items()))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(path, 0o600)
