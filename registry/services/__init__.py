"""Every write to the registry goes through these functions (Zulip's `do_*` habit).

GraphQL mutations, importers, admin actions and Celery tasks call them, so the invariants —
current stage, renewal links, audit trail, search index — hold whichever door data comes in by.
"""

from registry.services.certifications import expire_lapsed, record_certification, revoke_certification
from registry.services.firms import upsert_firm
from registry.services.indicators import refresh_latest_indicators, upsert_indicators
from registry.services.ladder import default_valid_until, get_stage, get_tier, ladder_for
from registry.services.stage import refresh_current_stage

__all__ = [
    "default_valid_until", "expire_lapsed", "get_stage", "get_tier", "ladder_for", "record_certification",
    "refresh_current_stage", "refresh_latest_indicators", "revoke_certification", "upsert_firm", "upsert_indicators",
]
