"""Pipeline analytics for analysts: funnel, stage transitions, cohorts, target progress.

Every computation aggregates in the database (grouped queries that run on SQLite and
PostgreSQL) or in pandas over columns fetched in one pass; docs/analytics.md has the definitions.
"""

from registry.analytics.cohorts import cohort_firms, cohort_table, firms_csv
from registry.analytics.funnel import funnel
from registry.analytics.targets import target_progress
from registry.analytics.transitions import stage_transitions

__all__ = ["cohort_firms", "cohort_table", "firms_csv", "funnel", "stage_transitions", "target_progress"]
