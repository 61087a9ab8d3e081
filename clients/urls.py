from django.urls import path

from . import views

urlpatterns = [
    path("<uuid:org_id>/", views.overview, name="org_overview"),
    path("<uuid:org_id>/members/", views.members, name="org_members"),
    path("<uuid:org_id>/groups/", views.groups, name="org_groups"),
    path("<uuid:org_id>/collections/", views.collections, name="org_collections"),
    path("<uuid:org_id>/events/", views.events, name="org_events"),
    path("<uuid:org_id>/settings/", views.settings_page, name="org_settings"),
]
