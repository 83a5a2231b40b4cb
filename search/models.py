"""The search outbox: firms whose latest registry write could not reach the search index.

A row is written when queueing or running an index task fails (search or the broker down), and
removed once the firm has been indexed (or removed from the index) again: by the beat task
`search.tasks.replay_outbox`, `manage.py search_outbox --replay`, a later successful index task, or a
full `search_reindex`. While rows exist, search answers from older documents for those firms: the
count is the gap admins see (admin list, `manage.py search_outbox`).
"""

from django.db import models


class PendingIndex(models.Model):
    # Not a foreign key: a deleted firm keeps its row until its document is removed from the index.
    firm_id = models.BigIntegerField("企业 ID firm id", unique=True)
    reason = models.TextField("原因 reason", blank=True)
    attempts = models.PositiveIntegerField("失败次数 failures", default=1)
    first_failed_at = models.DateTimeField("首次失败 first failed", auto_now_add=True)
    last_failed_at = models.DateTimeField("最近失败 last failed", db_index=True)

    class Meta:
        verbose_name = "待索引企业 pending search update"
        verbose_name_plural = "待索引企业 pending search updates"
        ordering = ("firm_id",)

    def __str__(self):
        return f"firm {self.firm_id}: {self.reason}"
