"""Current stage and tier: ONE function decides them, from the recognitions valid on a day."""

from collections import defaultdict

from django.db.models import Q
from django.utils import timezone

from registry.models import Certification, CertificationStatus, Firm
from registry.statements import rows_for_ids

# Superseded records still count while their own dates are valid: a renewal may start later.
HOLDING_STATUSES = (CertificationStatus.ACTIVE, CertificationStatus.SUPERSEDED)
CHUNK = 500


def held_on(day):
    """Q for recognitions a firm holds on `day`."""
    return Q(status__in=HOLDING_STATUSES, valid_from__lte=day, valid_until__gte=day)


def current_of(holdings):
    """{firm_id: (stage_id, tier_id)} from rows (firm_id, stage_id, tier_id, stage_rank, tier_rank) held on a day.

    The highest stage wins, then the highest tier inside it.
    """
    best = {}
    for firm_id, stage_id, tier_id, stage_rank, tier_rank in holdings:
        rank = (stage_rank, tier_rank)
        if firm_id not in best or rank > best[firm_id][0]:
            best[firm_id] = (rank, stage_id, tier_id)
    return {firm_id: (stage_id, tier_id) for firm_id, (_, stage_id, tier_id) in best.items()}


def refresh_current_stage(firm_ids, today=None):
    """Recompute current_stage/current_tier for these firms; return the ids that changed.

    Set-based: `current_of` decides for 5,000 firms at a time, then one UPDATE per distinct
    (stage, tier) instead of a row per firm."""
    today = today or timezone.localdate()
    firm_ids = list(firm_ids)
    changed = []
    step = CHUNK * 10
    for start in range(0, len(firm_ids), step):
        chunk = firm_ids[start:start + step]
        current = current_of(rows_for_ids(("held with ranks", today), chunk, lambda ids: Certification.objects.filter(
            held_on(today), firm_id__in=ids).order_by().values_list("firm_id", "stage_id", "tier_id", "stage__rank", "tier__rank")))
        moves = defaultdict(list)
        for firm_id, stage_id, tier_id in rows_for_ids(("current stage",), chunk, lambda ids: Firm.objects.filter(
                id__in=ids).values_list("id", "current_stage_id", "current_tier_id")):
            target = current.get(firm_id, (None, None))
            if (stage_id, tier_id) != target:
                moves[target].append(firm_id)
        for (stage_id, tier_id), ids in moves.items():
            Firm.objects.filter(id__in=ids).update(current_stage_id=stage_id, current_tier_id=tier_id)
            changed.extend(ids)
    return changed
