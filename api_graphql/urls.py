from django.urls import path

from api_graphql.views import CultivarGraphQLView

urlpatterns = [
    path("graphql", CultivarGraphQLView.as_view(), name="graphql"),
]
