from django.urls import path

from . import views

urlpatterns = [
    path("<uuid:provider_id>/", views.dashboard, name="provider_dashboard"),
    path(
        "<uuid:provider_id>/banner/dismiss/",
        views.banner_dismiss,
        name="provider_banner_dismiss",
    ),
    # Provider users
    path("<uuid:provider_id>/users/", views.provider_users, name="provider_users"),
    path(
        "<uuid:provider_id>/users/invite/",
        views.provider_users_invite,
        name="provider_users_invite",
    ),
    path(
        "<uuid:provider_id>/users/resend/",
        views.provider_users_resend,
        name="provider_users_resend",
    ),
    path(
        "<uuid:provider_id>/users/<uuid:provider_user_id>/",
        views.provider_user_detail,
        name="provider_user_detail",
    ),
    path(
        "<uuid:provider_id>/users/<uuid:provider_user_id>/role/",
        views.provider_user_role,
        name="provider_user_role",
    ),
    path(
        "<uuid:provider_id>/users/<uuid:provider_user_id>/scope/",
        views.provider_user_scope,
        name="provider_user_scope",
    ),
    path(
        "<uuid:provider_id>/users/<uuid:provider_user_id>/confirm/",
        views.provider_user_confirm,
        name="provider_user_confirm",
    ),
    path(
        "<uuid:provider_id>/users/<uuid:provider_user_id>/remove/",
        views.provider_user_remove,
        name="provider_user_remove",
    ),
    # Clients
    path("<uuid:provider_id>/clients/new/", views.client_create, name="provider_client_create"),
    path("<uuid:provider_id>/clients/add/", views.client_add, name="provider_client_add"),
    path(
        "<uuid:provider_id>/clients/<uuid:client_id>/",
        views.client_edit,
        name="provider_client_edit",
    ),
    path(
        "<uuid:provider_id>/clients/<uuid:client_id>/unlink/",
        views.client_unlink,
        name="provider_client_unlink",
    ),
    # Seats and billing
    path("<uuid:provider_id>/billing/", views.billing, name="provider_billing"),
    path(
        "<uuid:provider_id>/billing/export/",
        views.billing_export,
        name="provider_billing_export",
    ),
    path(
        "<uuid:provider_id>/billing/internal-team/",
        views.internal_org,
        name="provider_internal_org",
    ),
    path(
        "<uuid:provider_id>/settings/two-step/",
        views.two_step_setting,
        name="provider_two_step_setting",
    ),
    # Event logs
    path("<uuid:provider_id>/events/", views.events, name="provider_events"),
    path(
        "<uuid:provider_id>/events/export/",
        views.events_export,
        name="provider_events_export",
    ),
    path(
        "<uuid:provider_id>/client-events/",
        views.client_events,
        name="provider_client_events",
    ),
    path(
        "<uuid:provider_id>/client-events/export/",
        views.client_events_export,
        name="provider_client_events_export",
    ),
]
