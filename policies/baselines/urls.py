"""Under providers/<provider_id>/baselines/ (portal/urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.baselines, name="provider_baselines"),
    path("new/", views.baseline_create, name="provider_baseline_create"),
    path("<uuid:baseline_id>/", views.baseline_edit, name="provider_baseline_edit"),
    path("<uuid:baseline_id>/delete/", views.baseline_delete, name="provider_baseline_delete"),
    path("<uuid:baseline_id>/apply/", views.baseline_apply, name="provider_baseline_apply"),
    path("jobs/<uuid:job_id>/", views.baseline_job, name="provider_baseline_job"),
    path("clients/<uuid:client_id>/", views.client_baseline, name="provider_client_baseline"),
]
