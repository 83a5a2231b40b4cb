import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cultivar.settings")
application = get_wsgi_application()
# Load the URLconf (views, the GraphQL schema) now, at start-up: in gunicorn's master with preload_app,
# so forked workers share it and their first request does not pay for it.
get_resolver().url_patterns  # noqa: B018
# Then warm the rest a first request would pay for (api_graphql/warmup.py; CULTIVAR_WARMUP=0 turns it off).
from api_graphql.warmup import warm_up  # noqa: E402 - needs the application set up

warm_up()
