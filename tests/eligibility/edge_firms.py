"""Rows the demo registry may not hold, for the tests that compare two judges firm by firm."""

import datetime
from decimal import Decimal

from registry.models import Firm
from registry.services import upsert_indicators


def make_edge_firms(today):
    """Turn the first eight firms into edge rows: an unknown founding date, a 29 February founding, a
    young firm (multi-year windows shrink), a listed firm, firms with only last year's figures."""
    firms = list(Firm.objects.order_by("id")[:8])
    Firm.objects.filter(pk=firms[0].pk).update(founded_on=None)
    Firm.objects.filter(pk=firms[1].pk).update(founded_on=datetime.date(2020, 2, 29))
    Firm.objects.filter(pk=firms[2].pk).update(founded_on=datetime.date(today.year - 1, 3, 1))
    Firm.objects.filter(pk=firms[3].pk).update(listing_status="listed")
    for firm in firms[4:8]:  # last year's figures only; invention patents but no Class I count
        upsert_indicators(firm, today.year - 1, {"revenue": Decimal("6000"), "rd_expense": Decimal("360"),
                                                "employees": 50, "rd_staff": 12, "ip_class1": None,
                                                "invention_patents": 2})
    return firms
