"""Browser tests: Playwright's sync API driving Debian's /usr/bin/chromium against pytest-django's live_server.

- Playwright never downloads a browser here (no `playwright install`): it is launched on the system
  executable, with an empty profile and background networking off.
- Every request whose host is not 127.0.0.1/localhost is recorded and aborted, and the test fails if
  there was one: the pages must work with no internet at all.
- Without /usr/bin/chromium the browser tests are skipped with a reason, except on CI (`CI` set),
  where they fail: `make test` installs the browser (scripts/install-browser).
"""

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
VIEWPORT = {"width": 1366, "height": 900}
PASSWORD = "browser-test-pass-1"

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
def playwright_session():
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture
def outside_requests():
    """URLs the page tried to fetch from a non-local host (each one was aborted)."""
    return []


@pytest.fixture
def page(playwright_session, tmp_path, outside_requests):
    """A fresh Chromium (empty user-data-dir) and page; fails the test if anything non-local was requested."""
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    context = playwright_session.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, viewport=VIEWPORT,
        locale="zh-CN",
    )

    def guard(route):
        host = urlsplit(route.request.url).hostname or ""
        if host in LOCAL_HOSTS:
            route.continue_()
        else:
            outside_requests.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    context.set_default_timeout(10_000)
    browser_page = context.pages[0] if context.pages else context.new_page()
    errors = []
    browser_page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield browser_page
    finally:
        context.close()
    assert not outside_requests, f"pages requested non-local addresses: {outside_requests}"
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
    """Save the page (1366x900 viewport, full page) as docs/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    browser_page.screenshot(path=str(path), full_page=True)
    return path
