import pytest
from tests.web.test_candidates_queries import statements, tables
from tests.web.test_pages import _fresh, client_for  # noqa
from tests.web.conftest import KS_CANDIDATE_USCC
from registry.models import Role
pytestmark = pytest.mark.django_db

def test_dbg(web_registry):
    client, _ = client_for(Role.OFFICER, ["320583"])
    url = f"/firms/{KS_CANDIDATE_USCC}/"
    statements(client, url)
    html, sql = statements(client, url)
    for s in sql: print(s[:250])
    assert 0
