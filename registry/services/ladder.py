"""Looking up the ladder (stages and tiers) by code, and default validity periods."""

import calendar
import datetime

from django.db.models import Q

from registry.models import Stage, Tier, ValidityRule
from registry.services.errors import field_error


def get_stage(code):
    if isinstance(code, Stage):
        return code
    try:
        return Stage.objects.get(code=str(code).strip())
    except Stage.DoesNotExist:
        raise field_error("stage", f"Unknown stage code “{code}”.", code="unknown_stage") from None


def get_tier(code):
    if isinstance(code, Tier):
        return code
    try:
        return Tier.objects.select_related("stage").get(code=str(code).strip())
    except Tier.DoesNotExist:
        raise field_error("tier", f"Unknown tier code “{code}”.", code="unknown_tier") from None


def ladder_for(region=None):
    """Stages in order with their tiers: the default ladder plus rungs added by the region or its parents."""
    scope = Q(region__isnull=True)
    if region is not None:
        ancestors = [code for code in region.path.split("/") if code]
        scope |= Q(region__code__in=ancestors)
    return Stage.objects.filter(scope).prefetch_related("tiers").order_by("rank")


def add_months(day, months):
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def default_valid_until(tier, valid_from, batch_year=None):
    """The end of validity a tier gives when the list does not say (inclusive)."""
    if tier.validity_rule == ValidityRule.CALENDAR_YEAR:
        return datetime.date(valid_from.year, 12, 31)
    if tier.validity_rule == ValidityRule.LIST_YEAR:
        return datetime.date(batch_year or valid_from.year, 12, 31)
    return add_months(valid_from, tier.validity_months or 12) - datetime.timedelta(days=1)
