import datetime

import pytest

from registry.services import record_certification, revoke_certification
from registry.timeline import build_timeline

D = datetime.date
pytestmark = pytest.mark.django_db


def test_timeline_tells_the_path_up_the_ladder(firm):
    today = D(2026, 11, 23)
    record_certification(firm, "tech_sme", D(2021, 4, 1), today=today)
    record_certification(firm, "hnte", D(2021, 12, 2), today=today)
    record_certification(firm, "hnte", D(2024, 11, 20), today=today)
    record_certification(firm, "tech_sme", D(2022, 5, 1), today=today)
    giant, _ = record_certification(firm, "srdi_little_giant", D(2025, 7, 1), today=today)
    revoke_certification(giant, "复核未通过", revoked_on=D(2026, 8, 1), today=today)
    certs = firm.certifications.select_related("stage", "tier")
    events = [(e.date, e.kind, e.tier.code) for e in build_timeline(certs)]
    assert events == [
        (D(2021, 4, 1), "entered", "tech_sme"),
        (D(2021, 12, 2), "upgraded", "hnte"),
        (D(2022, 5, 1), "renewed", "tech_sme"),
        (D(2023, 1, 1), "expired", "tech_sme"),
        (D(2024, 11, 20), "renewed", "hnte"),
        (D(2025, 7, 1), "upgraded", "srdi_little_giant"),
        (D(2026, 8, 1), "revoked", "srdi_little_giant"),
    ]
