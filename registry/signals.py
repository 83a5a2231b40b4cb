"""Signals the registry sends after its service functions change data.

`firms_changed(firm_ids=[...])` is sent inside the writing transaction; receivers that talk to
the outside world (the search index) must defer with transaction.on_commit.
`certification_recorded(certification=..., created=...)` lets the cultivation pool close entries;
bulk imports send `certifications_recorded(certification_ids=[...])` once per chunk instead.
"""

from django.dispatch import Signal

firms_changed = Signal()
certification_recorded = Signal()
certifications_recorded = Signal()
