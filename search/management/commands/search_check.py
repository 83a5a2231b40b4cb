"""`manage.py search_check [--repair]`: does every firm have a search document, and every document a firm?

Exits with status 1 when something differs and was not repaired, so a monitor can run it as it is.
"""

from django.core.management.base import BaseCommand, CommandError

from search.backends.base import SearchUnavailable
from search.consistency import CHUNK, check_index


def _ids(sample: list[int], count: int) -> str:
    return ", ".join(map(str, sample)) + (", …" if count > len(sample) else "")


class Command(BaseCommand):
    help = ("Compare the search index with the registry by firm id: firms without a document, documents "
            "without a firm. --repair indexes the first and deletes the second.")

    def add_arguments(self, parser):
        parser.add_argument("--repair", action="store_true", help="Index the missing firms and delete the "
                            "documents left behind, a chunk at a time.")
        parser.add_argument("--chunk", type=int, default=CHUNK, help=f"Firm ids compared at a time (default {CHUNK}).")

    def handle(self, *args, repair, chunk, **options):
        if chunk < 1:
            raise CommandError(f"--chunk: must be at least 1 (got {chunk}).")
        try:
            report = check_index(repair=repair, chunk=chunk)
        except SearchUnavailable as error:
            raise CommandError(f"Search is unavailable: {error} Firms of a repair in progress are in the search "
                               "outbox (manage.py search_outbox).") from error
        self.stdout.write(f"Search index: {report.firms:,} firm(s) in the registry, {report.documents:,} document(s).")
        if not report.differences:
            self.stdout.write("Every firm has a document and every document a firm.")
            return
        if report.missing:
            self.stdout.write(f"{report.missing:,} firm(s) without a document (firm ids "
                              f"{_ids(report.missing_sample, report.missing)}).")
        if report.left_behind:
            self.stdout.write(f"{report.left_behind:,} document(s) without a firm (firm ids "
                              f"{_ids(report.left_behind_sample, report.left_behind)}).")
        if repair:
            self.stdout.write(f"Repaired: {report.repaired:,} firm id(s) indexed again or deleted from the index.")
            return
        raise CommandError("The index differs from the registry: run `manage.py search_check --repair`.")
