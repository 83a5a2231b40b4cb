"""Signals the registry sends after its services change data, for listeners outside the registry.

`firms_changed(firm_ids=..., changed=...)` is sent once per written batch, inside the writing
transaction, by registry.services.effects.after_write (after the registry's own side effects ran):
the search index queues the firms on commit, an import job collects the firms it wrote. Listeners
that talk to the outside world must defer with transaction.on_commit.
"""

from django.dispatch import Signal

firms_changed = Signal()
