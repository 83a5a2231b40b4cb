"""An imported list closes the cultivation-pool entries it fulfils (bulk path and per-row path)."""

import pytest

from importers.services import import_file
from registry.models import PoolStatus
from registry.services import upsert_firm
from registry.services.cultivation import add_to_cultivation_pool

pytestmark = pytest.mark.django_db
USCC = "91320211DL8P3MR19U"  # 无锡芯动生物科技有限公司 in firms_master.csv


@pytest.mark.parametrize("per_row", [False, True])
def test_importing_a_recognition_closes_the_matching_pool_entry(tmp_path, per_row):
    firm, _ = upsert_firm(USCC, name="无锡芯动生物科技有限公司", region="320211")
    other, _ = upsert_firm("91320506Y1Q81FTUQE", name="苏州鼎新医疗器械有限公司", region="320506")
    entry = add_to_cultivation_pool(firm, "hnte", target_year=2025)
    untouched = add_to_cultivation_pool(other, "hnte", target_year=2025)
    listing = tmp_path / "hnte.csv"
    listing.write_text(f"企业名称,统一社会信用代码,所在地区,证书编号\n无锡芯动生物科技有限公司,{USCC},无锡市滨湖区,GR202532000123\n",
                       encoding="utf-8")
    job = import_file(listing, kind="recognitions", options={"tier": "hnte", "issued_on": "2025-11-20"}, per_row=per_row)
    assert job.created == 1
    entry.refresh_from_db()
    untouched.refresh_from_db()
    assert entry.status == PoolStatus.RECOGNIZED
    assert entry.certification.certificate_no == "GR202532000123"
    assert untouched.status == PoolStatus.POOLED


@pytest.mark.parametrize("recorded_with_it", [True, False])
def test_a_whole_list_at_once_closes_only_the_entries_it_recorded(recorded_with_it):
    """Pool closing for more than 5,000 recorded ids (a list applied set-based, ids in a compact array)."""
    from array import array
    import datetime

    from registry.models import Certification, Tier
    from registry.services.effects import close_pool_entries

    firm, _ = upsert_firm(USCC, name="无锡芯动生物科技有限公司", region="320211")
    entry = add_to_cultivation_pool(firm, "hnte", target_year=2025)
    tier = Tier.objects.get(code="hnte")
    record = Certification.objects.create(  # written without the services, as the fast path's SQL does
        firm=firm, stage=tier.stage, tier=tier, level="provincial", certificate_no="GR202532000123",
        issued_on=datetime.date(2025, 11, 20), valid_from=datetime.date(2025, 11, 20),
        valid_until=datetime.date(2028, 11, 19))
    others = [record.id + 10 + n for n in range(6000)]
    ids = array("q", sorted(others + [record.id]) if recorded_with_it else others)
    close_pool_entries(ids)
    entry.refresh_from_db()
    assert entry.status == (PoolStatus.RECOGNIZED if recorded_with_it else PoolStatus.POOLED)
