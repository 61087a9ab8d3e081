"""The stored client figures (`ClientFigures`) follow every flow that changes them, and
always equal a recount of the tables: invite, accept, confirm, revoke, restore, remove,
leave, two-step login on and off, policies on and off, events, links running out,
accounts deleted, clients linked and unlinked."""

from __future__ import annotations

import io
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_otp.oath import TOTP

from clients.figures_triggers import figures_triggers_ensure
from clients.models import ClientFigures, MemberRole, Membership, MemberStatus
from clients.selectors.figures import client_figures_drift
from clients.services import members as member_services
from clients.services.figures import client_figures_recount
from policies.models import PolicyType
from policies.services import policy_update
from policies.types import policy_type_for
from portal.access import resolve
from portal.events import record_org_event
from portal.models import EventType, Invitation
from portal.services import invitation_accept, two_step_disable, two_step_enable
from providers import services as provider_services
from tests import factories

from ..providers.helpers import provider_actor

pytestmark = pytest.mark.django_db

FIGURES = (
    "invited",
    "accepted",
    "confirmed",
    "revoked",
    "seats_used",
    "without_two_step",
    "policies_enabled",
    "invitations_pending",
)


def figures(org) -> dict:
    """The org's stored figures, after checking every org's equal a recount."""
    assert client_figures_drift() == []
    return ClientFigures.objects.values(*FIGURES).get(org=org)


def changed(before: dict, after: dict) -> dict:
    return {name: after[name] - before[name] for name in FIGURES if after[name] != before[name]}


def owner_actor(world):
    return resolve(world.alice, world.org)


def enable_two_step(user):
    key = "3132333435363738393031323334353637383930"
    device_totp = TOTP(bytes.fromhex(key))
    return two_step_enable(user=user, key=key, token=f"{device_totp.token():06d}")


def test_every_org_has_figures_equal_to_a_recount(world):
    assert ClientFigures.objects.count() == 2  # Alice Co and Other Co
    assert figures(world.org) == {
        "invited": 0,
        "accepted": 0,
        "confirmed": 4,
        "revoked": 0,
        "seats_used": 4,
        "without_two_step": 4,
        "policies_enabled": 0,
        "invitations_pending": 0,
    }


def test_member_lifecycle_moves_each_figure(world):
    org, actor = world.org, owner_actor(world)
    start = figures(org)

    (invited,) = member_services.member_invite(
        actor=actor, emails=["dora@example.test"], role=MemberRole.USER
    )
    after_invite = figures(org)
    assert changed(start, after_invite) == {"invited": 1, "seats_used": 1, "invitations_pending": 1}

    dora = factories.UserFactory(email="dora@example.test")
    invitation_accept(invitation=Invitation.objects.get(membership=invited), user=dora)
    after_accept = figures(org)
    assert changed(after_invite, after_accept) == {
        "invited": -1,
        "accepted": 1,
        "invitations_pending": -1,
    }

    member_services.member_confirm(actor=actor, membership=invited)
    after_confirm = figures(org)
    assert changed(after_accept, after_confirm) == {
        "accepted": -1,
        "confirmed": 1,
        "without_two_step": 1,
    }

    member_services.member_revoke(actor=actor, membership=invited)
    after_revoke = figures(org)
    assert changed(after_confirm, after_revoke) == {
        "confirmed": -1,
        "revoked": 1,
        "seats_used": -1,
        "without_two_step": -1,
    }

    member_services.member_restore(actor=actor, membership=invited)
    assert figures(org) == after_confirm

    member_services.member_remove(actor=actor, membership=Membership.objects.get(pk=invited.pk))
    assert figures(org) == start


def test_leaving_and_deleting_an_account(world):
    start = figures(world.org)
    member_services.member_leave(actor=resolve(world.bob, world.org))
    after_leave = figures(world.org)
    assert changed(start, after_leave) == {
        "confirmed": -1,
        "seats_used": -1,
        "without_two_step": -1,
    }
    world.custom.delete()  # its membership goes with it (a cascade, no service)
    assert changed(after_leave, figures(world.org)) == {
        "confirmed": -1,
        "seats_used": -1,
        "without_two_step": -1,
    }


def test_two_step_login_counts_in_every_org_of_the_account(world):
    second = factories.OrganizationFactory(provider=world.provider)
    factories.MembershipFactory(org=second, user=world.bob)
    # Invited elsewhere: not confirmed, so not counted there either way.
    factories.MembershipFactory(org=world.other_org, user=world.bob, status=MemberStatus.ACCEPTED)
    before = {org.pk: figures(org) for org in (world.org, second, world.other_org)}
    assert enable_two_step(world.bob) is not None
    after = {org.pk: figures(org) for org in (world.org, second, world.other_org)}
    assert changed(before[world.org.pk], after[world.org.pk]) == {"without_two_step": -1}
    assert changed(before[second.pk], after[second.pk]) == {"without_two_step": -1}
    assert after[world.other_org.pk] == before[world.other_org.pk]
    assert enable_two_step(world.bob) is None  # refused: already on; nothing counted twice
    two_step_disable(user=world.bob)
    assert {org.pk: figures(org) for org in (world.org, second, world.other_org)} == before


def test_policies_on_and_off_and_a_policy_revoking_members(world):
    actor = owner_actor(world)
    start = figures(world.org)
    single_org = policy_type_for(PolicyType.SINGLE_ORG)
    policy_update(actor=actor, policy_type=single_org, enabled=True, settings={})
    assert changed(start, figures(world.org)) == {"policies_enabled": 1}
    policy_update(actor=actor, policy_type=single_org, enabled=False, settings={})
    assert figures(world.org) == start
    # Switched on, two-step login revokes bob (a user without it); owners and admins stay.
    two_step = policy_type_for(PolicyType.TWO_STEP_LOGIN)
    policy_update(actor=actor, policy_type=two_step, enabled=True, settings={})
    revoked = figures(world.org)["revoked"]
    assert revoked >= 1
    assert changed(start, figures(world.org))["policies_enabled"] == 1


def test_events_move_the_last_activity_forward_only(world):
    actor = owner_actor(world)
    record_org_event(EventType.ORG_UPDATED, actor=actor)
    stored = ClientFigures.objects.get(org=world.org).last_activity
    assert stored is not None and timezone.now() - stored < timedelta(minutes=1)
    factories.EventFactory(org=world.org, occurred_at=timezone.now() - timedelta(days=3))
    assert ClientFigures.objects.get(org=world.org).last_activity == stored
    assert client_figures_drift() == []


def test_a_link_running_out_is_recounted_before_the_figures_are_read(
    world, django_capture_on_commit_callbacks
):
    actor = owner_actor(world)
    with django_capture_on_commit_callbacks(execute=True):
        member_services.member_invite(
            actor=actor, emails=["eve@example.test"], role=MemberRole.USER
        )
    assert figures(world.org)["invitations_pending"] == 1
    later = timezone.now() + timedelta(days=6)
    with mock.patch("django.utils.timezone.now", return_value=later):
        # Nothing was written, but the link has run out: the check (like the dashboard)
        # recounts the orgs whose count was due to change before reading.
        assert figures(world.org)["invitations_pending"] == 0
        stored = ClientFigures.objects.get(org=world.org)
        assert stored.invited == 1 and stored.invitations_expire_next is None
        membership = Membership.objects.get(org=world.org, email="eve@example.test")
        with django_capture_on_commit_callbacks(execute=True):
            member_services.member_resend_invitation(actor=actor, membership=membership)
        assert figures(world.org)["invitations_pending"] == 1  # a fresh link


def test_clients_created_linked_and_unlinked_keep_their_provider(world):
    admin = provider_actor(world.provider_admin, world.provider)
    org = provider_services.client_create(
        actor=admin, name="New Co", plan="teams", seats=5, owner_email="owner@new.test"
    )
    assert ClientFigures.objects.get(org=org).provider_id == world.provider.pk
    assert changed(dict.fromkeys(FIGURES, 0), figures(org)) == {
        "invited": 1,
        "seats_used": 1,
        "invitations_pending": 1,
    }
    provider_services.client_unlink(actor=admin, org=world.org)
    assert ClientFigures.objects.get(org=world.org).provider_id is None
    assert client_figures_drift() == []


def test_the_recount_repairs_and_the_check_reports(world):
    ClientFigures.objects.filter(org=world.org).update(confirmed=99, without_two_step=0)
    ClientFigures.objects.filter(org=world.other_org).delete()
    problems = client_figures_drift()
    assert f"org {world.org.pk}: confirmed 99 stored, 4 counted" in problems
    assert f"org {world.other_org.pk}: no figures row" in problems
    out = io.StringIO()
    with pytest.raises(CommandError, match="differ from a recount"):
        call_command("recount_client_figures", "--check", stdout=out)
    assert f"org {world.org.pk}: confirmed 99 stored" in out.getvalue()
    call_command("recount_client_figures", stdout=out)
    assert "Recounted the figures of 2 organizations" in out.getvalue()
    assert client_figures_drift() == []
    call_command("recount_client_figures", "--check", stdout=out)
    assert "match a recount" in out.getvalue()
    assert client_figures_recount() == 2


def test_the_triggers_are_installed_once_and_repaired(world):
    from django.db import connection

    assert figures_triggers_ensure() is False  # all there: nothing to recount
    with connection.cursor() as cursor:
        on = " ON otp_totp_totpdevice" if connection.vendor == "postgresql" else ""
        cursor.execute(f"DROP TRIGGER clients_figures_device_i{on}")
    assert enable_two_step(world.bob) is not None  # not counted: its trigger is gone
    assert client_figures_drift() != []
    assert figures_triggers_ensure() is True  # put back, and everything recounted
    assert client_figures_drift() == []
