"""Issue an API token: `manage.py create_token USERNAME [--name N]`. The key is printed once, never stored."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from registry.models import ApiToken
from registry.permissions import role_of


class Command(BaseCommand):
    help = "Create an API token for a user and print its key (shown once; only its SHA-256 is kept)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="What the token is for, e.g. 'notebook'.")

    def handle(self, username, name, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user {username}; create one with grant_role first.")
        if role_of(user) is None:
            self.stderr.write(f"Warning: {username} has no Cultivar role yet; the API refuses role-less accounts.")
        token, key = ApiToken.issue(user, name=name)
        self.stderr.write(f"Token {token.prefix}… for {username}. Send it as 'Authorization: Token <key>'. "
                          "It is shown only now:")
        self.stdout.write(key)
