"""The members' vault pages. Thin: the permission layer resolves, a form validates,
one service writes. Every page is `no-store` (item names are secrets too), and
every page answers 404 to provider staff: `vault_view` sees to it. Views whose
requests carry secrets (typed passwords, search text, the account password) are
`sensitive_post_parameters`, so no error report can quote them.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode
from uuid import UUID

from django import forms
from django.contrib import messages
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clients.views import org_page_context
from policies.types.password_generator import generate as generate_by_policy
from portal.access import vault_view

from . import selectors
from .content import ContentError, ItemContent, ItemType, generate_password
from .crypto import ItemUnreadable, KeyChain, open_item
from .display import MASK, item_display
from .forms import ITEM_FORMS, ItemEditor, ItemFilterForm, MoveForm, item_editor
from .list_rows import item_rows_html
from .services import (
    GONE_MESSAGE,
    ItemChanged,
    ItemGone,
    VaultError,
    item_create,
    item_delete,
    item_favorite_set,
    item_move,
    item_password_copy,
    item_restore,
    item_secret_reveal,
    item_trash,
    item_unreadable_record,
    item_update,
    item_view_record,
)
from .totp import current_code

# A stored value that fails to open: 409 Conflict. The item's stored state conflicts
# with its integrity check, a lasting state (until an owner or the operator restores
# the row) that no change to the request can fix, so not 422, which says the request
# was wrong. Not 500 either: nothing crashed, the portal refused on purpose, and the
# project answers no user-reachable page with a 5xx (monitors page on-call for those,
# and TLS proxies may swap a 5xx body for their own page, hiding this explanation).
# The operators' signal is the ERROR log line and the event in the org's log.
UNREADABLE_STATUS = 409


def answers_unreadable(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A ciphertext that fails to open: audit it and answer a generic page, status 409.

    The event is recorded here, after the service's transaction has rolled back.
    See `UNREADABLE_STATUS` for why 409.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args, actor, org, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, actor=actor, org=org, **kwargs)
        except ItemUnreadable as failure:
            item_unreadable_record(failure=failure, actor=actor)
            context = org_page_context(actor, org, failed_item_id=failure.item_id)
            return render(request, "vault/unreadable.html", context, status=UNREADABLE_STATUS)

    return wrapper


def _found_or_404(access, item_id: UUID, **reading) -> selectors.ItemAccess:
    """`reading`: what else to read with the item (see `selectors.item_access`)."""
    found = selectors.item_access(access=access, item_id=item_id, **reading)
    if found is None:
        raise Http404
    return found


def _editable_or_403(access, item_id: UUID) -> selectors.ItemAccess:
    found = _found_or_404(access, item_id)
    if not found.grant.can_edit:
        raise PermissionDenied
    return found


# --------------------------------------------------------------------------
# The list
# --------------------------------------------------------------------------


@never_cache
@sensitive_post_parameters()
@vault_view
@require_http_methods(["GET", "POST"])  # POST: searches keep item names out of URLs and logs
@answers_unreadable
def item_list(request, *, actor, org, access):
    collections = selectors.visible_collections(access)
    if request.method == "POST":
        params = request.POST
    else:
        # Search text travels by POST only; a crafted ?q= is ignored, not honoured.
        params = request.GET.copy()
        params.pop("q", None)
    filter_form = ItemFilterForm(params, collections=collections)
    item_filter = _item_filter(filter_form)
    result = selectors.item_list_page(
        access=access,
        item_filter=item_filter,
        page_params=params,
        keychain=KeyChain(org.pk),
        collections=collections,
    )
    for failure in result.failures:
        item_unreadable_record(failure=failure, actor=actor)
    context = org_page_context(
        actor,
        org,
        filter_form=filter_form,
        item_filter=item_filter,
        result=result,
        rows_html=item_rows_html(result.rows),
        page=result.page,
        collections=collections,
        item_types=ItemType.choices,
        can_create=any(access.can_add_to(c.pk) for c in collections),
        extra_query=_filter_query(item_filter),
    )
    return render(request, "vault/item_list.html", context)


def _item_filter(form: ItemFilterForm) -> selectors.ItemFilter:
    if not form.is_valid():
        return selectors.ItemFilter()
    data = form.cleaned_data
    return selectors.ItemFilter(
        collection_id=UUID(data["collection"]) if data.get("collection") else None,
        item_type=data.get("type") or None,
        favorites=data.get("favorites", False),
        trash=data.get("trash", False),
        search=data.get("q", ""),
    )


def _filter_query(item_filter: selectors.ItemFilter) -> str:
    """The filters (never the search) as a query string for page links."""
    params = {
        "collection": item_filter.collection_id or "",
        "type": item_filter.item_type or "",
        "favorites": "1" if item_filter.favorites else "",
        "trash": "1" if item_filter.trash else "",
    }
    return urlencode({key: value for key, value in params.items() if value})


# --------------------------------------------------------------------------
# Create and edit
# --------------------------------------------------------------------------


@never_cache
@vault_view
@require_GET
def item_type_choose(request, *, actor, org, access):
    if not selectors.editable_collections(access):
        raise PermissionDenied
    item_types = [(v, label) for v, label in ItemType.choices if v not in access.hidden_item_types]
    context = org_page_context(actor, org, item_types=item_types)
    return render(request, "vault/item_type_choose.html", context)


@never_cache
@sensitive_post_parameters()
@vault_view
@require_http_methods(["GET", "POST"])
@answers_unreadable
def item_new(request, item_type: str, *, actor, org, access):
    if item_type not in ITEM_FORMS or item_type in access.hidden_item_types:
        raise Http404
    collections = selectors.editable_collections(access)
    if not collections:
        raise PermissionDenied
    data = _with_generated_password(request, access)
    editor = item_editor(item_type, data=data, collections=collections)
    if request.method == "POST" and "generate" not in request.POST and editor.is_valid():
        try:
            edit = editor.to_edit()
            item = item_create(
                access=access,
                content=edit.content,
                collection_ids=[UUID(pk) for pk in editor.collection_ids()],
                reprompt=edit.reprompt,
            )
        except (VaultError, ContentError) as error:
            _add_errors(editor.form, error)
        else:
            messages.success(request, "Item created.")
            return redirect("vault_item_detail", org_id=org.pk, item_id=item.pk)
    return _form_page(request, actor, org, access, editor, item_type=item_type)


@never_cache
@sensitive_post_parameters()
@vault_view
@require_http_methods(["GET", "POST"])
@answers_unreadable
def item_edit(request, item_id: UUID, *, actor, org, access):
    keychain = KeyChain(org.pk)
    found = selectors.item_access(access=access, item_id=item_id, keychain=keychain)
    if found is None:
        if request.method == "POST":
            return _edit_gone(request, actor, org, access)
        raise Http404
    if not found.grant.can_edit:
        raise PermissionDenied
    if found.item.in_trash and request.method == "GET":
        # (A POST reaches the service, which says so on the form, keeping what was typed.)
        messages.error(request, "Restore the item from the trash to edit it.")
        return redirect("vault_item_detail", org_id=org.pk, item_id=item_id)
    content = open_item(found.grant, found.item, keychain)
    editor = item_editor(
        found.item.type,
        data=_with_generated_password(request, access),
        content=content,
        reprompt=found.item.reprompt,
        revision=found.item.revision,
        can_see_secrets=found.grant.can_see_secrets,
    )
    if request.method == "POST" and "generate" not in request.POST and editor.is_valid():
        return _save_edit(request, actor, org, access, found, editor)
    return _form_page(request, actor, org, access, editor, item=found.item)


REPROMPT_OFF_MESSAGE = (
    "Type your account password to stop asking for it on this item. Nothing was saved."
)


def _save_edit(request, actor, org, access, found, editor: ItemEditor) -> HttpResponse:
    """Write a valid edit; if refused, the form again with what was typed and why."""
    edit = editor.to_edit()
    if found.item.reprompt and not edit.reprompt and not _account_password_ok(request):
        # Else a stolen session could switch the re-prompt off, then reveal without it.
        editor.form.add_error("account_password", REPROMPT_OFF_MESSAGE)
        return _form_page(request, actor, org, access, editor, item=found.item, status=403)
    try:
        item_update(
            access=access,
            item_id=found.item.pk,
            revision=editor.form.cleaned_data.get("revision") or 0,
            edit=edit,
        )
    except ItemChanged as error:
        _add_errors(editor.form, error)
        _replace_revision(editor, found.item.revision)
        return _form_page(request, actor, org, access, editor, item=found.item, status=409)
    except ItemGone as error:
        _add_errors(editor.form, error)
        return _form_page(
            request, actor, org, access, editor, item=found.item, status=409, gone=True
        )
    except (VaultError, ContentError) as error:
        _add_errors(editor.form, error)
        return _form_page(request, actor, org, access, editor, item=found.item)
    messages.success(request, "Item saved.")
    return redirect("vault_item_detail", org_id=org.pk, item_id=found.item.pk)


def _edit_gone(request, actor, org, access) -> HttpResponse:
    """The item went away while its form was open: say so, and keep what was typed."""
    item_type = request.POST.get("item_type", "")
    if item_type not in ITEM_FORMS:
        raise Http404
    placeholder = ItemContent(type=item_type, name="")
    editor = item_editor(item_type, data=request.POST, content=placeholder)
    editor.form.is_valid()
    editor.form.add_error(None, f"{GONE_MESSAGE} Copy anything you typed that you want to keep.")
    return _form_page(
        request, actor, org, access, editor, item_type=item_type, status=409, gone=True
    )


def _with_generated_password(request, access):
    """The posted data, with a fresh password when the no-JavaScript "Generate" was pressed
    (or any "Generate" under a password generator policy, whose rules the server applies)."""
    if request.method != "POST":
        return None
    if "generate" not in request.POST:
        return request.POST
    data = request.POST.copy()
    data["password"] = (
        generate_password()
        if access.generator_settings is None
        else generate_by_policy(access.generator_settings)
    )
    return data


def _replace_revision(editor: ItemEditor, revision: int) -> None:
    """After a conflict, saving again (on purpose) replaces the newer version."""
    editor.form.data = editor.form.data.copy()
    editor.form.data["revision"] = str(revision)


def _add_errors(form: forms.Form, error: Exception) -> None:
    for message in getattr(error, "messages", None) or [str(error)]:
        form.add_error(None, message)


def _form_page(
    request,
    actor,
    org,
    access,
    editor: ItemEditor,
    *,
    item=None,
    item_type=None,
    status=200,
    gone=False,
) -> HttpResponse:
    item_type = item.type if item is not None else item_type
    context = org_page_context(
        actor,
        org,
        editor=editor,
        form=editor.form,
        item=item,
        item_type=item_type,
        type_label=ItemType(item_type).label,
        show_errors=request.method == "POST" and "generate" not in request.POST,
        generated="generate" in request.POST,
        # A password generator policy: "Generate" posts to the server, which follows it.
        generator_on_server=access.generator_settings is not None,
        gone=gone,
    )
    return render(request, "vault/item_form.html", context, status=status)


# --------------------------------------------------------------------------
# One item: view, reveal, copy, TOTP
# --------------------------------------------------------------------------


@never_cache
@sensitive_post_parameters()
@vault_view
@require_http_methods(["GET", "POST"])
@answers_unreadable
def item_detail(request, item_id: UUID, *, actor, org, access):
    """GET: the item, secrets masked, audited as viewed (once: the TOTP code it shows and
    its countdown's refreshes are part of the view). POST `field=<target>`: reveal one
    secret, its own audited request, answered with the item page at the item's own
    address (no /reveal/ URL left in the address bar; the value is only in this response,
    never in the session or the database). An item whose stored data fails to open
    answers our own page with 409 Conflict (see `UNREADABLE_STATUS`), never a 500."""
    keychain = KeyChain(org.pk)
    found = _found_or_404(access, item_id, keychain=keychain, with_favorite=True)
    content = open_item(found.grant, found.item, keychain)
    if request.method == "POST":
        return _reveal(request, actor, org, found, content)
    item_view_record(grant=found.grant)
    return _detail_page(request, actor, org, found, content)


def _reveal(request, actor, org, found, content) -> HttpResponse:
    """Show one secret: the item page with only that value shown (after the re-prompt)."""
    if found.item.reprompt and not _account_password_ok(request):
        error = "That is not your account password. Nothing was shown."
        return _detail_page(request, actor, org, found, content, error=error, status=403)
    target = request.POST.get("field", "")[:40]
    if target == "totp_code" and content.get("totp") and found.grant.can_see_secrets:
        return _detail_page(request, actor, org, found, content, revealed={"totp_code": ""})
    try:
        value = item_secret_reveal(grant=found.grant, content=content, target=target)
    except VaultError as error:
        return _detail_page(request, actor, org, found, content, error=str(error), status=400)
    return _detail_page(request, actor, org, found, content, revealed={target: value})


def _account_password_ok(request) -> bool:
    """Through `authenticate`, so that django-axes counts failed re-prompts and locks the
    account from this address exactly as the login page does: a stolen session cannot
    guess the account password here without limit."""
    user = authenticate(
        request,
        username=request.user.email,
        password=request.POST.get("account_password", ""),
    )
    return user is not None and user.pk == request.user.pk


def _detail_page(
    request, actor, org, found, content, *, revealed=None, error="", status=200
) -> HttpResponse:
    grant = found.grant
    display = item_display(content, grant, reprompt=found.item.reprompt, revealed=revealed or {})
    context = org_page_context(
        actor,
        org,
        item=found.item,
        name=content.name,
        type_label=ItemType(found.item.type).label,
        collections=found.collections,
        display=display,
        mask=MASK,
        error=error,
        can_edit=grant.can_edit,
        can_see_secrets=grant.can_see_secrets,
        is_favorite=found.favorite,
    )
    return render(request, "vault/item_detail.html", context, status=status)


@never_cache
@vault_view
@require_POST
@answers_unreadable
def item_copy_password(request, item_id: UUID, *, actor, org, access):
    """For the copy button: the password as JSON, audited as "password copied"."""
    keychain = KeyChain(org.pk)
    found = _found_or_404(access, item_id, keychain=keychain)
    if found.item.reprompt:
        return JsonResponse(
            {"error": "Reveal this item's password with your account password."}, status=403
        )
    content = open_item(found.grant, found.item, keychain)
    try:
        value = item_password_copy(grant=found.grant, content=content)
    except VaultError as error:
        return JsonResponse({"error": str(error)}, status=403)
    return JsonResponse({"value": value})


@never_cache
@vault_view
@require_POST
@answers_unreadable
def item_totp(request, item_id: UUID, *, actor, org, access):
    """For the countdown: the next TOTP code as JSON. Part of the item's view (audited
    once, when the page opened); "TOTP revealed" is for revealing the key itself."""
    keychain = KeyChain(org.pk)
    found = _found_or_404(access, item_id, keychain=keychain)
    if found.item.reprompt or not found.grant.can_see_secrets:
        return JsonResponse({"error": "Reload the page to see a new code."}, status=403)
    content = open_item(found.grant, found.item, keychain)
    code = current_code(content.get("totp"))
    if code is None:
        return JsonResponse({"error": "This item has no usable authenticator key."}, status=404)
    return JsonResponse(
        {"code": code.code, "remaining": code.seconds_remaining, "period": code.period}
    )


# --------------------------------------------------------------------------
# Favourite, move, trash, restore, delete
# --------------------------------------------------------------------------


@never_cache
@vault_view
@require_POST
def item_favorite(request, item_id: UUID, *, actor, org, access):
    found = _found_or_404(access, item_id)
    item_favorite_set(grant=found.grant, favorite=request.POST.get("favorite") == "1")
    return redirect("vault_item_detail", org_id=org.pk, item_id=item_id)


@never_cache
@vault_view
@require_http_methods(["GET", "POST"])
def item_move_view(request, item_id: UUID, *, actor, org, access):
    found = _editable_or_403(access, item_id)
    if found.item.in_trash and request.method == "GET":
        # (A POST reaches the service, which says so on the form.)
        messages.error(request, "Restore the item from the trash to change its collections.")
        return redirect("vault_item_detail", org_id=org.pk, item_id=item_id)
    choices = selectors.editable_collections(access)
    fixed = [c for c in found.collections if not access.can_add_to(c.pk)]
    form = MoveForm(
        request.POST or None,
        collections=choices,
        initial={
            "collections": [str(c.pk) for c in found.collections],
            "revision": found.item.revision,
        },
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            item_move(
                access=access,
                item_id=item_id,
                revision=form.cleaned_data["revision"],
                collection_ids=[UUID(pk) for pk in form.cleaned_data["collections"]],
            )
        except VaultError as error:
            form.add_error(None, str(error))
            status = 409 if isinstance(error, (ItemChanged, ItemGone)) else 200
        else:
            messages.success(request, "Collections saved.")
            return redirect("vault_item_detail", org_id=org.pk, item_id=item_id)
    context = org_page_context(actor, org, form=form, item=found.item, fixed=fixed)
    return render(request, "vault/item_move.html", context, status=status)


@never_cache
@vault_view
@require_POST
def item_trash_view(request, item_id: UUID, *, actor, org, access):
    _editable_or_403(access, item_id)
    try:
        item_trash(access=access, item_id=item_id)
    except VaultError as error:
        messages.error(request, str(error))
        return redirect("vault_item_detail", org_id=org.pk, item_id=item_id)
    messages.success(request, "Item moved to the trash. It is deleted for good after 30 days.")
    return redirect("vault_item_list", org_id=org.pk)


@never_cache
@vault_view
@require_POST
def item_restore_view(request, item_id: UUID, *, actor, org, access):
    found = _editable_or_403(access, item_id)
    if not found.item.in_trash:
        messages.info(request, "This item is not in the trash.")
        return redirect("vault_item_detail", org_id=org.pk, item_id=item_id)
    try:
        item_restore(access=access, item_id=item_id)
    except VaultError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Item restored.")
    return redirect("vault_item_detail", org_id=org.pk, item_id=item_id)


@never_cache
@vault_view
@require_POST
def item_delete_view(request, item_id: UUID, *, actor, org, access):
    _editable_or_403(access, item_id)
    if request.POST.get("confirm") != "1":
        messages.error(request, "Tick the box to confirm that the item is to be deleted for good.")
        return redirect("vault_item_detail", org_id=org.pk, item_id=item_id)
    try:
        item_delete(access=access, item_id=item_id)
    except VaultError as error:
        messages.error(request, str(error))
        return redirect("vault_item_detail", org_id=org.pk, item_id=item_id)
    messages.success(request, "Item deleted for good.")
    return redirect(reverse("vault_item_list", kwargs={"org_id": org.pk}) + "?trash=1")
