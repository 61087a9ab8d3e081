"""Provider-user invitation tokens: single use, 5 days, only the invited email's account."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from portal.models import EventType, Invitation, User
from portal.services import INVITATION_LIFETIME
from providers.models import ProviderRole, ProviderUser, ProviderUserStatus
from tests import factories

from .helpers import (
    event_types,
    invitation_open_url,
    open_invitation,
    page_messages,
    provider_url,
    token_from_outbox,
)

pytestmark = pytest.mark.django_db

PASSWORD = {"password1": "a long new passphrase", "password2": "a long new passphrase"}


@pytest.fixture
def invited(world, login, django_capture_on_commit_callbacks):
    """ann@msp.test invited as a service user; returns the token of the emailed link."""
    client = login(world.provider_admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            provider_url("provider_users_invite", world.provider),
            {"emails": "ann@msp.test", "role": ProviderRole.SERVICE_USER},
        )
    client.logout()
    return token_from_outbox()


def test_token_is_valid_for_five_days(invited):
    invitation = Invitation.objects.get(email="ann@msp.test")
    assert INVITATION_LIFETIME == timedelta(days=5)
    lifetime = invitation.expires_at - timezone.now()
    assert timedelta(days=4, hours=23) < lifetime <= timedelta(days=5)
    assert len(token_from_outbox()) >= 40 and invitation.token_hash not in mail.outbox[0].body


def test_new_account_accepts_and_waits_for_confirmation(world, invited, client, login):
    response = client.post(open_invitation(client, invited), PASSWORD, follow=True)
    assert "A provider admin must now confirm you" in page_messages(response)[0]
    provider_user = ProviderUser.objects.get(email="ann@msp.test")
    assert provider_user.status == ProviderUserStatus.ACCEPTED
    assert provider_user.user == User.objects.get(email="ann@msp.test")
    # Accepted is not confirmed: the provider is still closed to them.
    assert client.get(provider_url("provider_dashboard", world.provider)).status_code == 404
    assert EventType.PROVIDER_USER_ACCEPTED in event_types(provider=world.provider)
    admin = login(world.provider_admin)
    admin.post(provider_url("provider_user_confirm", world.provider, provider_user.pk))
    ann = login(provider_user.user)
    assert ann.get(provider_url("provider_dashboard", world.provider)).status_code == 200


def test_existing_account_signs_in_then_accepts(world, invited, client):
    ann = factories.UserFactory(email="ann@msp.test")
    accept = open_invitation(client, invited)
    page = client.get(accept)
    assert b"Sign in to accept" in page.content
    login_url = reverse("login") + "?next=" + accept
    assert login_url.encode() in page.content.replace(b"%2F", b"/")
    response = client.post(login_url, {"username": ann.email, "password": factories.TEST_PASSWORD})
    assert response.status_code == 302 and response["Location"] == accept
    assert b"Accept your invitation" in client.get(accept).content
    client.post(accept)
    assert ProviderUser.objects.get(email="ann@msp.test").user == ann


def test_used_invitation_is_refused(invited, client):
    client.post(open_invitation(client, invited), PASSWORD)
    client.logout()
    response = client.get(invitation_open_url(invited))
    assert response.status_code == 410
    assert b"already been used or has expired" in response.content


def test_expired_invitation_is_refused_and_nothing_changes(invited, client):
    accept = open_invitation(client, invited)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(invitation_open_url(invited)).status_code == 410
    assert client.post(accept, PASSWORD).status_code == 410
    assert not User.objects.filter(email="ann@msp.test").exists()
    assert ProviderUser.objects.get(email="ann@msp.test").status == ProviderUserStatus.INVITED


def test_invitation_opened_by_another_account_is_refused(world, invited, login):
    client = login(world.charlie)
    accept = open_invitation(client, invited)
    for response in (client.get(accept), client.post(accept)):
        assert response.status_code == 403
        assert b"than the one you are signed in with (charlie@example.test)" in response.content
        assert b"ann@msp.test" not in response.content  # the invited address stays unnamed
    provider_user = ProviderUser.objects.get(email="ann@msp.test")
    assert provider_user.status == ProviderUserStatus.INVITED and provider_user.user is None


def test_unknown_token_is_not_found(client, db):
    response = client.get(invitation_open_url("x" * 43))
    assert response.status_code == 404
    assert b"not a valid invitation" in response.content


def test_removed_invitee_cannot_accept(world, invited, login, client):
    provider_user = ProviderUser.objects.get(email="ann@msp.test")
    login(world.provider_admin).post(
        provider_url("provider_user_remove", world.provider, provider_user.pk)
    )
    client.logout()
    assert client.get(invitation_open_url(invited)).status_code == 404
