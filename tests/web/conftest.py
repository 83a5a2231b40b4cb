"""Browser tests: Playwright's sync API driving Debian's /usr/bin/chromium against pytest-django's live_server.

- Playwright never downloads a browser here (no `playwright install`): it is launched on the system
  executable, with an empty profile and background networking off.
- Every request whose host is not 127.0.0.1/localhost is recorded and aborted, and the test fails if
  there was one: the pages must work with no internet at all.
- Without /usr/bin/chromium the browser tests are skipped with a reason, except on CI (`CI` set),
  where they fail: `make test` installs the browser (scripts/install-browser).
"""

import json
import os
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.factories import make_uscc

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1366, "height": 900}
PASSWORD = "browser-test-pass-1"
RECREATED_BY_FLUSH = {"contenttypes.contenttype", "auth.permission"}

# Playwright's sync API keeps an asyncio loop on the test thread; Django then refuses ORM calls made
# from that thread (test set-up) unless told that this is a synchronous caller.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _require_chromium():
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing on CI: `make test` installs it (scripts/install-browser).")
    pytest.skip(f"{CHROMIUM} is missing: run scripts/install-browser (apt-get install chromium fonts-noto-cjk).")


@pytest.fixture(scope="session")
def reference_snapshot(django_db_setup, django_db_blocker):
    """The migrated reference data (ladder, regions, chains, rules) as Django serialised it for
    serialized_rollback, taken before Playwright starts.

    Playwright's sync API runs greenlets with their own context variables, and Django keeps database
    connections in context-local storage: once it has started, the test thread sees a connection
    object without the serialised copy, so `serialized_rollback` cannot restore what the flush after a
    live-server test removed. `restore_reference_data` restores it from here instead.
    """
    from django.db import connection

    with django_db_blocker.unblock():
        return getattr(connection, "_test_serialized_contents", None) or connection.creation.serialize_db_to_string()


@pytest.fixture
def restore_reference_data(reference_snapshot, transactional_db):
    from django.db import connection

    from registry.models import Region

    if not Region.objects.exists():
        # The flush ran post_migrate (Django saw no serialised copy), which re-created content types and
        # permissions already: restore everything else.
        rows = [row for row in json.loads(reference_snapshot) if row["model"] not in RECREATED_BY_FLUSH]
        connection.creation.deserialize_db_from_string(json.dumps(rows))


@pytest.fixture(scope="session")
def playwright_session(reference_snapshot):
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


class OutsideGuard:
    """Routes every request: local ones go through, any other is recorded and aborted."""

    def __init__(self):
        self.seen = []

    def __call__(self, route):
        host = urlsplit(route.request.url).hostname or ""
        if host in LOCAL_HOSTS:
            route.continue_()
        else:
            self.seen.append(route.request.url)
            route.abort()


def _wait_for_request_threads(seconds=5.0):
    """Until the live server's request threads have ended (each closes its database connection)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(
            thread.name.endswith("(process_request_thread)") for thread in threading.enumerate()):
        time.sleep(0.02)


@pytest.fixture(scope="session")
def browser_context(playwright_session, live_server, tmp_path_factory):
    """One Chromium for the session, started on an empty user-data-dir (tests get fresh pages and cookies).

    It depends on live_server so that it closes first: Chromium's kept-alive connections end the
    server's request threads, which close the in-memory database connection they share with the tests.
    Were the server stopped first (it stops sharing that connection), each of them would raise."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    context = playwright_session.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, viewport=VIEWPORT,
        locale="zh-CN",
    )
    guard = OutsideGuard()
    context.route("**/*", guard)
    context.set_default_timeout(30_000)  # generous: CI machines are shared; a real hang still fails
    context.outside_guard = guard
    yield context
    context.close()
    _wait_for_request_threads()


@pytest.fixture
def page(browser_context):
    """A fresh page with no cookies; fails the test if it requested anything non-local or a script failed."""
    browser_context.clear_cookies()
    guard = browser_context.outside_guard
    guard.seen.clear()
    browser_page = browser_context.new_page()
    errors = []
    browser_page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield browser_page
    finally:
        browser_page.close()
    assert not guard.seen, f"pages requested non-local addresses: {guard.seen}"
    assert not errors, f"JavaScript errors on the page: {errors}"


def make_user(username, role, regions=()):
    """An active, non-staff user with a password and a Cultivar role (officers: region codes)."""
    from django.contrib.auth import get_user_model

    from registry.models import Region, RoleAssignment

    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    assignment = RoleAssignment.objects.create(user=user, role=role)
    assignment.regions.set(Region.objects.filter(code__in=regions))
    return user


@pytest.fixture
def sign_in(live_server):
    """sign_in(page, role, regions=()) → the user: creates one with that role and signs in through the form."""

    def sign_in_as(browser_page, role, regions=(), username=None):
        user = make_user(username or f"browser-{role}", role, regions)
        browser_page.goto(f"{live_server.url}/accounts/login/")
        browser_page.fill("#id_username", user.username)
        browser_page.fill("#id_password", PASSWORD)
        browser_page.click("button[type=submit].primary")
        browser_page.wait_for_url(f"{live_server.url}/")
        return user

    return sign_in_as


def screenshot(browser_page, name):
    """Save the page (1366x900 viewport, full page) as docs/screenshots/<name>.png (the demo run,
    tests/web/test_screenshots.py; the other browser tests' hand-made firms are not for the README)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    browser_page.screenshot(path=str(path), full_page=True)
    return path


def fill_recognitions_upload(browser_page, sheet_path):
    """On 名单导入: a 科技型中小企业 recognitions list, chosen as a dry run, not yet submitted."""
    browser_page.set_input_files("input[name=file]", str(sheet_path))
    browser_page.select_option("select[name=kind]", "recognitions")
    browser_page.select_option("select[name=stage]", "tech_sme")
    browser_page.select_option("select[name=tier]", "tech_sme")
    browser_page.check("input[name=dry_run]")


# A small hand-checked registry: three Kunshan firms (one named with a script tag, one with a
# spreadsheet formula), one Binhu (Wuxi) firm outside a Kunshan officer's scope, and targets.
KS_USCC = make_uscc("320583", serial=700001)
KS_CANDIDATE_USCC = make_uscc("320583", serial=700002)
KS_FORMULA_USCC = make_uscc("320583", serial=700003)
BH_USCC = make_uscc("320211", serial=700004)
SCRIPT_NAME = "昆山<script>alert(1)</script>光电有限公司"
FORMULA_NAME = "=cmd|' /C calc'!A0 昆山公司"


@pytest.fixture
def web_registry(db):
    import datetime
    from decimal import Decimal

    from django.utils import timezone

    from registry.services import record_certification, upsert_firm, upsert_indicators
    from registry.services.targets import upsert_policy_target

    today = timezone.localdate()
    year = today.year
    ks, _ = upsert_firm(KS_USCC, name="昆山芯微科技有限公司", region="320583", founded_on="2016-03-15",
                        chains=["ic.design"])
    upsert_firm(KS_USCC, name="昆山芯微电子科技有限公司")  # the old name becomes a former name
    record_certification(ks, "hnte", datetime.date(year - 1, 11, 20), certificate_no="GR000001")
    upsert_indicators(ks, year - 2, {"revenue": Decimal("8000"), "rd_expense": Decimal("480"), "employees": 120,
                                     "rd_staff": 30, "invention_patents": 5})
    upsert_indicators(ks, year - 1, {"revenue": Decimal("10000"), "rd_expense": Decimal("700"), "employees": 150,
                                     "rd_staff": 40, "invention_patents": 8})
    cand, _ = upsert_firm(KS_CANDIDATE_USCC, name=SCRIPT_NAME, region="320583", founded_on="2019-05-01")
    record_certification(cand, "tech_sme", datetime.date(year, 3, 1), certificate_no="KX000002",
                         valid_until=today + datetime.timedelta(days=30))
    upsert_indicators(cand, year - 1, {"revenue": Decimal("3000"), "rd_expense": Decimal("240"), "employees": 60,
                                       "rd_staff": 12, "invention_patents": 2, "ip_class1": 2,
                                       "hightech_revenue": Decimal("1500")})
    formula, _ = upsert_firm(KS_FORMULA_USCC, name=FORMULA_NAME, region="320583", founded_on="2021-01-10")
    record_certification(formula, "tech_sme", datetime.date(year, 3, 1), certificate_no="KX000003",
                         valid_until=today + datetime.timedelta(days=150))
    bh, _ = upsert_firm(BH_USCC, name="无锡滨湖智造有限公司", region="320211", founded_on="2020-08-01")
    record_certification(bh, "tech_sme", datetime.date(year, 3, 1), certificate_no="KX000004",
                         valid_until=today + datetime.timedelta(days=30))
    upsert_indicators(bh, year - 1, {"revenue": Decimal("1200"), "rd_expense": Decimal("120"), "employees": 40})
    upsert_policy_target("320583", "tech_sme", None, "STOCK", year, 4, source="昆山市祖冲之攻关计划三年行动方案")
    upsert_policy_target("320583", "hnte", None, "FLOW", year + 1, 6, start_year=year - 1,
                         source="昆山市高企培育计划")
    upsert_policy_target("320211", "tech_sme", None, "STOCK", year, 9, source="滨湖区计划")
    return {"ks": ks, "candidate": cand, "formula": formula, "bh": bh, "today": today, "year": year}
