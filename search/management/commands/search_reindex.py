"""Rebuild the search index from the registry: `manage.py search_reindex [--chunk-size N] [--workers N]`."""

from django.core.management.base import BaseCommand, CommandError
from django.db import reset_queries
from django.utils import timezone

from cultivar.console import CommandConsole, add_output_arguments
from search.backends import get_backend
from search.backends.base import SearchUnavailable
from search.indexing import firm_documents
from search.models import PendingIndex


def reindex(out, chunk_size=2000, workers=1):
    """Rebuild the index as one progress phase of `out` (a CommandConsole); returns the firms indexed.
    seed_demo calls this too."""
    from registry.models import Firm

    backend = get_backend()
    started = timezone.now()
    with out.phase("search index", total=Firm.objects.count(), unit="firms") as phase:
        def counted(docs):
            for n, doc in enumerate(docs, 1):
                if n % 500 == 0:
                    phase.update(n)
                    reset_queries()  # DEBUG's query log would otherwise hold the chunk queries
                yield doc

        docs = counted(firm_documents(chunk_size=chunk_size))
        try:
            if hasattr(backend, "reindex"):  # Elasticsearch: new version + alias swap, under a lock
                count = backend.reindex(docs, chunk_size=min(chunk_size, 1000)).written
            else:
                from search.backends.embedded import fix_allocation_thresholds

                fix_allocation_thresholds()  # the writer's freed pages go back (this process ends with the build)
                count = backend.rebuild(docs, chunk_size=chunk_size, workers=workers)
        except SearchUnavailable as error:
            raise CommandError(f"search_reindex: {error}") from None
        phase.update(count)
    # Every firm was read after `started`: failures recorded before it are mended (search/outbox.py).
    mended = PendingIndex.objects.filter(last_failed_at__lte=started).delete()[0]
    if mended:
        out.print(f"Cleared {mended:,} firms from the search outbox.")
    return count


class Command(BaseCommand):
    help = "Rebuild the firm search index from the registry (readers never see a half-built index)."

    def add_arguments(self, parser):
        parser.add_argument("--chunk-size", type=int, default=2000)
        parser.add_argument("--workers", type=int, default=1,
                            help="embedded backend: processes preparing documents (pinyin, tokens)")
        add_output_arguments(parser)

    def handle(self, *args, chunk_size, workers, **options):
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1")
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        out = CommandConsole.for_command(self, options)
        count = reindex(out, chunk_size=chunk_size, workers=workers)
        out.print(f"Indexed {count:,} firms.")
        out.finish({"indexed": count})
