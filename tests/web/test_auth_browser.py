"""In real Chromium: a user made by grant_role opens the printed link, sets a password, signs in, lands home."""

import io
import re

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True),
              pytest.mark.usefixtures("restore_reference_data")]
PASSWORD = "lotus-pavilion-58"


def test_grant_role_link_to_home(page, live_server):
    out = io.StringIO()
    call_command("grant_role", "xu-ming", "officer", "--region", "320583", "--site", live_server.url, stdout=out)
    link = re.search(r"^(http://\S+/accounts/set-password/\S+/)$", out.getvalue(), re.M).group(1)

    page.goto(link)
    assert "/set-password/" in page.url and link.rstrip("/").rsplit("/", 1)[1] not in page.url  # token left the address
    page.fill("#id_new_password1", PASSWORD)
    page.fill("#id_new_password2", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}/accounts/login/")
    assert "密码已设置" in page.locator("ul.messages").inner_text()

    page.fill("#id_username", "xu-ming")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{live_server.url}/")
    assert "xu-ming" in page.locator(".account .who").inner_text()
    assert "首页" in page.locator("nav.mainnav").inner_text()
