import datetime

import pytest

from tests.factories import FirmFactory


@pytest.fixture
def firm(db):
    return FirmFactory()


@pytest.fixture
def today():
    return datetime.date(2026, 11, 23)
