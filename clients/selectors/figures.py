"""Client figures computed from the tables they count: what `ClientFigures` must hold.

The triggers keep the stored rows by adding and taking away; these expressions count
from scratch, independently of them, for the recount and its check.
"""

from __future__ import annotations

from django.db.models import Exists, F, Func, IntegerField, Max, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..models import ClientFigures, Membership, MemberStatus

# The stored columns compared by `client_figures_drift`, in the order it reports them.
COUNTED = (
    "name",
    "provider_id",
    "invited",
    "accepted",
    "confirmed",
    "revoked",
    "seats_used",
    "without_two_step",
    "policies_enabled",
    "invitations_pending",
    "invitations_expire_next",
    "last_activity",
)


def _count(queryset: QuerySet) -> Coalesce:
    """COUNT of `queryset`'s rows as a scalar subquery (0 when none); no GROUP BY."""
    value = queryset.order_by().annotate(v=Func(F("pk"), function="COUNT")).values("v")
    return Coalesce(Subquery(value, output_field=IntegerField()), 0)


def _live_invitations(membership_ref: str, now):
    from portal.models import Invitation

    return Invitation.objects.filter(
        membership=OuterRef(membership_ref), used_at__isnull=True, expires_at__gt=now
    )


def pending_from_tables(org_ref: str = "org_id", *, now=None) -> dict:
    """The org's (OuterRef `org_ref`) invited members whose link works at `now`, and the
    moment that count next changes by itself (the earliest of their latest expiries)."""
    now = now or timezone.now()
    pending = Membership.objects.filter(
        Exists(_live_invitations("pk", now)), org=OuterRef(org_ref), status=MemberStatus.INVITED
    )
    last_expiry = (
        _live_invitations("pk", now)
        .order_by()
        .values("membership")
        .annotate(last=Max("expires_at"))
        .values("last")
    )
    expire_next = (
        pending.order_by()
        .annotate(last=Subquery(last_expiry))
        .annotate(v=Func(F("last"), function="MIN"))
        .values("v")
    )
    return {
        "invitations_pending": _count(pending),
        "invitations_expire_next": Subquery(expire_next),
    }


def figures_from_tables(org_ref: str = "org_id") -> dict:
    """Every stored figure of the org `org_ref` (an OuterRef name), counted from the tables."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from policies.models import Policy
    from portal.models import Event

    members = Membership.objects.filter(org=OuterRef(org_ref))
    has_device = Exists(TOTPDevice.objects.filter(user=OuterRef("user_id"), confirmed=True))
    last_event = Event.objects.filter(org=OuterRef(org_ref)).order_by("-occurred_at")
    return {
        **{status: _count(members.filter(status=status)) for status in MemberStatus.values},
        "seats_used": _count(members.exclude(status=MemberStatus.REVOKED)),
        "without_two_step": _count(members.filter(~has_device, status=MemberStatus.CONFIRMED)),
        "policies_enabled": _count(Policy.objects.filter(org=OuterRef(org_ref), enabled=True)),
        **pending_from_tables(org_ref),
        "last_activity": Subquery(last_event.values("occurred_at")[:1]),
    }


def client_figures_drift(*, using: str = "default") -> list[str]:
    """Orgs whose stored figures differ from a count of the tables, one line each
    ("org <id>: confirmed 3 stored, 4 counted"); empty when every row is right.

    The stored last activity may trail the newest event by less than its resolution,
    and a row whose pending invitations are due a refresh (`client_figures_refresh_expired`)
    is compared after it.
    """
    from ..figures_triggers import LAST_ACTIVITY_RESOLUTION
    from ..models import Organization
    from ..services.figures import client_figures_refresh_expired

    client_figures_refresh_expired(using=using)
    problems = []
    orgs = Organization.objects.using(using).annotate(
        **{f"counted_{name}": value for name, value in figures_from_tables("pk").items()}
    )
    stored = {
        row["org_id"]: row for row in ClientFigures.objects.using(using).values("org_id", *COUNTED)
    }
    for org in orgs.order_by("pk"):
        row = stored.get(org.pk)
        if row is None:
            problems.append(f"org {org.pk}: no figures row")
            continue
        counted = {name: getattr(org, f"counted_{name}", None) for name in COUNTED}
        counted.update(name=org.name, provider_id=org.provider_id)
        for name in COUNTED:
            have, want = row[name], counted[name]
            if name == "last_activity" and have and want and have <= want:
                if want - have < LAST_ACTIVITY_RESOLUTION:
                    continue
            if have != want:
                problems.append(f"org {org.pk}: {name} {have} stored, {want} counted")
    return problems
