"""registry.services.effects: the side effects of a write, run once per batch by the writer."""

import datetime

import pytest
from django.core.management import call_command

from registry.eligibility import facts
from registry.eligibility import precomputed as candidate_ranks
from registry.models import CandidateRank, Firm
from registry.services import effects, upsert_firm

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 23)


def test_ranked_firm_fields_are_what_the_facts_loader_reads():
    """A firm field the candidates facts start reading must be added to RANKED_FIRM_FIELDS, or an edit of
    it would leave the ranking stale."""
    read = {c.split("__")[0] for c in facts.FIRM_COLUMNS} - {"id"}
    read = {"founded_on" if c == "founded_text" else c for c in read}
    assert read == set(effects.RANKED_FIRM_FIELDS)
    assert effects.PIPELINE_FIRM_FIELDS <= effects.RANKED_FIRM_FIELDS


def test_a_rename_skips_the_derived_tables_a_move_refreshes_them(monkeypatch):
    call_command("seed_demo", firms=40, seed=3, today=TODAY, no_index=True)
    firm = Firm.objects.filter(current_stage__isnull=True).order_by("id").first()
    refreshed = []
    real = candidate_ranks.refresh_firms
    monkeypatch.setattr(candidate_ranks, "refresh_firms", lambda ids: refreshed.append(list(ids)) or real(ids))
    before = sorted(CandidateRank.objects.filter(firm=firm).values_list("target", "outcome_rank", "gap"))

    assert upsert_firm(firm.uscc, name=firm.name + "（新）", main_products="新产品")[1] == "updated"
    assert refreshed == []  # nothing the ranking reads changed
    upsert_firm(firm.uscc, founded_on="1990-01-01")
    assert refreshed == [[firm.id]]
    after = sorted(CandidateRank.objects.filter(firm=firm).values_list("target", "outcome_rank", "gap"))
    candidate_ranks.rebuild(TODAY)
    assert after == sorted(CandidateRank.objects.filter(firm=firm).values_list("target", "outcome_rank", "gap"))
    assert before  # the firm was ranked to begin with
