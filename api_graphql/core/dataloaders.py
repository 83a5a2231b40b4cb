"""Per-request batch loaders (Saleor's `graphql/core/dataloaders.py`, on graphql-sync-dataloaders).

A resolver asks `Loader.for_request(info).load(key)`; every key asked for while one level of the
query executes is fetched in ONE query when the execution context (DeferredExecutionContext)
runs the deferred callbacks. The loader lives on the request, so nothing leaks between requests.
"""

from collections import defaultdict

from graphql_sync_dataloaders import SyncDataLoader, SyncFuture

CONTEXT_ATTR = "_cultivar_loaders"


class BaseLoader(SyncDataLoader):
    """Subclass and implement `batch_load(keys) -> list of values in key order`."""

    def __init__(self, context):
        self.context = context
        super().__init__(self.batch_load)

    @classmethod
    def for_request(cls, info):
        context = info.context
        loaders = getattr(context, CONTEXT_ATTR, None)
        if loaders is None:
            loaders = {}
            setattr(context, CONTEXT_ATTR, loaders)
        if cls not in loaders:
            loaders[cls] = cls(context)
        return loaders[cls]

    def batch_load(self, keys):  # pragma: no cover - abstract
        raise NotImplementedError


class ByKeyLoader(BaseLoader):
    """Load objects by a unique key: `queryset(keys)` returns the rows, `key_of(row)` their key."""

    def queryset(self, keys):  # pragma: no cover - abstract
        raise NotImplementedError

    def key_of(self, row):
        return row.pk

    def batch_load(self, keys):
        found = {self.key_of(row): row for row in self.queryset(set(keys))}
        return [found.get(key) for key in keys]


class ListByKeyLoader(ByKeyLoader):
    """Load a list of rows per key (children of a parent), in the queryset's order."""

    def batch_load(self, keys):
        grouped = defaultdict(list)
        for row in self.queryset(set(keys)):
            grouped[self.key_of(row)].append(row)
        return [grouped.get(key, []) for key in keys]


def then(value, fn):
    """Apply fn to a loaded value, whether it is already there or still a SyncFuture."""
    if not isinstance(value, SyncFuture):
        return fn(value)
    if value.done():
        return fn(value.result())
    out = SyncFuture()
    out.deferred_callback = value.deferred_callback

    def finish():
        try:
            out.set_result(fn(value.result()))
        except Exception as error:  # noqa: BLE001 - handed to graphql as a field error
            out.set_exception(error)

    value.add_done_callback(finish)
    return out
