"""Saved screens and recent searches: every write to web.models goes through here."""

from urllib.parse import parse_qsl, urlencode

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from web.models import RecentSearch, SavedScreen

RECENT_SEARCHES_KEPT = 10
SAVED_SCREENS_MAX = 50
# Firms-page parameters a screen keeps (paging and export format are not part of a screen).
NOT_SAVED = {"page", "format", "csrfmiddlewaretoken"}


def _field_error(field, message, code="invalid"):
    return ValidationError({field: [ValidationError(message, code=code)]})


@transaction.atomic
def remember_search(user, text):
    """Record a search (the same text again moves to the top); keep the last RECENT_SEARCHES_KEPT."""
    text = " ".join((text or "").split())[:200]
    if not text or not user.is_authenticated:
        return None
    RecentSearch.objects.filter(user=user, text=text).delete()
    item = RecentSearch.objects.create(user=user, text=text)
    stale = RecentSearch.objects.filter(user=user).order_by("-created_at", "-id").values_list("id", flat=True)
    RecentSearch.objects.filter(id__in=list(stale[RECENT_SEARCHES_KEPT:])).delete()
    return item


def recent_searches(user):
    return list(RecentSearch.objects.filter(user=user).order_by("-created_at", "-id")[:RECENT_SEARCHES_KEPT])


def screen_query(query):
    """The query string a screen keeps: empty values, paging and format dropped, order kept."""
    pairs = [(k, v) for k, v in parse_qsl(query or "", keep_blank_values=False) if k not in NOT_SAVED and v.strip()]
    return urlencode(pairs)


@transaction.atomic
def save_screen(user, name, query):
    """Save (or overwrite, by name) a firms screen for this user. Errors name the field."""
    name = " ".join((name or "").split())
    if not name:
        raise _field_error("name", _("请填写筛选方案名称。"), "required")
    if len(name) > 80:
        raise _field_error("name", _("名称最长 80 个字符。"), "max_length")
    query = screen_query(query)
    if len(query) > 2000:
        raise _field_error("query", _("筛选条件过长。"), "max_length")
    screen, created = SavedScreen.objects.update_or_create(user=user, name=name, defaults={"query": query})
    if created and SavedScreen.objects.filter(user=user).count() > SAVED_SCREENS_MAX:
        raise _field_error("name", _("最多保存 %(max)d 个筛选方案，请先删除一些。") % {"max": SAVED_SCREENS_MAX}, "too_many")
    return screen


def delete_screen(user, screen_id):
    return SavedScreen.objects.filter(user=user, id=screen_id).delete()[0] > 0


def saved_screens(user):
    return list(SavedScreen.objects.filter(user=user).order_by("-updated_at", "-id"))
