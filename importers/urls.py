from django.urls import path

from importers.views import export_view

urlpatterns = [path("exports/<str:kind>.<str:fmt>", export_view, name="export")]
