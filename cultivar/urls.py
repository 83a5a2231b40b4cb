from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("api_graphql.urls")),
    path("", include("importers.urls")),
    path("", include("web.urls", namespace="web")),
]
