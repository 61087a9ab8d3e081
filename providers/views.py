"""Provider portal pages. Thin: resolve through `provider_view`, validate a form, call
one service, redirect. Refusals are `ProviderError`s whose message the page shows."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clients.models import Organization
from clients.selectors.events import (
    EVENT_CSV_HEADER,
    event_csv_cells,
    event_rows,
    event_rows_streamed,
)
from clients.services.figures import client_figures_refresh_expired
from portal.access import (
    ProviderActor,
    ProviderCapability,
    provider_user_can_be_scoped,
    provider_view,
)
from portal.context_processors import DISMISSED_BANNERS_SESSION_KEY
from portal.csv import csv_response
from portal.pagination import PAGE_SIZE, ListPaginator, paginate, search_term

from . import selectors, services
from .dashboard_rows import dashboard_rows
from .forms import (
    ClientAddForm,
    ClientCreateForm,
    ClientUpdateForm,
    InternalOrgForm,
    ProviderEventFilterForm,
    ProviderTwoStepForm,
    ProviderUserInviteForm,
    ProviderUserRoleForm,
    ProviderUserScopeForm,
    ResendInvitationsForm,
)
from .models import Provider, ProviderUser, ProviderUserStatus
from .services import ProviderError

Result = TypeVar("Result")


def provider_page_context(actor: ProviderActor, provider: Provider, **extra) -> dict:
    """What every provider page's layout needs: plain booleans, no permission logic in templates."""
    can_manage_users = actor.can(ProviderCapability.PROVIDER_USERS_MANAGE)
    return {
        "provider": provider,
        "actor": actor,
        "can_manage_users": can_manage_users,
        "can_create_clients": actor.can(ProviderCapability.CLIENTS_CREATE),
        "can_unlink_clients": actor.can(ProviderCapability.CLIENTS_UNLINK),
        "can_rename_clients": actor.can(ProviderCapability.CLIENTS_RENAME),
        "can_view_billing": actor.can(ProviderCapability.BILLING_VIEW),
        "can_view_events": actor.can(ProviderCapability.PROVIDER_EVENTS_VIEW),
        "can_manage_baselines": actor.can(ProviderCapability.BASELINES_MANAGE),
        # A locked-out sole admin cannot be recovered from inside the portal.
        "show_failover_banner": can_manage_users
        and selectors.confirmed_admin_count(provider=provider) < 2,
        **extra,
    }


def _attempt(
    request: HttpRequest,
    service: Callable[..., Result],
    success: str | Callable[[Result], str],
    /,
    **arguments,
) -> bool:
    """Call one service with `arguments`. Its refusal's message, or `success` (a text, or
    made from the result), is shown on the next page rendered; True when the call went
    through, so the view redirects, False so it renders the form again as typed."""
    try:
        result = service(**arguments)
    except ProviderError as error:
        messages.error(request, str(error))
        return False
    messages.success(request, success(result) if callable(success) else success)
    return True


def _submitted(request: HttpRequest, form) -> bool:
    return request.method == "POST" and form.is_valid()


def _client_or_404(actor: ProviderActor, client_id) -> Organization:
    """A client of the actor's provider that the actor reaches; anything else is a 404."""
    org = Organization.objects.filter(provider=actor.provider, pk=client_id).first()
    if org is None or not actor.reaches_client(org):
        raise Http404
    return org


def _provider_user_or_404(provider: Provider, provider_user_id) -> ProviderUser:
    return get_object_or_404(
        ProviderUser.objects.select_related("user"), provider=provider, pk=provider_user_id
    )


def _query(**params) -> str:
    """A query string of the non-empty params, for pagination and sort links."""
    return urlencode({key: value for key, value in params.items() if value})


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


# --- Dashboard -------------------------------------------------------------------------


@require_GET
@provider_view(ProviderCapability.DASHBOARD_VIEW)
def dashboard(request: HttpRequest, *, actor, provider) -> HttpResponse:
    search = search_term(request)
    sort = selectors.clean_sort(request.GET.get("sort"))
    # Pending invitations change by themselves when a link runs out: recount those first.
    client_figures_refresh_expired(provider=provider)
    ids = selectors.client_ids_for_actor(actor=actor, search=search, sort=sort)
    page = ListPaginator(ids, PAGE_SIZE, order=ids.keyset_order, in_order=ids.in_order).page_for(
        request.GET
    )
    page.object_list = selectors.client_rows_with_counts(page.object_list)
    rows = dashboard_rows(
        provider, page.object_list, can_rename=actor.can(ProviderCapability.CLIENTS_RENAME)
    )
    internal_org = provider.internal_org if provider.internal_org_id else None
    context = provider_page_context(
        actor,
        provider,
        page=page,
        rows=rows,
        search=search,
        sort=sort,
        extra_query=_query(sort=sort if sort != selectors.DEFAULT_SORT else ""),
        totals=selectors.client_totals_for_actor(actor=actor),
        # Named (and linked) only for those who may enter it.
        internal_org=internal_org if internal_org and actor.reaches_client(internal_org) else None,
        limited_to_chosen_clients=not actor.reaches_all_clients,
    )
    return render(request, "providers/dashboard.html", context)


@require_POST
@provider_view(ProviderCapability.DASHBOARD_VIEW)
def banner_dismiss(request: HttpRequest, *, actor, provider) -> HttpResponse:
    """Hide the one-admin banner of this provider for the rest of the session (no JS)."""
    dismissed = request.session.get(DISMISSED_BANNERS_SESSION_KEY, [])
    if str(provider.pk) not in dismissed:
        request.session[DISMISSED_BANNERS_SESSION_KEY] = [*dismissed, str(provider.pk)]
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("provider_dashboard", kwargs={"provider_id": provider.pk})
    return redirect(back)


# --- Provider users --------------------------------------------------------------------


@require_GET
@provider_view(ProviderCapability.PROVIDER_USERS_MANAGE)
def provider_users(request: HttpRequest, *, actor, provider) -> HttpResponse:
    search = search_term(request)
    page = paginate(request, selectors.provider_user_list(provider=provider, search=search))
    has_invited = any(pu.status == ProviderUserStatus.INVITED for pu in page.object_list)
    context = provider_page_context(
        actor, provider, page=page, search=search, has_invited=has_invited
    )
    return render(request, "providers/users.html", context)


@require_http_methods(["GET", "POST"])
@provider_view(ProviderCapability.PROVIDER_USERS_MANAGE)
def provider_users_invite(request: HttpRequest, *, actor, provider) -> HttpResponse:
    form = ProviderUserInviteForm(request.POST or None)
    if _submitted(request, form) and _attempt(
        request,
        services.provider_user_invite,
        lambda invited: f"Invitations sent to {_plural(len(invited), 'person')}.",
        actor=actor,
        **form.cleaned_data,
    ):
        return redirect("provider_users", provider_id=provider.pk)
    return render(
        request, "providers/user_invite.html", provider_page_context(actor, provider, form=form)
    )


@require_POST
@provider_view(ProviderCapability.PROVIDER_USERS_MANAGE)
def provider_users_resend(request: HttpRequest, *, actor, provider) -> HttpResponse:
    invited = provider.provider_users.filter(status=ProviderUserStatus.INVITED)
    form = ResendInvitationsForm(request.POST, invited=invited)
    if form.is_valid():
        sent = services.provider_user_resend_invitations(
            actor=actor, provider_users=form.cleaned_data["provider_users"]
        )
        messages.success(
            request, f"Sent {_plural(sent, 'invitation')} again, each with a new link."
        )
    else:
        messages.error(request, " ".join(form.errors.get("provider_users", [])))
    return redirect("provider_users", provider_id=provider.pk)


def _render_provider_user(request, actor, provider, provider_user, **forms) -> HttpResponse:
    role_form = forms.get("role_form") or ProviderUserRoleForm(initial={"role": provider_user.role})
    scope_form = None
    if provider_user_can_be_scoped(provider_user):
        scope_form = forms.get("scope_form") or ProviderUserScopeForm(
            clients=_scope_choices(actor),
            initial={
                "scope": "all" if provider_user.access_all_clients else "chosen",
                "clients": list(provider_user.client_scope.all()),
            },
        )
    context = provider_page_context(
        actor,
        provider,
        provider_user=provider_user,
        role_form=role_form,
        scope_form=scope_form,
        is_self=provider_user.user_id == actor.user.pk,
    )
    return render(request, "providers/user_detail.html", context)


def _scope_choices(actor: ProviderActor):
    return selectors.client_scope_for_actor(actor=actor).order_by("name", "pk")


@require_GET
@provider_view(ProviderCapability.PROVIDER_USERS_MANAGE)
def provider_user_detail(request: HttpRequest, provider_user_id, *, actor, provider):
    provider_user = _provider_user_or_404(provider, provider_user_id)
    return _render_provider_user(request, actor, provider, provider_user)


@require_POST
@provider_view(ProviderCapability.PROVIDER_USERS_MANAGE)
def provider_user_role(request: HttpRequest, provider_user_id, *, actor, provider):
    provider_user = _provider_user_or_404(provider, provider_user_id)
    form = ProviderUserRoleForm(request.POST)
    if form.is_valid() and _attempt(
        request,
        services.provider_user_update_role,
        f"Role of {provider_user.email} saved.",
        actor=actor,
        provider_user=provider_user,
        role=form.cleaned_data["role"],
    ):
        return redirect("provider_user_detail", provider.pk, provider_user.pk)
    return _render_provider_user(request, actor, provider, provider_user, role_form=form)


@require_POST
@provider_view(ProviderCapability.PROVIDER_USERS_MANAGE)
def provider_user_scope(request: HttpRequest, provider_user_id, *, actor, provider):
    provider_user = _provider_user_or_404(provider, provider_user_id)
    form = ProviderUserScopeForm(request.POST, clients=_scope_choices(actor))
    if form.is_valid() and _attempt(
        request,
        services.provider_user_set_scope,
        f"Client access of {provider_user.email} saved.",
        actor=actor,
        provider_user=provider_user,
        all_clients=form.cleaned_data["scope"] == ProviderUserScopeForm.ALL,
        clients=form.cleaned_data["clients"],
    ):
        return redirect("provider_user_detail", provider.pk, provider_user.pk)
    return _render_provider_user(request, actor, provider, provider_user, scope_form=form)


@require_POST
@provider_view(ProviderCapability.PROVIDER_USERS_MANAGE)
def provider_user_confirm(request: HttpRequest, provider_user_id, *, actor, provider):
    provider_user = _provider_user_or_404(provider, provider_user_id)
    _attempt(
        request,
        services.provider_user_confirm,
        f"{provider_user.email} is confirmed.",
        actor=actor,
        provider_user=provider_user,
    )
    return redirect("provider_users", provider_id=provider.pk)


@require_http_methods(["GET", "POST"])
@provider_view(ProviderCapability.PROVIDER_USERS_MANAGE)
def provider_user_remove(request: HttpRequest, provider_user_id, *, actor, provider):
    provider_user = _provider_user_or_404(provider, provider_user_id)
    if request.method == "POST":
        if _attempt(
            request,
            services.provider_user_remove,
            f"{provider_user.email} was removed from {provider.name}.",
            actor=actor,
            provider_user=provider_user,
        ):
            return redirect("provider_users", provider_id=provider.pk)
        return redirect("provider_user_detail", provider.pk, provider_user.pk)
    context = provider_page_context(
        actor, provider, provider_user=provider_user, is_self=provider_user.user_id == actor.user.pk
    )
    return render(request, "providers/user_remove.html", context)


# --- Clients ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@provider_view(ProviderCapability.CLIENTS_CREATE)
def client_create(request: HttpRequest, *, actor, provider) -> HttpResponse:
    form = ClientCreateForm(request.POST or None)
    if _submitted(request, form) and _attempt(
        request,
        services.client_create,
        lambda org: (
            f"Client {org.name} created. "
            f"{form.cleaned_data['owner_email']} is invited as its owner."
        ),
        actor=actor,
        **form.cleaned_data,
    ):
        return redirect("provider_dashboard", provider_id=provider.pk)
    return render(
        request, "providers/client_create.html", provider_page_context(actor, provider, form=form)
    )


@require_http_methods(["GET", "POST"])
@provider_view(ProviderCapability.CLIENTS_CREATE)
def client_add(request: HttpRequest, *, actor, provider) -> HttpResponse:
    orgs = selectors.addable_orgs_for_user(actor.user)
    form = ClientAddForm(request.POST or None, orgs=orgs)
    if _submitted(request, form) and _attempt(
        request,
        services.client_add,
        lambda org: f"{org.name} is now a client of {provider.name}.",
        actor=actor,
        org=form.cleaned_data["org"],
    ):
        return redirect("provider_dashboard", provider_id=provider.pk)
    context = provider_page_context(actor, provider, form=form, has_orgs=orgs.exists())
    return render(request, "providers/client_add.html", context)


@require_http_methods(["GET", "POST"])
@provider_view(ProviderCapability.CLIENTS_RENAME)
def client_edit(request: HttpRequest, client_id, *, actor, provider) -> HttpResponse:
    org = _client_or_404(actor, client_id)
    can_manage_seats = actor.can(ProviderCapability.SEATS_MANAGE)
    form = ClientUpdateForm(
        request.POST or None,
        can_manage_seats=can_manage_seats,
        initial={"name": org.name, "seats": org.seats},
    )
    if _submitted(request, form) and _attempt(
        request,
        services.client_update,
        "Client saved.",
        actor=actor,
        org=org,
        **form.cleaned_data,
    ):
        return redirect("provider_dashboard", provider_id=provider.pk)
    context = provider_page_context(
        actor, provider, client=org, form=form, can_manage_seats=can_manage_seats
    )
    return render(request, "providers/client_edit.html", context)


@require_http_methods(["GET", "POST"])
@provider_view(ProviderCapability.CLIENTS_UNLINK)
def client_unlink(request: HttpRequest, client_id, *, actor, provider) -> HttpResponse:
    org = _client_or_404(actor, client_id)
    if request.method == "POST" and _attempt(
        request,
        services.client_unlink,
        f"{org.name} is no longer managed by {provider.name}.",
        actor=actor,
        org=org,
    ):
        return redirect("provider_dashboard", provider_id=provider.pk)
    context = provider_page_context(
        actor, provider, client=org, has_own_owner=selectors.has_confirmed_owner(org=org)
    )
    return render(request, "providers/client_unlink.html", context)


# --- Seats and billing -----------------------------------------------------------------


BILLING_CSV_HEADER = ["client", "id", "assigned", "used", "remaining", "plan"]


@require_GET
@provider_view(ProviderCapability.BILLING_VIEW)
def billing(request: HttpRequest, *, actor, provider) -> HttpResponse:
    return _render_billing(request, actor, provider)


def _render_billing(request, actor, provider, internal_form=None) -> HttpResponse:
    can_set_internal = actor.can(ProviderCapability.PROVIDER_SETTINGS)
    if can_set_internal and internal_form is None:
        internal_form = InternalOrgForm(
            orgs=provider.clients.order_by("name", "pk"),
            initial={"org": provider.internal_org_id},
        )
    two_step_form = None
    if can_set_internal:
        two_step_form = ProviderTwoStepForm(initial={"require_two_step": provider.require_two_step})
    clients = selectors.client_scope_for_actor(actor=actor)
    search = search_term(request)
    context = provider_page_context(
        actor,
        provider,
        page=paginate(request, selectors.billing_rows(clients=clients, search=search)),
        search=search,
        plan_totals=selectors.billing_totals(clients=clients),
        internal=selectors.internal_org_row(provider=provider),
        internal_form=internal_form if can_set_internal else None,
        two_step_form=two_step_form,
    )
    return render(request, "providers/billing.html", context)


@require_GET
@provider_view(ProviderCapability.BILLING_VIEW)
def billing_export(request: HttpRequest, *, actor, provider) -> HttpResponse:
    clients = selectors.client_scope_for_actor(actor=actor)
    rows = (
        (
            org.name,
            str(org.pk),
            org.seats,
            org.seats_used,
            org.seats_remaining,
            org.get_plan_display(),
        )
        for org in selectors.billing_rows(clients=clients).iterator(chunk_size=1000)
    )
    return csv_response(_csv_filename(provider, "seats"), BILLING_CSV_HEADER, rows)


def _csv_filename(provider: Provider, what: str) -> str:
    return f"{slugify(provider.name) or 'provider'}-{what}-{timezone.localdate():%Y-%m-%d}.csv"


@require_POST
@provider_view(ProviderCapability.PROVIDER_SETTINGS)
def internal_org(request: HttpRequest, *, actor, provider) -> HttpResponse:
    form = InternalOrgForm(request.POST, orgs=provider.clients.all())
    if not form.is_valid():
        return _render_billing(request, actor, provider, internal_form=form)
    _attempt(
        request,
        services.provider_set_internal_org,
        "Internal team saved.",
        actor=actor,
        org=form.cleaned_data["org"],
    )
    return redirect("provider_billing", provider_id=provider.pk)


@require_POST
@provider_view(ProviderCapability.PROVIDER_SETTINGS)
def two_step_setting(request: HttpRequest, *, actor, provider) -> HttpResponse:
    form = ProviderTwoStepForm(request.POST)
    form.is_valid()  # a single checkbox: absent means off, so it is always valid
    require = form.cleaned_data["require_two_step"]
    _attempt(
        request,
        services.provider_set_require_two_step,
        "Two-step login is now required of every provider user."
        if require
        else "Two-step login is no longer required of provider users.",
        actor=actor,
        require=require,
    )
    return redirect("provider_billing", provider_id=provider.pk)


# --- Event logs ------------------------------------------------------------------------


EVENTS_CSV_HEADER = [
    "time",
    "event",
    "actor",
    "client",
    "client id",
    "provider user",
    "object type",
    "object id",
    "ip address",
]


def _filter_form(request, actor, provider, *, with_users: bool) -> ProviderEventFilterForm:
    # Bound only when a filter was submitted: paging an unfiltered log filters nothing.
    submitted = any(name in request.GET for name in ProviderEventFilterForm.FILTER_FIELDS)
    return ProviderEventFilterForm(
        request.GET if submitted else None,
        users=selectors.provider_staff_users(provider=provider) if with_users else None,
        clients=provider.clients.order_by("name", "pk") if with_users else _scope_choices(actor),
    )


@require_GET
@provider_view(ProviderCapability.PROVIDER_EVENTS_VIEW)
def events(request: HttpRequest, *, actor, provider) -> HttpResponse:
    form = _filter_form(request, actor, provider, with_users=True)
    page = paginate(request, selectors.provider_event_list(provider=provider, **form.filters()))
    context = provider_page_context(
        actor, provider, form=form, page=page, extra_query=_filter_query(form)
    )
    return render(request, "providers/events.html", context)


@require_GET
@provider_view(ProviderCapability.PROVIDER_EVENTS_VIEW)
def events_export(request: HttpRequest, *, actor, provider) -> HttpResponse:
    form = _filter_form(request, actor, provider, with_users=True)
    if form.is_bound and not form.is_valid():
        # The log page shows what is wrong with the filters.
        url = reverse("provider_events", kwargs={"provider_id": provider.pk})
        return redirect(f"{url}?{request.GET.urlencode()}")
    events = selectors.provider_event_list(provider=provider, **form.filters())
    rows = (_event_csv_row(event) for event in events.iterator(chunk_size=1000))
    return csv_response(_csv_filename(provider, "events"), EVENTS_CSV_HEADER, rows)


def _event_csv_row(event) -> tuple:
    """One provider-log event as EVENTS_CSV_HEADER's cells (csv_response neutralises them)."""
    about_client = event.object_type == "organization"
    about_staff = event.object_type == "provideruser"
    return (
        timezone.localtime(event.occurred_at).isoformat(),
        event.get_type_display(),
        event.actor.email if event.actor else "",
        event.details.get("client", "") if about_client else "",
        event.object_id if about_client else "",
        event.details.get("email", "") if about_staff else "",
        event.object_type,
        event.object_id,
        event.ip_address,
    )


@require_GET
@provider_view(ProviderCapability.PROVIDER_EVENTS_VIEW)
def client_events(request: HttpRequest, *, actor, provider) -> HttpResponse:
    form = _filter_form(request, actor, provider, with_users=False)
    clients = selectors.client_scope_for_actor(actor=actor)
    page = paginate(request, selectors.client_event_list(clients=clients, **form.filters()))
    # Provider staff get no item links: the vault does not exist for them.
    page.object_list = event_rows(page.object_list)
    context = provider_page_context(
        actor, provider, form=form, page=page, extra_query=_filter_query(form)
    )
    return render(request, "providers/client_events.html", context)


CLIENT_EVENTS_CSV_HEADER = ["client", "client id", *EVENT_CSV_HEADER]


@require_GET
@provider_view(ProviderCapability.PROVIDER_EVENTS_VIEW)
def client_events_export(request: HttpRequest, *, actor, provider) -> HttpResponse:
    """The merged client log as CSV, with the page's filters."""
    form = _filter_form(request, actor, provider, with_users=False)
    if form.is_bound and not form.is_valid():
        url = reverse("provider_client_events", kwargs={"provider_id": provider.pk})
        return redirect(f"{url}?{request.GET.urlencode()}")
    clients = selectors.client_scope_for_actor(actor=actor)
    events = selectors.client_event_list(clients=clients, **form.filters())
    rows = (
        (row.event.org.name if row.event.org else "", row.event.org_id, *event_csv_cells(row))
        for row in event_rows_streamed(events)
    )
    return csv_response(_csv_filename(provider, "client-events"), CLIENT_EVENTS_CSV_HEADER, rows)


def _filter_query(form) -> str:
    """The submitted filters as a query string, for the pagination and export links."""
    if not form.is_bound:
        return ""
    return _query(**{name: form.data.get(name, "") for name in form.fields})
