"""The officer home's lapsing counts link to their firms: the firms page filtered on
certificate_expiring_before (FirmFilterSet, the API's filter), within the officer's scope."""

import html as html_lib
import re

import pytest

from registry.models import Role
from tests.web.conftest import BH_USCC, KS_CANDIDATE_USCC, KS_FORMULA_USCC, KS_USCC
from tests.web.test_pages import _fresh, client_for  # noqa: F401 - the caches are cleared per test

pytestmark = pytest.mark.django_db


def lapsing_links(html):
    part = html.split('id="lapsing"', 1)[1].split("</section>", 1)[0]
    return [html_lib.unescape(h) for h in re.findall(r'<a class="lapsing-firms" href="([^"]+)"', part)]


def usccs(html):
    return set(re.findall(r"/firms/(\w{18})/", html.split('id="firm-table"', 1)[1]))


def test_each_lapsing_count_lists_its_firms_in_scope(web_registry):
    client, _ = client_for(Role.OFFICER, ["320583"])
    links = lapsing_links(client.get("/").content.decode())
    assert len(links) == 2  # 90 and 180 days
    ninety, half_year = (client.get(link) for link in links)
    assert ninety.status_code == half_year.status_code == 200
    # Kunshan: the candidate lapses in 30 days, the formula firm in 150; Binhu's firm (30 days) is outside.
    assert usccs(ninety.content.decode()) == {KS_CANDIDATE_USCC}
    assert usccs(half_year.content.decode()) == {KS_CANDIDATE_USCC, KS_FORMULA_USCC}
    assert BH_USCC not in half_year.content.decode() and KS_USCC not in usccs(half_year.content.decode())
    export = client.get(links[1].replace("/firms/?", "/firms/export.csv?"))
    body = b"".join(export.streaming_content) if export.streaming else export.content
    assert export.status_code == 200 and KS_FORMULA_USCC in body.decode("utf-8-sig")


def test_the_filter_is_on_the_firms_form_with_a_field_error(web_registry):
    client, _ = client_for(Role.INVESTOR)
    page = client.get("/firms/?certificate_expiring_before=not-a-date").content.decode()
    assert "认定到期早于" in page and 'class="field-error"' in page
    english = html_lib.unescape(client.get("/firms/", HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert "Recognition lapsing before" in english
