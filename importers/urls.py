from django.urls import path

from importers.views import export_view, rejected_rows_view

urlpatterns = [
    path("exports/<str:kind>.<str:fmt>", export_view, name="export"),
    path("imports/<int:job_id>/rejected", rejected_rows_view, name="import-rejected-rows"),
]
