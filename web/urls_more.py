"""URLs of the search, analytics and imports pages, included by web/urls.py (namespace "web")."""

from django.urls import path

from web.views import analytics, imports, search

urlpatterns = [
    path("search/", search.search, name="search"),
    path("search/suggest/", search.suggest, name="search_suggest"),
    path("search/export.<str:fmt>", search.export, name="search_export"),
    path("analytics/", analytics.analytics_page, name="analytics"),
    path("analytics/cohort/", analytics.cohort_page, name="analytics_cohort"),
    path("analytics/export/<str:which>.<str:fmt>", analytics.export, name="analytics_export"),
    path("imports/", imports.imports_page, name="imports"),
    path("imports/<int:job_id>/", imports.job_page, name="import_job"),
    path("imports/<int:job_id>/progress/", imports.job_progress, name="import_job_progress"),
    path("imports/<int:job_id>/import/", imports.job_rerun, name="import_job_rerun"),
    path("imports/<int:job_id>/rejected/", imports.job_rejected, name="import_job_rejected"),
    path("imports/review/", imports.review_page, name="import_review"),
    path("imports/review/<int:item_id>/accept/", imports.review_accept, name="import_review_accept"),
    path("imports/review/<int:item_id>/reject/", imports.review_reject, name="import_review_reject"),
]
