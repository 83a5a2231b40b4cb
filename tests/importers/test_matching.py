"""Name-only lists (issue 12): exact name, former names and aliases match; near misses go to review;
unknown names wait as pending rows that an officer attaches to a firm or turns into a new firm.
Aliases load in bulk (the aliases kind, a firm list's 曾用名/别名 columns) and are searchable.
The scope rule (issue 13): nothing outside the importer's regions is ever a candidate or shown."""

import datetime

import pytest
from django.contrib.auth import get_user_model

from importers.models import ImportPendingRow, JobStatus, PendingStatus, ReviewReason
from importers.pending import attach_pending_row, create_firm_for_pending, dismiss_pending_row
from importers.services import ImportRefused, accept_review_item, import_file
from registry.models import AliasKind, Certification, Firm, FirmAlias, Region, Role, RoleAssignment
from registry.services.aliases import add_firm_names
from tests.factories import FirmFactory

pytestmark = pytest.mark.django_db

UNICORN = {"tier": "unicorn", "issued_on": "2024-06-30"}


@pytest.fixture
def master(data_dir):
    assert import_file(data_dir / "firms_master.csv", kind="firms").status == JobStatus.SUCCEEDED


@pytest.fixture
def shapes(data_dir):
    return data_dir / "real_shapes"


def officer(username, regions):
    user = get_user_model().objects.create_user(username, password="x")
    RoleAssignment.objects.create(user=user, role=Role.OFFICER).regions.set(Region.objects.filter(code__in=regions))
    return user


def admin():
    user = get_user_model().objects.create_user("boss", password="x")
    RoleAssignment.objects.create(user=user, role=Role.ADMIN)
    return user


def test_alias_list_loads_brand_english_and_short_names(master, shapes):
    job = import_file(shapes / "aliases_like.csv", kind="aliases")
    # row 3 has no USCC but its exact name; row 4 repeats row 1's firm (a duplicate, reported)
    assert (job.status, job.updated, job.errors, job.duplicates) == (JobStatus.PARTIAL, 3, 1, 1)
    weina = Firm.objects.get(uscc="91320583E7Y6F6M7WC")
    assert sorted(weina.aliases.values_list("name", "kind")) == [
        ("Weina Semiconductor", AliasKind.ENGLISH), ("微纳半导体", AliasKind.OTHER), ("微纳芯", AliasKind.OTHER)]
    assert list(Firm.objects.get(name="江阴鼎新环保科技股份有限公司").aliases.values_list("name", flat=True)) == ["鼎新环保"]
    again = import_file(shapes / "aliases_like.csv", kind="aliases")
    assert (again.updated, again.unchanged) == (0, 3) and FirmAlias.objects.count() == 6


def test_firm_list_other_name_columns_become_former_names_and_aliases(shapes):
    job = import_file(shapes / "firms_with_other_names_like.csv", kind="firms")
    assert (job.status, job.created) == (JobStatus.SUCCEEDED, 2)
    firm = Firm.objects.get(uscc="913205830000000X4B")
    assert firm.former_names == ["昆山零一智能有限公司"]
    assert sorted(firm.aliases.values_list("name", flat=True)) == ["01.AI", "零一万物"]
    assert Firm.objects.get(uscc="913205830000000X5E").aliases.get().name == "Moonshot AI"


def test_name_only_list_matches_aliases_reviews_near_misses_and_keeps_unknown_names_pending(master, shapes):
    import_file(shapes / "aliases_like.csv", kind="aliases")
    import_file(shapes / "firms_with_other_names_like.csv", kind="firms")
    job = import_file(shapes / "unicorn_names_like.csv", kind="recognitions", options=UNICORN)
    # 微纳芯 (alias), XinDong Bio, Inc. (English alias), the exact name and Moonshot AI (alias) are recorded;
    # the 股份 variant is a near miss for review; 星河量子 and 云深量子 are nobody's names: pending, not failed
    assert (job.created, job.needs_review, job.pending, job.errors, job.status) == (4, 1, 2, 0, JobStatus.PARTIAL)
    holders = set(Certification.objects.filter(tier__code="unicorn").values_list("firm__uscc", flat=True))
    assert holders == {"91320583E7Y6F6M7WC", "91320211DL8P3MR19U", "91320583LXGQHM9P5N", "913205830000000X5E"}
    review = job.review_items.get()
    assert (review.line, review.reason, review.candidate_firm.uscc) == (6, ReviewReason.FUZZY_NAME, "91320583LXGQHM9P5N")
    pending = job.pending_rows.first()
    assert (pending.line, pending.name, pending.status) == (5, "星河量子", PendingStatus.PENDING)


def test_pending_row_attached_to_a_firm_records_the_row_and_learns_the_name(master, shapes):
    job = import_file(shapes / "unicorn_names_like.csv", kind="recognitions", options=UNICORN)
    row = job.pending_rows.get(name="星河量子")
    firm = Firm.objects.get(uscc="91320583E7Y6F6M7WC")
    assert attach_pending_row(row, None, firm) == "created"
    row.refresh_from_db()
    assert (row.status, row.firm_id) == (PendingStatus.ATTACHED, firm.id)
    assert Certification.objects.filter(firm=firm, tier__code="unicorn").exists()
    assert firm.aliases.filter(name="星河量子").exists()
    with pytest.raises(ImportRefused, match="already"):
        dismiss_pending_row(row, None)
    # the next list with this name matches by itself
    again = import_file(shapes / "unicorn_names_like.csv", kind="recognitions", options=UNICORN)
    assert again.pending == 4 and not again.pending_rows.filter(name="星河量子").exists()


def test_pending_row_creates_the_firm_once_its_uscc_is_known(master, shapes):
    job = import_file(shapes / "unicorn_names_like.csv", kind="recognitions", options=UNICORN)
    row = job.pending_rows.get(name="星河量子")
    kunshan = officer("ks", ["320583"])
    with pytest.raises(ImportRefused, match="check character"):
        create_firm_for_pending(row, kunshan, uscc="913205830000000X26")
    beijing_row = job.pending_rows.get(name="云深量子")  # listed under 北京市: not a Kunshan officer's to create
    with pytest.raises(ImportRefused, match="outside the regions"):
        create_firm_for_pending(beijing_row, kunshan, uscc="911101080000000X7T")
    with pytest.raises(ImportRefused, match="listed under 北京市"):
        create_firm_for_pending(beijing_row, kunshan, uscc="913205830000000X6H", region="320583")
    firm, outcome = create_firm_for_pending(row, kunshan, uscc="913205830000000X6H")
    assert (firm.name, firm.region_id, outcome) == ("星河量子", "320583", "created")
    row.refresh_from_db()
    assert (row.status, row.firm_id, row.decided_by) == (PendingStatus.CREATED, firm.id, kunshan)


def test_a_new_firm_without_any_region_takes_the_uscc_division(master, tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("序号,企业名称\n1,昆山无名科技有限公司\n", encoding="utf-8")
    job = import_file(path, kind="recognitions", options=UNICORN)
    firm, _ = create_firm_for_pending(job.pending_rows.get(), None, uscc="913205830000000X6H")
    assert firm.region_id == "320583"


def test_dismissed_pending_row_imports_nothing(master, shapes):
    job = import_file(shapes / "unicorn_names_like.csv", kind="recognitions", options=UNICORN)
    row = dismiss_pending_row(job.pending_rows.get(name="云深量子"), None, "not a firm we follow")
    assert row.status == PendingStatus.DISMISSED
    assert ImportPendingRow.objects.get(status=PendingStatus.DISMISSED).note == "not a firm we follow"
    assert Firm.objects.filter(name="云深量子").count() == 0


def test_aliases_are_searchable(master, shapes, settings, tmp_path, django_capture_on_commit_callbacks):
    from search.backends import get_backend
    from search.backends.base import SearchRequest
    from search.indexing import firm_documents

    settings.SEARCH_BACKEND, settings.SEARCH_EMBEDDED_PATH = "embedded", tmp_path / "search"
    get_backend.cache_clear()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            import_file(shapes / "aliases_like.csv", kind="aliases")
        firm = Firm.objects.get(uscc="91320583E7Y6F6M7WC")
        doc = next(firm_documents([firm.id]))
        assert "Weina Semiconductor" in doc["aliases"]
        get_backend().index(firm_documents([firm.id]))
        hits = get_backend().search(SearchRequest(query="微纳芯")).hits
        assert [hit.id for hit in hits] == [firm.id]
    finally:
        get_backend.cache_clear()


# --- one scope rule ---------------------------------------------------------------------------------


def test_rows_outside_the_importers_regions_are_out_of_scope_and_reveal_nothing(master, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text("序号,企业名称,统一社会信用代码,所在地区\n"
                    "1,江阴鼎新环保科技股份有限公司,91320281L8BWJ7PF8D,\n"  # a 江阴 firm by USCC
                    "2,江阴鼎新环保科技股份有限公司,,\n"  # by its exact name
                    "3,江阴鼎新环保科技有限公司,,\n"  # a near miss of a 江阴 name
                    "4,昆山合力新能源科技有限公司,,昆山市\n", encoding="utf-8")
    kunshan = officer("ks", ["320583"])
    job = import_file(path, kind="recognitions", user=kunshan, options={"tier": "hnte", "issued_on": "2024-12-01"})
    errors = {e.line: e for e in job.row_errors.all()}
    assert {line: e.code for line, e in errors.items()} == {2: "out_of_scope", 3: "out_of_scope"}
    for e in errors.values():
        assert "320281" not in e.message and "江阴" not in e.message and "91320281" not in e.message
    # the near miss finds no candidate in 昆山: nobody's name, so pending — never a review of the 江阴 firm
    assert job.review_items.count() == 0
    assert list(job.pending_rows.values_list("line", flat=True)) == [4]
    assert job.created == 1


def test_accepting_a_review_item_checks_the_rows_region_against_the_chosen_firm(master, tmp_path):
    path = tmp_path / "names.csv"
    path.write_text("序号,企业名称,所在地区\n1,昆山合力新能源科技股份有限公司,昆山市\n", encoding="utf-8")
    boss = admin()
    job = import_file(path, kind="recognitions", user=boss, options={"tier": "hnte", "issued_on": "2024-12-01"})
    item = job.review_items.get()
    jiangyin = Firm.objects.get(uscc="91320281L8BWJ7PF8D")
    with pytest.raises(ImportRefused, match="listed under 昆山市"):
        accept_review_item(item, boss, firm=jiangyin)
    assert not Certification.objects.filter(firm=jiangyin).exists()
    assert accept_review_item(item, boss) == "created"  # the candidate, in 昆山


def test_a_name_registered_elsewhere_does_not_hide_a_local_firms_alias(master, tmp_path):
    from registry.services.aliases import add_firm_names

    # a 昆山 firm is published under the registered name of a 江阴 firm
    add_firm_names(Firm.objects.get(uscc="91320583E7Y6F6M7WC"), aliases=["江阴鼎新环保科技股份有限公司"])
    path = tmp_path / "names.csv"
    path.write_text("序号,企业名称\n1,江阴鼎新环保科技股份有限公司\n", encoding="utf-8")
    kunshan = officer("ks", ["320583"])
    job = import_file(path, kind="recognitions", user=kunshan, options={"tier": "hnte", "issued_on": "2024-12-01"})
    assert job.created == 1 and Certification.objects.get().firm.uscc == "91320583E7Y6F6M7WC"


def test_published_unicorn_lists_wait_as_pending_rows_until_their_names_are_known(shapes, tmp_path):
    """The real layouts: Company / Date Joined (M/D/YYYY) / Billion $, and 企业 / 估值（亿元人民币）/ 总部."""
    english = import_file(shapes / "unicorns_en_like.csv", kind="recognitions", options={"tier": "unicorn"})
    chinese = import_file(shapes / "unicorn_ranking_cn_like.csv", kind="recognitions",
                          options={**UNICORN, "usd_per_cny": "0.14"})
    for job, rows in ((english, 6), (chinese, 6)):
        hard = [(e.line, e.field, e.message) for e in job.row_errors.exclude(code="warning")]
        assert (job.errors, job.pending, hard) == (0, rows, []), hard
        assert job.status == JobStatus.PARTIAL
    assert english.pending_rows.order_by("line").first().name == "Yunxing AI"
    # once a firm carries the English name, the same list records its recognition, dated as published
    firm = FirmFactory(name="北京云星智能科技有限公司", name_normalized="北京云星智能科技有限公司",
                       region=Region.objects.get(code="110105"))
    add_firm_names(firm, aliases=["Yunxing AI"], kind=AliasKind.ENGLISH)
    again = import_file(shapes / "unicorns_en_like.csv", kind="recognitions", options={"tier": "unicorn"})
    assert (again.created, again.pending) == (1, 5)
    assert firm.certifications.get().issued_on == datetime.date(2020, 1, 10)
