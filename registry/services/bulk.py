"""What the importers need besides the two pipelines, for a chunk of a list at a time.

The pipelines themselves: `registry.services.firms.record_firms` and
`registry.services.certifications.record_certifications` (a single write is a batch of one of each).
Here: firms looked up by USCC for a whole chunk, and the firms a recognition list names but the
registry lacks, created through `record_firms` before their recognitions are recorded.
"""

from registry.models import Firm
from registry.services.certifications import COMPARED, prepare_certification, record_certifications
from registry.services.errors import field_error
from registry.services.firms import record_firms

# The importers' names for the recognition pipeline.
bulk_record_certifications = record_certifications

__all__ = ["COMPARED", "bulk_record_certifications", "create_firms", "firm_ids_by_uscc", "prepare_certification"]


def firm_ids_by_uscc(codes):
    """{uscc: (firm_id, region_id)} for the codes already in the registry, one query per 5,000 codes."""
    found = {}
    codes = list(set(codes))
    for start in range(0, len(codes), 5000):
        for uscc, firm_id, region_id in Firm.objects.filter(uscc__in=codes[start:start + 5000]).values_list(
                "uscc", "id", "region_id"):
            found[uscc] = (firm_id, region_id)
    return found


def create_firms(rows, *, actor=None, via=""):
    """Create firms from (uscc, name, region_code) rows already checked; returns {uscc: firm_id}.

    Through record_firms (the record and audit row upsert_firm writes); the side effects run with the
    recognitions' (record_certifications(created_firm_ids=...)).
    """
    if not rows:
        return {}
    results = record_firms([{"uscc": uscc, "name": name, "region": region} for uscc, name, region in rows],
                           actor=actor, via=via, checked=True, side_effects=False)
    for (uscc, _, _), result in zip(rows, results):
        if result.error is not None:
            raise field_error("uscc", f"{uscc}: {' '.join(result.error.messages)}")
    return {uscc: result.firm.pk for (uscc, _, _), result in zip(rows, results)}
