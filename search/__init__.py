"""Firm search (phase 1: backends working on plain firm dicts).

Entry points: ``search.backends.get_backend()`` and ``SearchRequest``/``SearchResult``/
``SearchError``/``SearchUnavailable`` in ``search.backends.base``. See docs/search.md.
"""
