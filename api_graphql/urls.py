from django.urls import path

from api_graphql.imports.views import UploadGraphQLView
from api_graphql.views import CultivarGraphQLView

urlpatterns = [
    path("graphql", CultivarGraphQLView.as_view(), name="graphql"),
    path("graphql/upload", UploadGraphQLView.as_view(), name="graphql-upload"),
]
