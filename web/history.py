"""Saved screens and recent searches: every write to web.models goes through here."""

from urllib.parse import parse_qsl, urlencode

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from web.models import RecentSearch, SavedScreen

RECENT_SEARCHES_KEPT = 10
SAVED_SCREENS_MAX = 50
# Firms-page parameters a screen keeps (paging and export format are not part of a screen).
NOT_SAVED = {"page", "format", "csrfmiddlewaretoken"}


def _field_error(field, message, code="invalid"):
    return ValidationError({field: [ValidationError(message, code=code)]})


def remember_search(user, text):
    """Record a search (the same text again moves to the top); keep the last RECENT_SEARCHES_KEPT."""
    text = " ".join((text or "").split())[:200]
    if not text or not user.is_authenticated:
        return None
    if connection.vendor == "postgresql":
        return _remember_in_one_trip(user, text)
    with transaction.atomic():
        RecentSearch.objects.filter(user=user, text=text).delete()
        item = RecentSearch.objects.create(user=user, text=text)
        newest = RecentSearch.objects.filter(user=user).order_by("-created_at", "-id").values("id")[:RECENT_SEARCHES_KEPT]
        RecentSearch.objects.filter(user=user).exclude(id__in=newest).delete()
    return item


def _remember_in_one_trip(user, text):
    """remember_search on PostgreSQL in one statement, so one round trip (the ORM's transaction took
    six: a third of what a search page cost beyond its GraphQL twin at 1,000,000 firms, bench/pages.py).
    The parts of one WITH statement all see the table as it was before it: the other searches kept
    are the newest RECENT_SEARCHES_KEPT - 1 but this text."""
    table = connection.ops.quote_name(RecentSearch._meta.db_table)
    sql = (
        f"WITH gone AS (DELETE FROM {table} WHERE user_id = %(user)s AND text = %(text)s), "
        f"trimmed AS (DELETE FROM {table} WHERE user_id = %(user)s AND text <> %(text)s AND id NOT IN ("
        f"SELECT id FROM {table} WHERE user_id = %(user)s AND text <> %(text)s "
        f"ORDER BY created_at DESC, id DESC LIMIT %(others)s)), "
        f"added AS (INSERT INTO {table} (user_id, text, created_at) VALUES (%(user)s, %(text)s, %(now)s) RETURNING id) "
        "SELECT id FROM added"
    )
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(sql, {"user": user.pk, "text": text, "now": now, "others": RECENT_SEARCHES_KEPT - 1})
        (pk,) = cursor.fetchone()
    return RecentSearch(pk=pk, user=user, text=text, created_at=now)


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
