"""Bilingual choice labels ("已过期 expired", the models' form) shown in the page's language."""

import pytest
from django.utils import translation

from importers.models import ImportKind, JobStatus
from registry.models import CertificationStatus
from web.templatetags.web_format import in_page_language


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
