"""The candidates page's total comes from CandidateCount and its rows from one ordered index range
scan per region (registry.eligibility.precomputed, issue 14): the counts must equal a recount of
CandidateRank after every kind of write, and the page at every region depth and for officers with
several regions must equal the live engine's."""

import datetime
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from registry.eligibility import find_candidates
from registry.eligibility import precomputed as candidate_ranks
from registry.models import CandidateCount, CandidateRank, Firm, Region, Role, RoleAssignment
from registry.services import record_certification, upsert_firm, upsert_indicators

TODAY = datetime.date(2026, 11, 23)


def recount():
    """{(target, region prefix, outcome): rows} counted here from CandidateRank, every prefix spelled out."""
    out = {}
    for target, path, outcome in CandidateRank.objects.values_list("target", "region_path", "outcome_rank"):
        parts = [p for p in path.split("/") if p]
        for prefix in ["", *("".join(f"{p}/" for p in parts[:k]) for k in range(1, len(parts) + 1))]:
            out[target, prefix, outcome] = out.get((target, prefix, outcome), 0) + 1
    return out


def stored_counts():
    return {(t, p, o): n for t, p, o, n in CandidateCount.objects.values_list("target", "region_path", "outcome_rank", "n")
            if n}


def officer(name, codes):
    user = get_user_model().objects.create_user(name, password="x")
    RoleAssignment.objects.create(user=user, role=Role.OFFICER).regions.set(Region.objects.filter(code__in=codes))
    return user


@pytest.mark.django_db
def test_counts_follow_the_ranking_through_writes_moves_deletes_and_rebuilds():
    call_command("seed_demo", firms=260, seed=4, today=TODAY, no_index=True)
    assert candidate_ranks.ready_for(TODAY)
    assert stored_counts() == recount() and len(recount()) > 50

    firm = Firm.objects.filter(current_stage__isnull=True).order_by("id").first()
    upsert_indicators(firm, TODAY.year - 1, {"revenue": Decimal("3000"), "rd_expense": Decimal("240"),
                                             "employees": 40, "rd_staff": 9, "ip_class1": 1})
    assert stored_counts() == recount()

    # A move to another city: every level of both paths changes.
    elsewhere = Region.objects.exclude(path__startswith=firm.region.path[:14]).filter(level="district").order_by("code")[0]
    upsert_firm(firm.uscc, region=elsewhere.code)
    assert CandidateRank.objects.filter(firm=firm, region_path=elsewhere.path).exists()
    assert stored_counts() == recount()

    # A recognition moves the firm one rung up: its targets change.
    targets_before = set(CandidateRank.objects.filter(firm=firm).values_list("target", flat=True))
    record_certification(firm, "tech_sme", datetime.date(2026, 3, 1), today=TODAY)
    assert set(CandidateRank.objects.filter(firm=firm).values_list("target", flat=True)) != targets_before
    assert stored_counts() == recount()

    # More than ROW_BY_ROW_MAX firms at once (the vectorised judge), after figures changed behind its back.
    ids = list(Firm.objects.order_by("id").values_list("id", flat=True)[: candidate_ranks.ROW_BY_ROW_MAX + 30])
    Firm.objects.filter(id__in=ids[::3]).update(founded_on=datetime.date(TODAY.year - 1, 6, 1))
    candidate_ranks.refresh_firms(ids)
    assert stored_counts() == recount()

    # A deleted firm's rows go by cascade, and out of the counts with them.
    gone = CandidateRank.objects.order_by("firm_id").first().firm
    gone.delete()
    assert not CandidateRank.objects.filter(firm_id=gone.pk).exists()
    assert stored_counts() == recount()

    after_writes = stored_counts()
    candidate_ranks.rebuild(TODAY)
    assert stored_counts() == after_writes == recount()


@pytest.mark.django_db
def test_pages_at_every_depth_and_for_officers_equal_the_live_pages():
    call_command("seed_demo", firms=300, seed=5, today=TODAY, no_index=True)
    kunshan, suzhou, wuxi = (Region.objects.get(code=c) for c in ("320583", "320500", "320200"))
    users = [None, officer("ks", ["320583"]), officer("two", ["320583", "320200"]), officer("nested", ["320500", "320583"])]
    asked = [None, "320000", "320500", "320583", "320200"]
    compared = eligible = 0
    for stage, tier in [("hnte", None), ("tech_sme", "tech_sme"), ("gazelle", None)]:
        for region in asked:
            for user in users:
                for offset, first in [(0, 20), (7, 5)]:
                    stored = find_candidates(stage, tier, region, user=user, on=TODAY, first=first, offset=offset)
                    live = find_candidates(stage, tier, region, user=user, on=TODAY, first=first, offset=offset,
                                           live=True)
                    where = (stage, tier, region, user and user.username, offset)
                    assert stored.total == live.total, where
                    assert stored.eligible == live.eligible, where
                    assert [vars(c) for c in stored.items] == [vars(c) for c in live.items], where
                    compared += len(stored.items)
                    eligible += stored.eligible
    assert compared > 500 and eligible > 0
    # The scopes really differ: an officer of 昆山 and 无锡 sees both, and only them, nationally.
    both = find_candidates("hnte", user=users[2], on=TODAY, first=100)
    paths = {c.firm.region.path[:21] for c in both.items}
    assert both.total > 0 and paths <= {kunshan.path, *(r.path for r in Region.objects.filter(parent=wuxi))}
    assert any(p.startswith(wuxi.path) for p in paths) and kunshan.path in paths
    # 苏州 asked by an officer of 昆山 is 昆山.
    assert find_candidates("hnte", None, suzhou.code, user=users[1], on=TODAY, first=0).total == \
        find_candidates("hnte", None, kunshan.code, on=TODAY, first=0).total < \
        find_candidates("hnte", None, suzhou.code, on=TODAY, first=0).total


@pytest.mark.django_db
def test_the_total_is_read_from_the_counts_and_the_page_from_the_depth_index():
    call_command("seed_demo", firms=120, seed=5, today=TODAY, no_index=True)
    find_candidates("hnte", region="320500", on=TODAY, first=20)
    with CaptureQueriesContext(connection) as queries:
        page = find_candidates("hnte", region="320500", on=TODAY, first=20)
    # The target and the region's path are known from the last read of this ranking: the state with
    # the total, and the page.
    assert len(queries.captured_queries) == 2, [q["sql"] for q in queries.captured_queries]
    ranked = CandidateRank.objects.filter(target="hnte", region_path__startswith="320000/320500/")
    assert page.total == ranked.count() > 0
    assert page.eligible == ranked.filter(outcome_rank=0).count()  # read in the same statement
    sql = [q["sql"] for q in queries.captured_queries]
    assert not any("COUNT(" in s.upper() and "candidaterank" in s for s in sql), sql
    page_sql = next(s for s in sql if "ORDER BY" in s and "registry_candidaterank" in s)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # With sorting and full scans priced out, only an index whose expression and order match
            # the statement leaves no Sort node.
            cursor.execute("SET enable_seqscan = off")
            cursor.execute("SET enable_sort = off")
            try:
                cursor.execute("EXPLAIN " + page_sql)
                plan = "\n".join(row[0] for row in cursor.fetchall())
            finally:
                cursor.execute("RESET enable_seqscan")
                cursor.execute("RESET enable_sort")
            assert "candidate_order_depth2" in plan and "Sort" not in plan, plan
        else:
            cursor.execute("EXPLAIN QUERY PLAN " + page_sql)
            plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
            assert "candidate_order_depth2" in plan and "TEMP B-TREE" not in plan, plan


@pytest.mark.django_db
def test_a_page_after_a_rebuild_or_an_edit_is_checked_against_the_ranking_it_read():
    """The names (target, region path) and the regions, stages and tiers kept for the ranking the last
    read found are used only when the state read with the total says it is still that ranking:
    after a rebuild the page reads them anew, and once an edit has made the ranking incomplete the
    page is judged live."""
    call_command("seed_demo", firms=120, seed=5, today=TODAY, no_index=True)

    def page():
        with CaptureQueriesContext(connection) as queries:
            found = find_candidates("hnte", region="320500", on=TODAY, first=20)
        return [vars(c) for c in found.items], found.total, [q["sql"] for q in queries.captured_queries]

    live = find_candidates("hnte", region="320500", on=TODAY, first=20, live=True)
    expected = ([vars(c) for c in live.items], live.total)
    assert page()[:2] == expected and expected[1] > 0
    assert len(page()[2]) == 2
    candidate_ranks.rebuild(TODAY)  # a new rebuilt_at: the kept names were for the last one
    items, total, sql = page()
    assert (items, total) == expected and len(sql) > 2
    assert len(page()[2]) == 2
    # An edit of a region the page shows: the ranking is incomplete (judged live) until rebuilt, and
    # the rebuilt ranking's pages carry the edited region, not the one kept for the last rebuild.
    region = Region.objects.get(code=items[0]["firm"].region_id)
    assert items[0]["firm"].region.name == region.name
    region.name += "（新）"
    region.save()
    items, total, sql = page()
    assert (items, total) == expected and any("registry_indicatoryear" in s for s in sql)  # judged live
    assert items[0]["firm"].region.name == region.name
    candidate_ranks.rebuild(TODAY)
    items, total, sql = page()
    assert (items, total) == expected and not any("registry_indicatoryear" in s for s in sql)
    assert items[0]["firm"].region.name == region.name
