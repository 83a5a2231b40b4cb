"""API token authentication (`Authorization: Token <key>`).

Only the SHA-256 of a key is stored (ApiToken.hash_key). `last_used_at` is written at most once a
minute per token, so a busy notebook does not turn every read into a write.
"""

import datetime

from django.utils import timezone

from registry.models import ApiToken

TOUCH_INTERVAL = datetime.timedelta(minutes=1)
KEYWORD = "token"
# The token, its user and role in one query; the password hash and profile columns stay in the database.
TOKEN_COLUMNS = ("revoked", "last_used_at", "user__username", "user__is_active", "user__is_superuser",
                 "user__cultivar_role__user", "user__cultivar_role__role")


class TokenError(Exception):
    pass


def token_from_header(request):
    """The key in the Authorization header, or None when the header is not a token."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    parts = header.split()
    if not parts or parts[0].lower() != KEYWORD:
        return None
    if len(parts) != 2:
        raise TokenError("Malformed Authorization header: use 'Authorization: Token <key>'.")
    return parts[1]


def authenticate_token(key):
    """The active user behind a key, or TokenError (unknown, revoked, or inactive user)."""
    try:  # get() on the unique hash (no ORDER BY to compile, unlike first()), reading only what auth and scope need
        token = ApiToken.objects.select_related("user", "user__cultivar_role").only(*TOKEN_COLUMNS).get(
            key_hash=ApiToken.hash_key(key))
    except ApiToken.DoesNotExist:
        token = None
    if token is None or token.revoked or not token.user.is_active:
        raise TokenError("Invalid or revoked API token.")
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_INTERVAL:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
