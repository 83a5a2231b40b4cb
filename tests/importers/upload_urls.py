"""The project's URLs plus the upload endpoint and exports (until cultivar/urls.py carries it)."""

from django.urls import include, path

from api_graphql.imports.views import UploadGraphQLView
from cultivar.urls import urlpatterns as base

urlpatterns = [
    path("graphql/upload", UploadGraphQLView.as_view(), name="graphql-upload"),
    path("", include("importers.urls")),
    *base,
]
