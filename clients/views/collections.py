"""Collections of an org: the list, create, rename, delete, and the access tab.

Those with `COLLECTIONS_MANAGE` manage them all; a member who "can manage" a
collection manages its name and access (the permission layer decides which).
Provider staff see the structure and counts, never an item.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from portal.access import collections_view
from portal.pagination import paginate, search_term

from ..forms.collections import LEVEL_CHOICES, AccessForm, CollectionNameForm
from ..models import AccessLevel
from ..selectors import collections as selectors
from ..services.collections import (
    AccessChange,
    CollectionError,
    collection_access_update,
    collection_add,
    collection_delete,
    collection_rename,
)
from .orgs import org_page_context

ACCESS_PAGE_SIZE = 100


def _collection_or_404(org, management, collection_id, *, need_all: bool = False):
    """The org's collection (404 for any other id), 403 when the actor may not manage it."""
    collection = org.collections.filter(pk=collection_id).first()
    if collection is None:
        raise Http404
    if not management.may_manage(collection.pk) or (need_all and not management.manages_all):
        raise PermissionDenied
    return collection


@require_GET
@collections_view
def collections(request, *, actor, org, management):
    search = search_term(request)
    scope = selectors.collection_list(org=org, search=search, only=management.managed_ids)
    page = paginate(request, selectors.collection_ids_nested(scope))
    rows = [
        {
            "collection": collection,
            "parent": collection.name.rpartition("/")[0],
            "can_edit": management.may_manage(collection.pk),
            "can_delete": management.may_delete(collection),
        }
        for collection in selectors.collections_by_ids(org=org, ids=list(page.object_list))
    ]
    context = org_page_context(
        actor, org, page=page, rows=rows, search=search, can_create=management.may_create
    )
    return render(request, "clients/collections.html", context)


@require_http_methods(["GET", "POST"])
@collections_view
def collection_new(request, *, actor, org, management):
    if not management.may_create:
        raise PermissionDenied
    form = CollectionNameForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            collection = collection_add(
                actor=actor, management=management, name=form.cleaned_data["name"]
            )
        except CollectionError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, f"Collection “{collection.name}” created.")
            return redirect("org_collection_access", org_id=org.pk, collection_id=collection.pk)
    return render(request, "clients/collection_new.html", org_page_context(actor, org, form=form))


def _tabs_context(actor, org, management, collection, **extra):
    return org_page_context(
        actor,
        org,
        collection=collection,
        can_delete=management.may_delete(collection),
        **extra,
    )


@require_http_methods(["GET", "POST"])
@collections_view
def collection_edit(request, *, actor, org, management, collection_id):
    collection = _collection_or_404(org, management, collection_id)
    form = CollectionNameForm(request.POST or None, initial={"name": collection.name})
    if request.method == "POST" and form.is_valid():
        try:
            collection = collection_rename(
                actor=actor,
                management=management,
                collection=collection,
                name=form.cleaned_data["name"],
            )
        except CollectionError as error:
            form.add_error("name", str(error))
        else:
            messages.success(request, f"Collection renamed to “{collection.name}”.")
            return redirect("org_collection_edit", org_id=org.pk, collection_id=collection.pk)
    context = _tabs_context(actor, org, management, collection, form=form, tab="name")
    return render(request, "clients/collection_edit.html", context)


@require_http_methods(["GET", "POST"])
@collections_view
def collection_access(request, *, actor, org, management, collection_id):
    collection = _collection_or_404(org, management, collection_id)
    page = paginate(
        request, selectors.collection_access_rows(collection=collection), per_page=ACCESS_PAGE_SIZE
    )
    rows = list(page.object_list)
    form = AccessForm(request.POST if request.method == "POST" else None, rows=rows)
    if request.method == "POST" and form.is_valid():
        change = AccessChange(
            levels=form.levels(),
            add_member_email=form.cleaned_data["add_member_email"],
            add_group_name=form.cleaned_data["add_group_name"],
            add_level=form.cleaned_data["add_level"],
        )
        try:
            diff = collection_access_update(
                actor=actor, management=management, collection=collection, change=change
            )
        except CollectionError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                f"Access saved: {len(diff.added)} added, {len(diff.changed)} changed, "
                f"{len(diff.removed)} removed.",
            )
            url = request.get_full_path()
            return redirect(url)
    context = _tabs_context(
        actor,
        org,
        management,
        collection,
        form=form,
        page=page,
        tab="access",
        levels=AccessLevel.choices,
        level_choices=LEVEL_CHOICES,
    )
    return render(request, "clients/collection_access.html", context)


@require_http_methods(["GET", "POST"])
@collections_view
def collection_delete_view(request, *, actor, org, management, collection_id):
    collection = _collection_or_404(org, management, collection_id, need_all=True)
    if request.method == "POST":
        try:
            moved = collection_delete(actor=actor, management=management, collection=collection)
        except CollectionError as error:
            messages.error(request, str(error))
            return redirect("org_collection_delete", org_id=org.pk, collection_id=collection.pk)
        messages.success(
            request,
            f"Collection “{collection.name}” deleted; {moved} item(s) moved to the default "
            "collection.",
        )
        return redirect("org_collections", org_id=org.pk)
    context = _tabs_context(
        actor,
        org,
        management,
        collection,
        tab="delete",
        items_to_move=selectors.items_to_move_count(collection=collection),
    )
    return render(request, "clients/collection_delete.html", context)
