"""Commit hooks that run once per transaction, however many writes inside it ask for them.

A transaction may call the services many times (an import's chunks, a mutation's several writes):
the data version (registry.cache) must change once, and the rebuild of the precomputed tables
(registry.services.effects.queue_rebuild) be queued once, when it commits. Never on a rollback:
Django drops the hooks of a rolled-back transaction or savepoint, and with them the "already
queued" mark, so a retry queues again.
"""

import functools

from django.db import transaction


def queued(tag, using=None):
    """True when a hook registered with `tag` (on_commit_once) waits for this transaction's commit."""
    connection = transaction.get_connection(using)
    return connection.in_atomic_block and any(
        getattr(func, "once_per_commit", None) == tag for _, func, *_ in connection.run_on_commit)


def on_commit_once(func, tag=None, *, robust=False, using=None):
    """transaction.on_commit(func), unless a hook with the same `tag` (default: `func` itself) is queued
    in this transaction already. True when this call queued it. Outside a transaction `func` runs
    now, as with on_commit."""
    tag = func if tag is None else tag
    if queued(tag, using):
        return False

    @functools.wraps(func)  # its name in Django's log of a failed robust hook
    def hook():
        return func()

    hook.once_per_commit = tag
    transaction.on_commit(hook, using=using, robust=robust)
    return True
