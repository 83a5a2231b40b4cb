"""Bilingual choice labels ("已过期 expired", the models' form) shown in the page's language."""

import pytest
from django.utils import translation

from importers.models import ImportKind, JobStatus
from registry.models import CertificationStatus
from web.choices import in_page_language


@pytest.mark.parametrize("label, chinese, english", [
    (CertificationStatus.SUPERSEDED.label, "已换证", "Superseded by a renewal"),
    (CertificationStatus.ACTIVE.label, "有效", "Active"),
    (ImportKind.RECOGNITIONS.label, "认定/入库名单", "Recognitions"),
    (JobStatus.PARTIAL.label, "部分完成", "Partial"),
    ("until 31 December of the issue year", "until 31 December of the issue year",
     "until 31 December of the issue year"),  # not bilingual: as it is
    ("昆山 市", "昆山 市", "昆山 市"),  # Chinese on both sides: as it is
])
def test_a_bilingual_label_in_each_page_language(label, chinese, english):
    with translation.override("zh-hans"):
        assert in_page_language(label) == chinese
    with translation.override("en"):
        assert in_page_language(label) == english


@pytest.mark.django_db
def test_the_upload_form_offers_kinds_stages_and_tiers_in_the_page_language():
    from django.urls import reverse

    from registry.models import Role
    from tests.web.pages_data import client_for

    for language, kind, stage, away in (("en", "Recognitions", "Tech-based SME", "认定/入库名单"),
                                        ("zh-hans", "认定/入库名单", "科技型中小企业", "认定/入库名单 recognitions")):
        client, _ = client_for(Role.OFFICER, ["320583"], username=f"upload-{language}", HTTP_ACCEPT_LANGUAGE=language)
        form = client.get(reverse("web:imports")).content.decode().split('class="upload-form"', 1)[1].split("</form>", 1)[0]
        assert f'value="recognitions" selected>{kind}</option>' in form and away not in form
        assert f">{stage}</option>" in form



@pytest.mark.django_db
def test_every_industry_chain_has_an_english_name_and_english_pages_use_it():
    from registry.models import IndustryChain
    from web.choices import chain_choices, chain_names

    assert not IndustryChain.objects.filter(name_en="").exists()  # registry/data/chains.csv, loaded by migration 0018
    chain = IndustryChain.objects.get(code="ic.design")
    with translation.override("en"):
        assert chain_names()["ic.design"] == chain.name_en == "Chip design"
        assert ("ic.design", "\u3000Chip design") in chain_choices()  # indented under Integrated circuits
    with translation.override("zh-hans"):
        assert chain_names()["ic.design"] == "芯片设计"
