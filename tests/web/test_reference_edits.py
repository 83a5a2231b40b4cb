"""Region names the candidates page keeps per ranking rebuild (precomputed.kept_for) after the reference
data is reloaded with a renamed region (manage.py load_reference_data: set-based writes, no signals):
the next page shows the new name, and a reload that changes nothing leaves the ranking current."""

import csv
import io

import pytest
from django.core.management import call_command
from django.utils import timezone

from registry import data as reference_files
from registry.eligibility import precomputed
from registry.models import Region, Role
from tests.web.test_candidates_queries import statements
from tests.web.test_pages import _fresh, client_for  # noqa: F401 - the caches are cleared per test

pytestmark = pytest.mark.django_db
URL = "/candidates/?stage=hnte"
NEW_NAME = "昆山新区试名市"


@pytest.fixture
def renamed_file(tmp_path, monkeypatch):
    """regions.csv with 昆山市 (320583) renamed, in place of the shipped file."""
    with open(reference_files.REGIONS_CSV, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    for row in rows:
        if row[0] == "320583":
            row[1] = NEW_NAME
    path = tmp_path / "regions.csv"
    with open(path, "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(rows)
    monkeypatch.setattr(reference_files, "REGIONS_CSV", path)
    reference_files.clear_caches()
    yield path
    monkeypatch.undo()
    reference_files.clear_caches()


def region_cells(html):
    body = html.split("<tbody", 1)[1].split("</tbody>", 1)[0]
    import re

    return {cells[1] for cells in (re.findall(r"<td>(.*?)</td>", row) for row in body.split("<tr>")[1:]) if len(cells) > 1}


def test_a_renamed_region_shows_on_the_next_candidates_page(web_registry, renamed_file):
    precomputed.rebuild(timezone.localdate())
    client, _ = client_for(Role.OFFICER, ["320583"])
    html, _ = statements(client)
    assert region_cells(html) == {"昆山市"}  # kept for this rebuild from here on
    statements(client)

    out = io.StringIO()
    call_command("load_reference_data", stdout=out)
    assert Region.objects.get(code="320583").name == NEW_NAME
    assert "candidates are judged live" in out.getvalue()
    assert not precomputed.is_complete()  # the ranking's stored paths and kept instances wait for a rebuild

    html, _ = statements(client)
    assert region_cells(html) == {NEW_NAME}

    precomputed.rebuild(timezone.localdate())
    html, _ = statements(client)
    assert region_cells(html) == {NEW_NAME}  # from the ranking again, with the new copies
    call_command("load_reference_data", stdout=io.StringIO())  # nothing changed this time
    assert precomputed.is_complete()


def test_a_data_migration_reloading_regions_marks_the_ranking_stale_too(web_registry, renamed_file):
    """Through a migration's historical models (no signals, no live imports): the same two rows written."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from registry.models import RegistryVersion
    from registry.reference import load_reference_data

    precomputed.rebuild(timezone.localdate())
    RegistryVersion.objects.update_or_create(name="registry", defaults={"token": "before", "changed_at": timezone.now()})
    executor = MigrationExecutor(connection)
    historical = executor.loader.project_state(executor.loader.graph.leaf_nodes("registry")[0]).apps
    loaded = load_reference_data(historical.get_model("registry", "Region"), historical.get_model("registry", "IndustryChain"))
    assert loaded == {"regions_created": 0, "regions_changed": 1}
    assert not precomputed.is_complete() and "320583" in precomputed.state().note
    assert RegistryVersion.objects.get(name="registry").token != "before"
