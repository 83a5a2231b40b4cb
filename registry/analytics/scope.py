"""Shared filters for the analytics: which recognitions count, region/chain/user scope, dates.

Decisions (documented in docs/analytics.md):
- A REVOKED recognition does not count as having reached a stage (funnel, cohorts, FLOW targets):
  revocation (撤销/取消资格) annuls the recognition — tax benefits are clawed back — so an analyst
  asking "how many reached 高企" does not expect it. For "held on a day" (transitions, STOCK
  targets) a revoked recognition counted until its revocation day, as it did in reality.
- Expired and superseded recognitions count for the days they were valid.
"""

import datetime

from django.db.models import Q

from registry.models import Certification, CertificationStatus, IndustryChain
from registry.permissions import firms_visible_to, regions_in_scope, role_of
from registry.services.errors import field_error
from registry.services.firms import resolve_region
from registry.services.ladder import get_stage

NOT_REVOKED = ~Q(status=CertificationStatus.REVOKED)


def held_on(day, prefix=""):
    """Q for recognitions held on a (past) day: valid that day and not revoked by then."""
    p = prefix
    return Q(**{f"{p}valid_from__lte": day, f"{p}valid_until__gte": day}) & (
        ~Q(**{f"{p}status": CertificationStatus.REVOKED}) | Q(**{f"{p}revoked_on__gt": day})
    )


def year_bounds(year):
    return datetime.date(year, 1, 1), datetime.date(year, 12, 31)


def add_years(day, years):
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def resolve_chain(code):
    try:
        return IndustryChain.objects.get(code=str(code).strip())
    except IndustryChain.DoesNotExist:
        raise field_error("chain", f"Unknown industry chain code “{code}”.", code="unknown_chain") from None


def firm_scope(region=None, chain=None, user=None, prefix="firm__"):
    """Q on a model with a `firm` relation (prefix "firm__") or on Firm itself (prefix "").

    Region: the region and everything under it (path prefix). Chain: the chain and its sub-chains.
    User: the caller's scope from registry.permissions.firms_visible_to (officers see their regions).
    """
    from registry.models import Firm

    q = Q()
    if region not in (None, ""):
        q &= Q(**{f"{prefix}region__path__startswith": resolve_region(region).path})
    if chain not in (None, ""):
        chain = resolve_chain(chain)
        in_chain = Firm.objects.filter(chains__path__startswith=chain.path).values("id")
        q &= Q(**{f"{prefix}id__in" if prefix else "id__in": in_chain})
    if user is not None:
        if role_of(user) is None:
            q &= Q(pk__in=[])
        elif regions_in_scope(user) is not None:
            visible = firms_visible_to(user).values("id")
            q &= Q(**{f"{prefix}id__in" if prefix else "id__in": visible})
    return q


def counted_certifications(region=None, chain=None, user=None):
    """Non-revoked recognitions of firms in scope."""
    return Certification.objects.filter(NOT_REVOKED, firm_scope(region, chain, user))


def stages_in_order(codes):
    from registry.models import Stage

    known = {s.code: s for s in Stage.objects.filter(code__in=[str(c).strip() for c in codes if not isinstance(c, Stage)])}
    stages = [c if isinstance(c, Stage) else known.get(str(c).strip()) or get_stage(c) for c in codes]  # one query
    if not stages:
        raise field_error("stages", "Name at least one stage.", code="required")
    ranks = [s.rank for s in stages]
    if ranks != sorted(ranks) or len(set(ranks)) != len(ranks):
        raise field_error("stages", "List stages once each, lowest rung first.", code="stage_order")
    return stages
