"""Members of an org: the list, invitations, confirmation, roles, revocation, leaving.

Thin views: a form, one service, a message, a redirect. Who may do what to whom comes
from the permission layer; templates get plain booleans."""

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal.access import (
    Capability,
    flags_actor_may_grant,
    may_manage_member,
    member_management_refusal,
    org_view,
    roles_actor_may_grant,
)
from portal.pagination import paginate

from .. import selectors
from ..forms.members import MemberAccessForm, MemberBulkForm, MemberFilterForm, MemberInviteForm
from ..models import MemberRole, MemberStatus
from ..selectors.members import member_access, member_rows
from ..services.members import (
    MemberError,
    member_invite,
    member_leave,
    member_update,
    members_bulk_apply,
)
from .orgs import org_page_context


def _access_form(form_class, request, actor, org, **kwargs):
    return form_class(
        request.POST if request.method == "POST" else None,
        org=org,
        roles=roles_actor_may_grant(actor),
        flags=flags_actor_may_grant(actor),
        collections=org.collections.order_by("name", "pk"),
        **kwargs,
    )


@require_GET
@org_view(Capability.MEMBERS_VIEW)
def members(request, *, actor, org):
    filter_form = MemberFilterForm(request.GET or None)
    filters = filter_form.filters()
    # Counted and paged on the plain rows; the counts shown are computed for the page only.
    page = paginate(request, selectors.member_list(org=org, **filters))
    rows = list(member_rows(members=page.object_list))
    for member in rows:
        # Evaluated here from the rows already loaded: no query per row.
        member.manageable = may_manage_member(actor, member)
    page.object_list = rows
    can_manage = actor.can(Capability.MEMBERS_MANAGE)
    context = org_page_context(
        actor,
        org,
        page=page,
        filter_form=filter_form,
        search=filters.get("search", ""),
        extra_query=urlencode(
            {key: filters[key] for key in ("status", "role") if filters.get(key)}
        ),
        can_manage_members=can_manage,
        can_bulk=can_manage and any(member.manageable for member in rows),
    )
    return render(request, "clients/members.html", context)


@require_http_methods(["GET", "POST"])
@org_view(Capability.MEMBERS_MANAGE)
def member_invite_page(request, *, actor, org):
    form = _access_form(MemberInviteForm, request, actor, org, initial={"role": MemberRole.USER})
    if request.method == "POST" and form.is_valid():
        try:
            invited = member_invite(
                actor=actor, emails=form.cleaned_data["emails"], **form.access()
            )
        except MemberError as error:
            form.add_error(None, str(error))
        else:
            people = "person" if len(invited) == 1 else "people"
            messages.success(
                request,
                f"Invitations sent to {len(invited)} {people}. Confirm them here once they accept.",
            )
            return redirect("org_members", org_id=org.pk)
    return render(request, "clients/member_invite.html", org_page_context(actor, org, form=form))


@require_POST
@org_view(Capability.MEMBERS_MANAGE)
def members_bulk(request, *, actor, org):
    form = MemberBulkForm(request.POST, org=org)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect("org_members", org_id=org.pk)
    action, chosen = form.cleaned_data["action"], list(form.cleaned_data["members"])
    if action == "remove" and not request.POST.get("confirmed"):
        context = org_page_context(actor, org, chosen=chosen)
        return render(request, "clients/member_remove_confirm.html", context)
    outcome = members_bulk_apply(actor=actor, action=action, memberships=chosen)
    if outcome.done:
        messages.success(request, outcome.summary)
    else:
        messages.error(request, outcome.summary)
    return redirect("org_members", org_id=org.pk)


@require_http_methods(["GET", "POST"])
@org_view(Capability.MEMBERS_MANAGE)
def member_edit(request, member_id, *, actor, org):
    member = get_object_or_404(org.memberships.select_related("user"), pk=member_id)
    refusal = member_management_refusal(actor, member)
    form = _access_form(
        MemberAccessForm, request, actor, org, initial=member_access(membership=member)
    )
    # A refused actor gets the page again, with the reason shown, and nothing changes.
    if request.method == "POST" and refusal is None:
        if form.is_valid():
            try:
                member_update(actor=actor, membership=member, **form.access())
            except MemberError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, f"Changes to {member.email} saved.")
                return redirect("org_member_edit", org_id=org.pk, member_id=member.pk)
    can_edit = refusal is None
    context = org_page_context(
        actor,
        org,
        member=member,
        form=form,
        refusal=refusal,
        can_edit=can_edit,
        can_confirm=can_edit and member.status == MemberStatus.ACCEPTED,
        can_resend=can_edit and member.status == MemberStatus.INVITED,
        can_revoke=can_edit and member.status != MemberStatus.REVOKED,
        can_restore=can_edit and member.status == MemberStatus.REVOKED,
        can_remove=can_edit,
    )
    return render(request, "clients/member_edit.html", context)


@require_http_methods(["GET", "POST"])
@org_view(Capability.ORG_VIEW)
def member_leave_page(request, *, actor, org):
    if actor.membership is None:
        # Provider staff have no membership to leave: the page does not exist for them.
        raise Http404
    if request.method == "POST":
        try:
            member_leave(actor=actor)
        except MemberError as error:
            messages.error(request, str(error))
            return redirect("org_leave", org_id=org.pk)
        messages.success(request, f"You left {org.name}.")
        return redirect("home")
    return render(request, "clients/member_leave.html", org_page_context(actor, org))
