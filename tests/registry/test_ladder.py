import pytest

from registry.models import Region, Stage, Tier
from registry.services import ladder_for

pytestmark = pytest.mark.django_db


def test_default_ladder_is_in_plan_order_with_ordered_tiers():
    assert [s.code for s in ladder_for()] == ["tech_sme", "hnte", "gazelle", "srdi", "unicorn"]
    srdi = Stage.objects.get(code="srdi")
    assert [t.code for t in srdi.tiers.order_by("rank")] == ["srdi_innovative", "srdi_sme", "srdi_little_giant"]
    assert Tier.objects.get(code="tech_innovative_sme").stage.code == "tech_sme"
    assert Tier.objects.get(code="srdi_little_giant").level == "national"


def test_a_region_adds_a_rung_without_code_changes():
    wuxi = Region.objects.get(code="320200")
    eaglet = Stage.objects.create(code="eaglet", name="雏鹰企业", rank=15, region=wuxi)
    Tier.objects.create(stage=eaglet, code="eaglet", name="雏鹰企业", rank=1, level="municipal", validity_months=12)
    xinwu = Region.objects.get(code="320214")
    kunshan = Region.objects.get(code="320583")
    assert [s.code for s in ladder_for(xinwu)] == ["tech_sme", "eaglet", "hnte", "gazelle", "srdi", "unicorn"]
    assert "eaglet" not in [s.code for s in ladder_for(kunshan)]


def test_regions_form_a_tree_with_paths():
    kunshan = Region.objects.get(code="320583")
    assert kunshan.path == "320000/320500/320583/"
    suzhou = Region.objects.get(code="320500")
    assert suzhou.subtree().filter(code="320583").exists()
    assert not suzhou.subtree().filter(code="320211").exists()
