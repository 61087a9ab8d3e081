from django.urls import path

from .views import collections, events, groups, members, orgs

urlpatterns = [
    path("<uuid:org_id>/", orgs.overview, name="org_overview"),
    path("<uuid:org_id>/settings/", orgs.settings_page, name="org_settings"),
    path("<uuid:org_id>/members/", members.members, name="org_members"),
    path("<uuid:org_id>/groups/", groups.groups, name="org_groups"),
    path("<uuid:org_id>/collections/", collections.collections, name="org_collections"),
    path("<uuid:org_id>/events/", events.events, name="org_events"),
]
