"""End to end in real Chromium (tests/web/conftest.py): each test saves its page to docs/screenshots/."""

import pytest

from registry.models import Role
from tests.web.conftest import screenshot

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_sign_in_page_and_investor_home(page, live_server, sign_in):
    page.goto(f"{live_server.url}/")
    assert page.url.startswith(f"{live_server.url}/accounts/login/")
    screenshot(page, "login")
    sign_in(page, Role.INVESTOR)
    nav = page.locator("nav.mainnav").inner_text()
    assert "首页" in nav and "候选企业" not in nav and "培育库" not in nav
    screenshot(page, "home-investor")
