"""`manage.py search_outbox [--replay]`: how many firms wait for the search index, and replay them."""

from django.core.management.base import BaseCommand, CommandError

from search import outbox


class Command(BaseCommand):
    help = "Show the search outbox (firms whose index update failed); --replay indexes them again."

    def add_arguments(self, parser):
        parser.add_argument("--replay", action="store_true", help="Index the pending firms again now.")

    def handle(self, *args, replay, **options):
        if replay:
            result = outbox.replay()
            self.stdout.write(f"Replayed {result['replayed']} firm(s); {result['pending']} pending.")
            if result["error"]:
                raise CommandError(f"Search is still unavailable: {result['error']}")
        state = outbox.status()
        if not state["pending"]:
            self.stdout.write("Search outbox: 0 firms pending; the index has every registry write.")
            return
        self.stdout.write(f"Search outbox: {state['pending']} firm(s) pending since {state['oldest']:%Y-%m-%d %H:%M}"
                          f" (last failure {state['latest']:%Y-%m-%d %H:%M}: {state['reason']}).")
