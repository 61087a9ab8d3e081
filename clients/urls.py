from django.urls import path

from vault.exports import views as exports
from vault.imports import views as imports

from .views import collections, events, groups, members, orgs

urlpatterns = [
    path("<uuid:org_id>/", orgs.overview, name="org_overview"),
    path("<uuid:org_id>/settings/", orgs.settings_page, name="org_settings"),
    path("<uuid:org_id>/members/", members.members, name="org_members"),
    path("<uuid:org_id>/members/invite/", members.member_invite_page, name="org_members_invite"),
    path("<uuid:org_id>/members/bulk/", members.members_bulk, name="org_members_bulk"),
    path(
        "<uuid:org_id>/members/<uuid:member_id>/edit/",
        members.member_edit,
        name="org_member_edit",
    ),
    path("<uuid:org_id>/leave/", members.member_leave_page, name="org_leave"),
    path("<uuid:org_id>/groups/", groups.groups, name="org_groups"),
    path("<uuid:org_id>/groups/new/", groups.group_new, name="org_group_new"),
    path("<uuid:org_id>/groups/<uuid:group_id>/edit/", groups.group_edit, name="org_group_edit"),
    path(
        "<uuid:org_id>/groups/<uuid:group_id>/members/",
        groups.group_members,
        name="org_group_members",
    ),
    path(
        "<uuid:org_id>/groups/<uuid:group_id>/collections/",
        groups.group_collections,
        name="org_group_collections",
    ),
    path(
        "<uuid:org_id>/groups/<uuid:group_id>/delete/",
        groups.group_delete_view,
        name="org_group_delete",
    ),
    path("<uuid:org_id>/collections/", collections.collections, name="org_collections"),
    path("<uuid:org_id>/collections/new/", collections.collection_new, name="org_collection_new"),
    path(
        "<uuid:org_id>/collections/<uuid:collection_id>/edit/",
        collections.collection_edit,
        name="org_collection_edit",
    ),
    path(
        "<uuid:org_id>/collections/<uuid:collection_id>/access/",
        collections.collection_access,
        name="org_collection_access",
    ),
    path(
        "<uuid:org_id>/collections/<uuid:collection_id>/delete/",
        collections.collection_delete_view,
        name="org_collection_delete",
    ),
    path("<uuid:org_id>/events/", events.events, name="org_events"),
    path("<uuid:org_id>/events/export.csv", events.events_export, name="org_events_export"),
    path("<uuid:org_id>/export/", exports.export_page, name="org_export"),
    path("<uuid:org_id>/import/", imports.import_page, name="org_import"),
    path("<uuid:org_id>/import/<uuid:job_id>/", imports.import_job_page, name="org_import_job"),
]
