from django.urls import path

from api_graphql.imports.views import UploadGraphQLView
from api_graphql.schema import schema
from api_graphql.views import CultivarGraphQLView

# The schema is built when the URLconf loads (~0.8 s), which a server does at start-up
# (cultivar/wsgi.py), not inside the first request as graphene-django's lazy setting would.
urlpatterns = [
    path("graphql", CultivarGraphQLView.as_view(schema=schema), name="graphql"),
    path("graphql/upload", UploadGraphQLView.as_view(schema=schema), name="graphql-upload"),
]
