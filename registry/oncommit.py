"""Commit hooks that run once per transaction, however many writes inside it ask for them.

A transaction may call the services many times (an import's chunks, a mutation's several writes):
the data version (registry.cache) must change once, and the rebuild of the precomputed tables
(registry.services.effects.queue_rebuild) be queued once, when it commits. Never on a rollback:
Django drops the hooks of a rolled-back transaction or savepoint, and with them the "already
queued" mark, so a retry queues again.
"""

from django.db import transaction


def queued(tag, using=None):
    """True when a hook registered with `tag` (on_commit_once) waits for this transaction's commit."""
    connection = transaction.get_connection(using)
    return connection.in_atomic_block and any(
        getattr(func, "once_per_commit", func) == tag for _, func, *_ in connection.run_on_commit)


def on_commit_once(func, tag=None, *, robust=False, using=None):
    """transaction.on_commit(func), unless a hook with the same `tag` is queued in this transaction
    already. True when this call queued it. No tag: `func` itself is the tag (a module function);
    with one, `func` is marked with it (a closure made for this call). Outside a transaction `func`
    runs now, as with on_commit."""
    if tag is None:
        tag = func
    if queued(tag, using):
        return False
    if tag is not func:
        func.once_per_commit = tag
    transaction.on_commit(func, using=using, robust=robust)
    return True
