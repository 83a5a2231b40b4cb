"""Compare the search index with the registry, firm id by firm id, and mend what differs.

The outbox (search/outbox.py) mends the index updates that failed and said so. This finds what
nothing reported: a document lost inside the engine (an index restored from an older snapshot or
deleted by hand, a node lost without replicas) or a document left behind for a firm that is gone.
`manage.py search_check [--repair]` runs it; the beat task `search.tasks.check_index` runs it with
repair every night.

It compares which firms have a document, not what the documents say: a present but outdated
document is what the outbox and `search_reindex` are for. The registry is read in chunks of
`CHUNK` firm ids and the index over the same id range, so memory stays flat whatever the size, and
the last range is open-ended, so a document whose id lies above every firm is found too.

Repairing goes through `outbox.sync_and_note` (what `search.tasks.index_firms` runs), which reads
the registry again: a firm created after its chunk was read (its document looks left behind) is
indexed, not deleted, and a firm deleted meanwhile loses its document. If search fails during a
repair, the firms go to the outbox. On Elasticsearch a document written in the last second (before
its refresh) may show as missing: indexing it again is harmless.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from registry.models import Firm
from search import outbox
from search.backends import get_backend

CHUNK = 5000
SAMPLE = 20  # ids of each kind the report keeps, to name in messages


@dataclass
class Report:
    firms: int = 0  # firms in the registry
    documents: int = 0  # documents in the index
    missing: int = 0  # firms without a document
    left_behind: int = 0  # documents without a firm
    missing_sample: list[int] = field(default_factory=list)
    left_behind_sample: list[int] = field(default_factory=list)
    repaired: int = 0  # firms indexed again or deleted

    @property
    def differences(self) -> int:
        return self.missing + self.left_behind

    def add(self, missing: set[int], left_behind: set[int]) -> None:
        self.missing += len(missing)
        self.left_behind += len(left_behind)
        self.missing_sample += sorted(missing)[:SAMPLE - len(self.missing_sample)]
        self.left_behind_sample += sorted(left_behind)[:SAMPLE - len(self.left_behind_sample)]


def check_index(*, repair: bool = False, chunk: int = CHUNK) -> Report:
    """Walk the registry's firm ids in chunks and the index over the same id ranges; with
    ``repair``, (re)index or delete each chunk's differences at once."""
    backend, report = get_backend(), Report()
    firm_ids = Firm.objects.order_by("pk").values_list("pk", flat=True)
    low, last = 0, None
    while True:
        registry = list((firm_ids if last is None else firm_ids.filter(pk__gt=last))[:chunk])
        high = registry[-1] if len(registry) == chunk else None  # the last range has no upper end
        indexed = backend.ids_between(low, high)
        report.firms += len(registry)
        report.documents += len(indexed)
        registry_set, indexed_set = set(registry), set(indexed)
        missing, left_behind = registry_set - indexed_set, indexed_set - registry_set
        report.add(missing, left_behind)
        if repair and (missing or left_behind):
            outbox.sync_and_note(missing | left_behind)
            report.repaired += len(missing) + len(left_behind)
        if high is None:
            return report
        low, last = high + 1, high
