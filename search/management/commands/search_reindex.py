"""Rebuild the search index from the registry: `manage.py search_reindex [--chunk-size N] [--workers N]`."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from search.backends import get_backend
from search.backends.base import SearchUnavailable
from search.indexing import firm_documents
from search.models import PendingIndex


class Command(BaseCommand):
    help = "Rebuild the firm search index from the registry (readers never see a half-built index)."

    def add_arguments(self, parser):
        parser.add_argument("--chunk-size", type=int, default=2000)
        parser.add_argument("--workers", type=int, default=1,
                            help="embedded backend: processes preparing documents (pinyin, tokens)")

    def handle(self, *args, chunk_size, workers, **options):
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1")
        if workers < 1:
            raise CommandError("--workers must be at least 1")
        backend = get_backend()
        started = timezone.now()
        docs = firm_documents(chunk_size=chunk_size)
        try:
            if hasattr(backend, "reindex"):  # Elasticsearch: new version + alias swap, under a lock
                count = backend.reindex(docs, chunk_size=min(chunk_size, 1000)).written
            else:
                count = backend.rebuild(docs, chunk_size=chunk_size, workers=workers)
        except SearchUnavailable as error:
            raise CommandError(f"search_reindex: {error}") from None
        # Every firm was read after `started`: failures recorded before it are mended (search/outbox.py).
        mended = PendingIndex.objects.filter(last_failed_at__lte=started).delete()[0]
        self.stdout.write(f"Indexed {count} firms." + (f" Cleared {mended} from the search outbox." if mended else ""))
