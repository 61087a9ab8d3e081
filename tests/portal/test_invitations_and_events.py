"""Invitation tokens, the event log, and the operator commands of the foundation."""

import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from clients.models import MemberRole, MemberStatus, Organization
from portal.models import AppendOnlyError, Event, EventType, Invitation, User
from portal.services import hash_token, invitation_create
from providers.models import Provider, ProviderRole, ProviderUserStatus
from tests import factories
from tests.providers.helpers import invitation_open_url, open_invitation

pytestmark = pytest.mark.django_db


def invite(org, email="new@example.test", role=MemberRole.USER, **kwargs):
    membership = factories.MembershipFactory(
        org=org, user=None, email=email, role=role, status=MemberStatus.INVITED
    )
    invitation = invitation_create(email=email, membership=membership, **kwargs)
    return membership, invitation


def token_from_outbox() -> str:
    match = re.search(r"/invitations/open/\?token=([\w-]+)", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


def test_invitation_email_goes_out_after_commit_with_a_strong_token(
    world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        _, invitation = invite(world.org)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@example.test"]
    assert mail.outbox[0].alternatives  # an HTML part too
    token = token_from_outbox()
    assert len(token) >= 43  # 256 bits, urlsafe base64
    invitation.refresh_from_db()
    assert invitation.token_hash == hash_token(token)
    assert token not in str(Invitation.objects.values_list())  # only the hash is stored


def test_email_waits_for_the_commit(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invite(world.org)
    assert len(callbacks) == 1 and not mail.outbox


def test_new_account_accepts_and_sets_a_password(world, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        membership, _ = invite(world.org)
    url = open_invitation(client, token_from_outbox())
    rejected = client.post(url, {"password1": "short", "password2": "short"})
    assert rejected.status_code == 200 and b"too short" in rejected.content
    response = client.post(
        url,
        {
            "name": "Nina",
            "password1": "a long new passphrase",
            "password2": "a long new passphrase",
        },
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.status == MemberStatus.ACCEPTED
    assert membership.user.check_password("a long new passphrase")
    assert Event.objects.filter(type=EventType.MEMBER_ACCEPTED, org=world.org).exists()
    # Single use.
    client.logout()
    assert client.get(invitation_open_url(token_from_outbox())).status_code == 410


def test_first_owner_of_a_new_org_is_confirmed_on_acceptance(
    client, django_capture_on_commit_callbacks
):
    org = factories.OrganizationFactory()
    with django_capture_on_commit_callbacks(execute=True):
        membership, _ = invite(org, email="boss@example.test", role=MemberRole.OWNER)
    client.post(
        open_invitation(client, token_from_outbox()),
        {"password1": "a long new passphrase", "password2": "a long new passphrase"},
    )
    membership.refresh_from_db()
    assert membership.status == MemberStatus.CONFIRMED


def test_expired_invitation_is_refused(world, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _, invitation = invite(world.org)
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    response = client.get(invitation_open_url(token_from_outbox()))
    assert response.status_code == 410
    assert b"expired" in response.content


def test_invitation_opened_by_another_account_is_refused(
    world, login, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        membership, _ = invite(world.org)
    client = login(world.charlie)
    response = client.post(open_invitation(client, token_from_outbox()))
    assert b"than the one you are signed in with (charlie@example.test)" in response.content
    assert b"new@example.test" not in response.content  # the invited address stays unnamed
    membership.refresh_from_db()
    assert membership.status == MemberStatus.INVITED and membership.user is None


def test_existing_account_is_asked_to_sign_in(world, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invite(world.org, email=world.charlie.email)
    url = open_invitation(client, token_from_outbox())
    response = client.get(url)
    assert b"Sign in to accept" in response.content
    assert client.post(url).status_code == 200  # still the sign-in page, nothing accepted


def test_event_log_is_append_only(world):
    event = factories.EventFactory(org=world.org)
    event.details = {"changed": True}
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        Event.objects.filter(pk=event.pk).update(type=EventType.ORG_CREATED)
    with pytest.raises(AppendOnlyError):
        Event.objects.all().delete()


def test_createprovider_creates_a_confirmed_admin_with_a_set_password_link(capsys):
    call_command("createprovider", "Acme IT", "--admin-email", "Pat@Acme.test")
    out = capsys.readouterr().out
    provider = Provider.objects.get(name="Acme IT")
    admin = provider.provider_users.get()
    assert admin.role == ProviderRole.ADMIN and admin.status == ProviderUserStatus.CONFIRMED
    assert admin.user.email == "pat@acme.test"
    assert "/accounts/set-password/" in out
    assert Event.objects.filter(type=EventType.PROVIDER_CREATED, provider=provider).exists()


def test_createprovider_rejects_a_bad_email():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a valid email"):
        call_command("createprovider", "Acme IT", "--admin-email", "not-an-email")
    assert not Provider.objects.exists()


def test_set_password_link_works_once(client, capsys):
    call_command("createprovider", "Acme IT", "--admin-email", "pat@acme.test")
    link = re.search(r"(/accounts/set-password/\S+)", capsys.readouterr().out).group(1)
    page = client.get(link, follow=True)
    assert b"Set your password" in page.content
    form_url = page.redirect_chain[-1][0] if page.redirect_chain else link
    done = client.post(
        form_url,
        {"new_password1": "a long new passphrase", "new_password2": "a long new passphrase"},
    )
    assert done.status_code == 302
    assert User.objects.get(email="pat@acme.test").check_password("a long new passphrase")
    assert b"cannot be used" in client.get(link, follow=True).content


def test_seed_demo_is_idempotent(capsys):
    call_command("seed_demo", "--password", "demo-pass-for-tests")
    counts = (Organization.objects.count(), User.objects.count(), Provider.objects.count())
    call_command("seed_demo", "--password", "demo-pass-for-tests")
    assert (Organization.objects.count(), User.objects.count(), Provider.objects.count()) == counts
    out = capsys.readouterr().out
    for login in ("provider-admin@demo.test", "service-user@demo.test", "owner@client-a.test"):
        assert login in out
    demo = Provider.objects.get(name="Demo MSP")
    assert set(demo.clients.values_list("name", flat=True)) >= {"Client A", "Client B", "Client C"}
    client_a = demo.clients.get(name="Client A")
    assert client_a.memberships.filter(status=MemberStatus.CONFIRMED).count() == 5
    carol = client_a.memberships.get(email="carol@client-a.test")  # the custom role
    assert carol.role == MemberRole.CUSTOM
    assert carol.custom_flags == {"can_manage_users", "can_access_event_logs"}
    assert "carol@client-a.test" in out
    assert client_a.groups.count() == 2
    assert client_a.collections.count() == 3
    assert User.objects.get(email="owner@client-a.test").check_password("demo-pass-for-tests")
