"""Groups of an org: the list, create, rename, delete, members and collection access."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from portal.access import Capability, collection_management, org_view
from portal.pagination import paginate, search_term

from ..forms.groups import GroupCollectionsForm, GroupMembersForm, GroupNameForm
from ..models import AccessLevel, Group
from ..selectors import collections as collection_selectors
from ..selectors import groups as selectors
from ..services.groups import (
    GroupError,
    group_add,
    group_collections_update,
    group_delete,
    group_members_update,
    group_rename,
)
from .orgs import org_page_context

TAB_PAGE_SIZE = 50


@require_GET
@org_view(Capability.GROUPS_MANAGE)
def groups(request, *, actor, org):
    search = search_term(request)
    page = paginate(request, selectors.group_list(org=org, search=search))
    return render(
        request, "clients/groups.html", org_page_context(actor, org, page=page, search=search)
    )


@require_http_methods(["GET", "POST"])
@org_view(Capability.GROUPS_MANAGE)
def group_new(request, *, actor, org):
    form = GroupNameForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            group = group_add(actor=actor, name=form.cleaned_data["name"])
        except GroupError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, f"Group “{group.name}” created. Now add its members.")
            return redirect("org_group_members", org_id=org.pk, group_id=group.pk)
    return render(request, "clients/group_new.html", org_page_context(actor, org, form=form))


@require_http_methods(["GET", "POST"])
@org_view(Capability.GROUPS_MANAGE)
def group_edit(request, *, actor, org, group_id):
    group = get_object_or_404(Group, org=org, pk=group_id)
    form = GroupNameForm(request.POST or None, initial={"name": group.name})
    if request.method == "POST" and form.is_valid():
        try:
            group = group_rename(actor=actor, group=group, name=form.cleaned_data["name"])
        except GroupError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, f"Group renamed to “{group.name}”.")
            return redirect("org_group_edit", org_id=org.pk, group_id=group.pk)
    context = org_page_context(actor, org, group=group, form=form, tab="name")
    return render(request, "clients/group_edit.html", context)


@require_http_methods(["GET", "POST"])
@org_view(Capability.GROUPS_MANAGE)
def group_members(request, *, actor, org, group_id):
    group = get_object_or_404(Group, org=org, pk=group_id)
    search = search_term(request)
    page = paginate(
        request, selectors.group_members(group=group, search=search), per_page=TAB_PAGE_SIZE
    )
    members = list(page.object_list)
    form = GroupMembersForm(request.POST or None, members=members)
    if request.method == "POST" and form.is_valid():
        try:
            added, removed = group_members_update(
                actor=actor,
                group=group,
                add_emails=form.cleaned_data["add_emails"],
                remove_ids=form.cleaned_data["remove"],
            )
        except GroupError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"Members saved: {len(added)} added, {len(removed)} removed.")
            return redirect(request.get_full_path())
    context = org_page_context(
        actor, org, group=group, form=form, page=page, search=search, tab="members"
    )
    return render(request, "clients/group_members.html", context)


@require_http_methods(["GET", "POST"])
@org_view(Capability.GROUPS_MANAGE)
def group_collections(request, *, actor, org, group_id):
    group = get_object_or_404(Group, org=org, pk=group_id)
    management = collection_management(actor)
    page = paginate(request, selectors.group_collection_rows(group=group), per_page=TAB_PAGE_SIZE)
    rows = [
        {
            **row,
            "editable": management.may_manage(row["principal"]),
            "level_label": AccessLevel(row["level"]).label,
        }
        for row in page
    ]
    addable = collection_selectors.collection_choices(org=org, only=management.managed_ids)
    form = GroupCollectionsForm(
        request.POST if request.method == "POST" else None, rows=rows, addable=addable
    )
    if request.method == "POST" and form.is_valid():
        try:
            access = group_collections_update(
                actor=actor, management=management, group=group, levels=form.levels()
            )
        except GroupError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                f"Collections saved: {len(access['added'])} added, "
                f"{len(access['changed'])} changed, {len(access['removed'])} removed.",
            )
            return redirect(request.get_full_path())
    context = org_page_context(
        actor,
        org,
        group=group,
        form=form,
        page=page,
        tab="collections",
        can_add_collections=management.manages_any,
    )
    return render(request, "clients/group_collections.html", context)


@require_http_methods(["GET", "POST"])
@org_view(Capability.GROUPS_MANAGE)
def group_delete_view(request, *, actor, org, group_id):
    group = get_object_or_404(Group, org=org, pk=group_id)
    if request.method == "POST":
        try:
            group_delete(actor=actor, group=group)
        except GroupError as error:
            messages.error(request, str(error))
            return redirect("org_groups", org_id=org.pk)
        messages.success(request, f"Group “{group.name}” deleted.")
        return redirect("org_groups", org_id=org.pk)
    context = org_page_context(
        actor, org, group=group, tab="delete", member_count=group.members.count()
    )
    return render(request, "clients/group_delete.html", context)
