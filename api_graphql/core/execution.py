"""Execution context that lets per-request dataloaders batch (graphql-sync-dataloaders).

graphql-sync-dataloaders 0.1.1 calls `handle_field_error(error, return_type)`, while graphql-core
3.2.14 expects a third `path` argument; without this shim any field error inside a deferred
resolver turns the whole response into "missing 1 required positional argument: 'path'".
"""

from graphql import is_non_null_type
from graphql_sync_dataloaders import DeferredExecutionContext


class CultivarExecutionContext(DeferredExecutionContext):
    def handle_field_error(self, error, return_type, path=None):
        if is_non_null_type(return_type):
            raise error
        if path is not None:
            self.collected_errors.add(error, path)
        else:  # called by graphql-sync-dataloaders: the error is located already (error.path)
            self.collected_errors.errors.append(error)
        return None
