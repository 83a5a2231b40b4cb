import datetime

import pytest

from tests.factories import FirmFactory


@pytest.fixture(autouse=True)
def _fresh_search_vocabulary():
    # A rolled-back test may have cached codes it created (rollbacks send no signals).
    from search.indexing import forget_vocabulary

    forget_vocabulary()


@pytest.fixture
def firm(db):
    return FirmFactory()


@pytest.fixture
def today():
    return datetime.date(2026, 11, 23)
