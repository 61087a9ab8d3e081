"""The export page: choose a format, type the account password again, download a stream."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from clients.views import org_page_context
from portal.access import Capability, org_view, vault_access
from vault.crypto import ItemUnreadable
from vault.services import item_unreadable_record
from vault.views import UNREADABLE_STATUS
from vault.views import _account_password_ok as account_password_ok

from .forms import ExportForm
from .selectors import export_plan
from .services import ExportError, ExportFile, ExportFormat, vault_export_start

WRONG_ACCOUNT_PASSWORD = "That is not your account password. Nothing was exported."


@never_cache
@sensitive_post_parameters()
@require_http_methods(["GET", "POST"])
@org_view(Capability.EXPORT)
def export_page(request, *, actor, org) -> HttpResponse:
    access = vault_access(actor)
    if access is None:
        raise PermissionDenied
    form = ExportForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        if not account_password_ok(request):
            form.add_error("account_password", WRONG_ACCOUNT_PASSWORD)
            status = 403
        else:
            data = form.cleaned_data
            try:
                export = vault_export_start(
                    actor=actor,
                    access=access,
                    export_format=data["export_format"],
                    file_password=data.get("file_password", ""),
                )
            except ExportError as error:
                form.add_error(None, str(error))
            except ItemUnreadable as failure:
                item_unreadable_record(failure=failure, actor=actor)
                context = org_page_context(actor, org, failed_item_id=failure.item_id)
                return render(request, "vault/unreadable.html", context, status=UNREADABLE_STATUS)
            else:
                return export_response(export)
    context = org_page_context(
        actor,
        org,
        form=form,
        plan=export_plan(access),
        csv_plan=export_plan(access, only_types={"login", "secure_note"}),
        encrypted_format=ExportFormat.BITWARDEN_ENCRYPTED_JSON,
    )
    return render(request, "vault/export.html", context, status=status)


def export_response(export: ExportFile) -> StreamingHttpResponse:
    """The file as an attachment, streamed, and kept out of every cache."""
    response = StreamingHttpResponse(export.chunks, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    add_never_cache_headers(response)
    return response
