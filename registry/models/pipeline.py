"""Precomputed pipeline tables, maintained by registry.analytics.precomputed (never written elsewhere).

They hold exactly what the live grouped queries over recognitions compute (the funnel/cohort
"first date at a stage" and the per-year transition of each firm), so the analytics read a small
indexed table instead of aggregating every recognition. PipelineState says whether they are
complete (usable); while they are not (never built, or a ladder rank changed) the analytics run live.
A write too large to refresh inline leaves them complete but *behind* (behind_since): they keep
answering, as of their last rebuild, until the rebuild queued on commit replaces them.
Each row carries its firm's region path, so a city or district is a filter on the table itself
(a join through a million firms cost more than the whole national count).
"""

from django.db import models
from django.db.models import F
from django.db.models.functions import Substr

# Region codes are six digits (GB/T 2260), so a path is "320000/320500/320583/": the path of a region at
# depth k is the first 7·k characters of any path under it. CandidateRank has one ordered index per depth
# (province, city, district) led by that prefix, so a region's page is an index range scan of its rows.
REGION_PATH_STEP = 7
CANDIDATE_REGION_DEPTHS = (1, 2, 3)


class FirmStageReach(models.Model):
    """A firm's first non-revoked recognition at a stage (the MIN(issued_on) the funnel aggregates)."""

    firm = models.ForeignKey("registry.Firm", on_delete=models.CASCADE, related_name="+")
    stage = models.ForeignKey("registry.Stage", on_delete=models.CASCADE, related_name="+")
    issued_on = models.DateField()
    region_path = models.CharField(max_length=80)  # the firm's, copied (refreshed when the firm changes)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["firm", "stage"], name="reach_unique_firm_stage")]
        indexes = [
            models.Index(fields=["stage", "issued_on", "region_path", "firm"], name="reach_stage_issued"),  # the cohort
            models.Index(fields=["firm", "stage", "issued_on"], name="reach_firm_cover"),  # its later stages
        ]


class FirmYearTransition(models.Model):
    """A firm's stage rank at the start (31 Dec of year − 1) and end (31 Dec) of a year.

    Only firms holding something on either day have a row. `revoked`: a recognition at the start
    rank was revoked during the year (registry.analytics.transitions.kind_of reads it).
    """

    firm = models.ForeignKey("registry.Firm", on_delete=models.CASCADE, related_name="+")
    year = models.PositiveSmallIntegerField()
    from_rank = models.PositiveIntegerField(null=True)
    to_rank = models.PositiveIntegerField(null=True)
    revoked = models.BooleanField(default=False)
    region_path = models.CharField(max_length=80)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["firm", "year"], name="transition_unique_firm_year")]
        indexes = [models.Index(fields=["year", "region_path", "from_rank", "to_rank", "revoked"],
                                name="transition_year_cells")]


class CandidateRank(models.Model):
    """A candidate's place for a target on one evaluation date (PipelineState "candidates".evaluated_on):
    the sort key of registry.eligibility.candidates — outcome, score, gap — for firms one rung below,
    and what the candidates page shows of it: the rule set judged and the unmet criteria, explained
    when the row is written, so a page is read, not judged."""

    target = models.CharField(max_length=90)  # "stage" or "stage/tier", as asked
    firm = models.ForeignKey("registry.Firm", on_delete=models.CASCADE, related_name="+")
    outcome_rank = models.PositiveSmallIntegerField()  # 0 eligible, 1 not eligible, 2 missing data
    score_key = models.FloatField()  # −score, or 1e18 where the rules do not score
    gap = models.FloatField()
    region_path = models.CharField(max_length=80)
    rule_set = models.CharField(max_length=80, default="")  # EligibilityRuleSet.code
    unmet = models.JSONField(default=list)  # engine.Evaluation.unmet's items; [] when eligible

    class Meta:
        constraints = [models.UniqueConstraint(fields=["target", "firm"], name="candidate_unique_target_firm")]
        indexes = [models.Index(fields=["target", "outcome_rank", "score_key", "gap", "firm", "region_path"],
                                name="candidate_order"),  # a national page
                   *(models.Index(F("target"), Substr("region_path", 1, REGION_PATH_STEP * depth), F("outcome_rank"),
                                  F("score_key"), F("gap"), F("firm_id"), name=f"candidate_order_depth{depth}")
                     for depth in CANDIDATE_REGION_DEPTHS)]


class CandidateCount(models.Model):
    """How many CandidateRank rows a target has in a region and its sub-regions, per outcome: the
    candidates page's total without counting up to 300,000 rows per request. One row per target,
    outcome and region path prefix ("" = national, then each ancestor's path of every ranked row's
    region), kept by registry.eligibility.precomputed wherever CandidateRank is written."""

    target = models.CharField(max_length=90)
    region_path = models.CharField(max_length=80, blank=True)  # a region's path, or "" for the whole country
    outcome_rank = models.PositiveSmallIntegerField()
    n = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["target", "region_path", "outcome_rank"],
                                               name="candidate_count_unique")]


class PipelineStateQuerySet(models.QuerySet):
    """The freshness bookkeeping both groups share; a group without a row was never built."""

    def of(self, group):
        return self.filter(name=group).first()

    def is_complete(self, group, **extra):
        return self.filter(name=group, complete=True, **extra).exists()

    def mark_stale(self, group, note):
        """The tables are wrong (e.g. a rank changed): answer live until rebuilt."""
        self.filter(name=group).update(complete=False, note=note[:200])

    def mark_behind(self, group, note):
        """The tables lack some writes but are still usable: keep answering from them until rebuilt.
        Only a complete group can be behind; behind_since keeps the first such write's time."""
        from django.db.models.functions import Coalesce, Now

        self.filter(name=group, complete=True).update(behind_since=Coalesce("behind_since", Now()), note=note[:200])


class PipelineState(models.Model):
    """Whether a group of precomputed tables is complete (usable), and since when: "pipeline" (reach and
    transitions) and "candidates" (CandidateRank, for `evaluated_on`). `behind_since`: set while a
    rebuild is pending after a large write — the tables answer as of `rebuilt_at` meanwhile."""

    objects = PipelineStateQuerySet.as_manager()

    name = models.CharField(max_length=40, primary_key=True)
    complete = models.BooleanField(default=False)
    rebuilt_at = models.DateTimeField(null=True)
    evaluated_on = models.DateField(null=True)
    note = models.CharField(max_length=200, blank=True)
    behind_since = models.DateTimeField(null=True, blank=True)
