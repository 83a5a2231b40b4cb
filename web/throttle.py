"""Sign-in throttling against password guessing: a few failures per username + IP per window.

Counted in Django's cache (per process with the default LocMemCache; shared between processes when
CACHES points at Redis). A throttled pair is refused even with the right password until the window
ends, and the message says how long to wait. A successful sign-in clears the count.
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache


def _key(username, ip):
    digest = hashlib.sha256(f"{(username or '').strip().lower()}|{ip or ''}".encode()).hexdigest()
    return f"web-login-failures:{digest}"


def limits():
    return settings.WEB_LOGIN_MAX_FAILURES, settings.WEB_LOGIN_WINDOW_SECONDS


def wait_seconds(username, ip):
    """Seconds until this username + IP may try again (0: may try now)."""
    max_failures, _ = limits()
    entry = cache.get(_key(username, ip))
    if not entry or entry["count"] < max_failures:
        return 0
    return max(1, int(entry["until"] - time.time()))


def record_failure(username, ip):
    max_failures, window = limits()
    key = _key(username, ip)
    entry = cache.get(key)
    now = time.time()
    if not entry or entry["until"] <= now:
        entry = {"count": 0, "until": now + window}  # a fixed window from the first failure
    entry["count"] += 1
    cache.set(key, entry, timeout=max(1, int(entry["until"] - now)))
    return entry["count"]


def clear(username, ip):
    cache.delete(_key(username, ip))


def client_ip(request):
    # REMOTE_ADDR only: X-Forwarded-For is set by the client unless a trusted proxy rewrites it.
    return request.META.get("REMOTE_ADDR", "")
