import pytest

from search.backends import get_backend


@pytest.fixture
def embedded_index(settings, tmp_path):
    """The embedded backend on an index of this test's own (get_backend() is cached per process)."""
    settings.SEARCH_BACKEND = "embedded"
    settings.SEARCH_EMBEDDED_PATH = tmp_path / "search"
    get_backend.cache_clear()
    yield
    get_backend.cache_clear()
