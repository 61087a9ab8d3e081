"""Provider users: invite, confirm, resend, change role, scope, remove; refusals say why."""

import pytest
from django.core import mail

from portal.models import Event, EventType, Invitation
from providers.models import ProviderRole, ProviderUser, ProviderUserStatus
from providers.services import LastAdminError, provider_user_remove, provider_user_update_role
from tests import factories

from .helpers import event_types, invitation_open_url, page_messages, provider_actor, provider_url

pytestmark = pytest.mark.django_db


def invite(client, provider, emails, role=ProviderRole.SERVICE_USER, **kwargs):
    return client.post(
        provider_url("provider_users_invite", provider),
        {"emails": emails, "role": role},
        **kwargs,
    )


def test_admin_invites_several_people_with_one_role(
    world, login, django_capture_on_commit_callbacks
):
    client = login(world.provider_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(client, world.provider, "Ann@msp.test, ben@msp.test\ncat@msp.test")
    assert response.status_code == 302
    invited = ProviderUser.objects.filter(
        provider=world.provider, status=ProviderUserStatus.INVITED
    )
    assert sorted(invited.values_list("email", flat=True)) == [
        "ann@msp.test",
        "ben@msp.test",
        "cat@msp.test",
    ]
    assert set(invited.values_list("role", flat=True)) == {ProviderRole.SERVICE_USER}
    assert sorted(message.to[0] for message in mail.outbox) == [
        "ann@msp.test",
        "ben@msp.test",
        "cat@msp.test",
    ]
    assert event_types(provider=world.provider) == [EventType.PROVIDER_USER_INVITED] * 3


def test_invitation_email_waits_for_the_commit(world, login, django_capture_on_commit_callbacks):
    client = login(world.provider_admin)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        invite(client, world.provider, "ann@msp.test")
    assert mail.outbox == [] and len(callbacks) == 1


@pytest.mark.parametrize(
    "emails, message",
    [
        (", ".join(f"p{n}@msp.test" for n in range(21)), "invite at most 20 at once"),
        ("ann@msp.test, not-an-email", "“not-an-email” is not a valid email address."),
        ("ann@msp.test, ANN@msp.test", "Listed more than once: ann@msp.test."),
        ("  ", "This field is required."),
    ],
)
def test_bad_email_lists_are_refused_and_nothing_changes(world, login, emails, message):
    client = login(world.provider_admin)
    before = ProviderUser.objects.count()
    response = invite(client, world.provider, emails)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert emails.strip() in response.content.decode()  # what was typed is kept
    assert ProviderUser.objects.count() == before and mail.outbox == []


def test_twenty_emails_are_accepted(world, login):
    client = login(world.provider_admin)
    response = invite(client, world.provider, " ".join(f"p{n}@msp.test" for n in range(20)))
    assert response.status_code == 302
    assert world.provider.provider_users.filter(status=ProviderUserStatus.INVITED).count() == 20


def test_existing_staff_cannot_be_invited_again(world, login):
    client = login(world.provider_admin)
    response = invite(client, world.provider, f"new@msp.test, {world.service_user.email}")
    assert (
        f"Already on this provider's staff: {world.service_user.email}"
        in page_messages(response)[0]
    )
    assert not ProviderUser.objects.filter(email="new@msp.test").exists()


def test_forged_role_is_a_form_error(world, login):
    client = login(world.provider_admin)
    response = invite(client, world.provider, "ann@msp.test", role="owner")
    assert response.status_code == 200
    assert b"Select a valid choice" in response.content
    assert not ProviderUser.objects.filter(email="ann@msp.test").exists()


def test_service_users_cannot_manage_provider_users(world, login):
    client = login(world.service_user)
    assert invite(client, world.provider, "ann@msp.test").status_code == 403
    assert client.get(provider_url("provider_users", world.provider)).status_code == 403


def test_admin_confirms_an_accepted_user(world, login):
    accepted = factories.ProviderUserFactory(
        provider=world.provider, role=ProviderRole.SERVICE_USER, status=ProviderUserStatus.ACCEPTED
    )
    client = login(world.provider_admin)
    response = client.post(provider_url("provider_user_confirm", world.provider, accepted.pk))
    assert response.status_code == 302
    accepted.refresh_from_db()
    assert accepted.status == ProviderUserStatus.CONFIRMED
    event = Event.objects.get(type=EventType.PROVIDER_USER_CONFIRMED)
    assert event.provider == world.provider and event.actor == world.provider_admin


def test_an_invited_user_cannot_be_confirmed_before_accepting(world, login):
    invited = factories.ProviderUserFactory(
        provider=world.provider, user=None, email="x@msp.test", status=ProviderUserStatus.INVITED
    )
    client = login(world.provider_admin)
    response = client.post(
        provider_url("provider_user_confirm", world.provider, invited.pk), follow=True
    )
    assert "only users who accepted their invitation can be" in page_messages(response)[0]
    invited.refresh_from_db()
    assert invited.status == ProviderUserStatus.INVITED


def test_resend_issues_a_new_link_and_the_old_one_stops_working(
    world, login, client, django_capture_on_commit_callbacks
):
    admin = login(world.provider_admin)
    with django_capture_on_commit_callbacks(execute=True):
        invite(admin, world.provider, "ann@msp.test, ben@msp.test")
    first_links = {message.to[0]: message.body for message in mail.outbox}
    ann, ben = (ProviderUser.objects.get(email=e) for e in ("ann@msp.test", "ben@msp.test"))
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(
            provider_url("provider_users_resend", world.provider),
            {"provider_users": [ann.pk, ben.pk]},
            follow=True,
        )
    assert "Sent 2 invitations again" in page_messages(response)[-1]
    assert len(mail.outbox) == 4
    assert mail.outbox[2].body != first_links[mail.outbox[2].to[0]]
    assert Invitation.objects.filter(provider_user=ann).count() == 1
    resent = Event.objects.filter(type=EventType.PROVIDER_USER_INVITED, details__resent=True)
    assert resent.count() == 2
    # The first link of ann no longer opens anything.
    import re

    old_token = re.search(r"/invitations/open/\?token=([\w-]+)", first_links["ann@msp.test"])
    client.logout()
    assert client.get(invitation_open_url(old_token.group(1))).status_code == 404


def test_resend_of_another_providers_invitee_is_a_form_error(world, login):
    theirs = factories.ProviderUserFactory(
        provider=world.other_provider,
        user=None,
        email="t@o.test",
        status=ProviderUserStatus.INVITED,
    )
    client = login(world.provider_admin)
    response = client.post(
        provider_url("provider_users_resend", world.provider),
        {"provider_users": [theirs.pk]},
        follow=True,
    )
    assert "no longer waiting for an invitation" in page_messages(response)[0]
    assert "Nothing was sent" in page_messages(response)[0]
    assert mail.outbox == []


def test_change_role_writes_an_event(world, login):
    service = world.provider.provider_users.get(user=world.service_user)
    client = login(world.provider_admin)
    response = client.post(
        provider_url("provider_user_role", world.provider, service.pk), {"role": "admin"}
    )
    assert response.status_code == 302
    service.refresh_from_db()
    assert service.role == ProviderRole.ADMIN
    event = Event.objects.get(type=EventType.PROVIDER_USER_UPDATED)
    assert event.details["role"] == "admin" and event.details["previous_role"] == "service_user"


def test_forged_role_change_is_a_form_error(world, login):
    service = world.provider.provider_users.get(user=world.service_user)
    client = login(world.provider_admin)
    response = client.post(
        provider_url("provider_user_role", world.provider, service.pk), {"role": "superuser"}
    )
    assert response.status_code == 200 and b"Select a valid choice" in response.content
    service.refresh_from_db()
    assert service.role == ProviderRole.SERVICE_USER


def test_nobody_changes_their_own_role(world, login):
    factories.ProviderUserFactory(provider=world.provider, role=ProviderRole.ADMIN)
    own = world.provider.provider_users.get(user=world.provider_admin)
    client = login(world.provider_admin)
    response = client.post(
        provider_url("provider_user_role", world.provider, own.pk), {"role": "service_user"}
    )
    assert "You cannot change your own role" in page_messages(response)[0]
    own.refresh_from_db()
    assert own.role == ProviderRole.ADMIN


def test_the_last_confirmed_admin_is_neither_removed_nor_demoted(world):
    only_admin = world.provider.provider_users.get(user=world.provider_admin)
    # An invited or accepted admin does not count.
    factories.ProviderUserFactory(
        provider=world.provider, role=ProviderRole.ADMIN, status=ProviderUserStatus.ACCEPTED
    )
    # Services trust the view for capabilities; any actor of the provider hits the rule.
    actor = provider_actor(world.service_user, world.provider)
    with pytest.raises(LastAdminError, match="at least one confirmed provider admin"):
        provider_user_remove(actor=actor, provider_user=only_admin)
    with pytest.raises(LastAdminError):
        provider_user_update_role(
            actor=actor, provider_user=only_admin, role=ProviderRole.SERVICE_USER
        )
    only_admin.refresh_from_db()
    assert only_admin.role == ProviderRole.ADMIN
    assert not Event.objects.filter(provider=world.provider).exists()


def test_one_of_two_admins_removes_the_other(world, login):
    second = factories.ProviderUserFactory(provider=world.provider, role=ProviderRole.ADMIN)
    client = login(world.provider_admin)
    response = client.post(provider_url("provider_user_remove", world.provider, second.pk))
    assert response.status_code == 302
    assert not ProviderUser.objects.filter(pk=second.pk).exists()


def test_nobody_removes_themself(world, login):
    factories.ProviderUserFactory(provider=world.provider, role=ProviderRole.ADMIN)
    own = world.provider.provider_users.get(user=world.provider_admin)
    client = login(world.provider_admin)
    response = client.post(
        provider_url("provider_user_remove", world.provider, own.pk), follow=True
    )
    assert "You cannot remove yourself" in page_messages(response)[0]
    assert ProviderUser.objects.filter(pk=own.pk).exists()


def test_last_admin_refusal_is_shown_on_the_page(world, login, monkeypatch):
    """The loser of a race (see test_last_admin_race) sees why on the page."""
    second = factories.ProviderUserFactory(provider=world.provider, role=ProviderRole.ADMIN)
    # As if the other admin's concurrent request had just removed this admin.
    monkeypatch.setattr(
        "providers.services._locked_confirmed_admin_ids", lambda provider: [second.pk]
    )
    client = login(world.provider_admin)
    response = client.post(
        provider_url("provider_user_remove", world.provider, second.pk), follow=True
    )
    assert "A provider needs at least one confirmed provider admin" in page_messages(response)[0]
    assert ProviderUser.objects.filter(pk=second.pk).exists()


def test_remove_a_service_user(world, login):
    service = world.provider.provider_users.get(user=world.service_user)
    client = login(world.provider_admin)
    page = client.get(provider_url("provider_user_remove", world.provider, service.pk))
    assert b"loses access" in page.content
    response = client.post(provider_url("provider_user_remove", world.provider, service.pk))
    assert response.status_code == 302
    assert not ProviderUser.objects.filter(pk=service.pk).exists()
    event = Event.objects.get(type=EventType.PROVIDER_USER_REMOVED)
    assert event.details["email"] == world.service_user.email
    assert event.object_id == str(service.pk)
    # The removed user is a stranger now.
    assert (
        login(world.service_user)
        .get(provider_url("provider_dashboard", world.provider))
        .status_code
        == 404
    )


def test_another_providers_user_is_not_found(world, login):
    theirs = world.other_provider.provider_users.get()
    client = login(world.provider_admin)
    for name in ("provider_user_detail", "provider_user_remove"):
        assert client.get(provider_url(name, world.provider, theirs.pk)).status_code == 404
    for name in (
        "provider_user_role",
        "provider_user_scope",
        "provider_user_confirm",
        "provider_user_remove",
    ):
        response = client.post(
            provider_url(name, world.provider, theirs.pk), {"role": "service_user", "scope": "all"}
        )
        assert response.status_code == 404, name
    theirs.refresh_from_db()
    assert theirs.role == ProviderRole.ADMIN
    assert not Event.objects.filter(provider__in=[world.provider, world.other_provider]).exists()


def test_failover_banner_until_two_admins_are_confirmed(world, login):
    client = login(world.provider_admin)
    pages = ["provider_dashboard", "provider_users", "provider_billing", "provider_events"]
    for name in pages:
        assert (
            b"has only one confirmed provider admin"
            in client.get(provider_url(name, world.provider)).content
        ), name
    # Service users do not see it (they cannot act on it).
    service_page = login(world.service_user).get(provider_url("provider_dashboard", world.provider))
    assert b"has only one confirmed provider admin" not in service_page.content
    factories.ProviderUserFactory(
        provider=world.provider,
        role=ProviderRole.ADMIN,
        status=ProviderUserStatus.ACCEPTED,
    )
    page = login(world.provider_admin).get(provider_url("provider_dashboard", world.provider))
    assert b"has only one confirmed provider admin" in page.content  # accepted is not enough
    factories.ProviderUserFactory(provider=world.provider, role=ProviderRole.ADMIN)
    page = login(world.provider_admin).get(provider_url("provider_dashboard", world.provider))
    assert b"has only one confirmed provider admin" not in page.content


def test_users_list_searches_and_paginates(world, login):
    for n in range(30):
        factories.ProviderUserFactory(
            provider=world.provider, user=None, email=f"p{n:02d}@msp.test", status="invited"
        )
    client = login(world.provider_admin)
    url = provider_url("provider_users", world.provider)
    first = client.get(url)
    assert b"Page 1 of 2" in first.content
    searched = client.get(url, {"q": "p07"})
    assert b"p07@msp.test" in searched.content and b"p08@msp.test" not in searched.content
    assert world.other_provider_admin.email.encode() not in first.content


def test_an_address_too_long_to_store_is_refused_and_nothing_changes(world, login):
    from .helpers import TOO_LONG_EMAIL

    client = login(world.provider_admin)
    response = invite(client, world.provider, f"ann@msp.test, {TOO_LONG_EMAIL}")
    assert response.status_code == 200
    assert "is longer than 254 characters" in response.content.decode()
    assert not ProviderUser.objects.filter(email="ann@msp.test").exists() and mail.outbox == []


def test_invite_service_checks_addresses_itself(world):
    from providers.services import ProviderError, provider_user_invite

    from .helpers import TOO_LONG_EMAIL

    actor = provider_actor(world.provider_admin, world.provider)
    for emails, message in (
        (["ann@msp.test", "nope"], "not a valid email address"),
        (["ann@msp.test", TOO_LONG_EMAIL], "longer than 254 characters"),
        (["ann@msp.test", " ANN@msp.test"], "listed only once"),
    ):
        with pytest.raises(ProviderError, match=message):
            provider_user_invite(actor=actor, emails=emails, role=ProviderRole.SERVICE_USER)
    assert not ProviderUser.objects.filter(email="ann@msp.test").exists()


def test_a_concurrent_invitation_of_the_same_address_is_a_refusal_not_an_error(world):
    """Two admins invite one address at the same moment: both pass the "already staff"
    check, and the unique constraint decides. The loser gets a message, not a 500."""
    from django.db import transaction

    from providers.services import ProviderError, _create_invited

    actor = provider_actor(world.provider_admin, world.provider)
    factories.ProviderUserFactory(
        provider=world.provider, user=None, email="ann@msp.test", status="invited"
    )
    with transaction.atomic():
        with pytest.raises(ProviderError, match="invited to this provider's staff a moment ago"):
            _create_invited(actor=actor, email="ann@msp.test", role=ProviderRole.SERVICE_USER)
        # The transaction is still usable: the savepoint took the failed insert away.
        assert ProviderUser.objects.filter(email="ann@msp.test").count() == 1


def test_resend_of_one_invitation_says_so_in_the_singular(
    world, login, django_capture_on_commit_callbacks
):
    admin = login(world.provider_admin)
    with django_capture_on_commit_callbacks(execute=True):
        invite(admin, world.provider, "ann@msp.test")
    ann = ProviderUser.objects.get(email="ann@msp.test")
    response = admin.post(
        provider_url("provider_users_resend", world.provider),
        {"provider_users": [ann.pk]},
        follow=True,
    )
    assert "Sent 1 invitation again" in page_messages(response)[-1]


def test_resend_button_only_when_someone_is_waiting(world, login):
    client = login(world.provider_admin)
    url = provider_url("provider_users", world.provider)
    assert b"Resend the ticked invitations" not in client.get(url).content
    factories.ProviderUserFactory(
        provider=world.provider, user=None, email="x@msp.test", status="invited"
    )
    assert b"Resend the ticked invitations" in client.get(url).content


def test_who_counts_as_a_provider_admin_is_the_permission_layers_decision(
    world, login, monkeypatch
):
    """The last-admin rule, the failover banner and provider_status count the rows whose
    role the permission layer calls an admin role, not a role name compared here."""
    from portal import access
    from providers.selectors import confirmed_admin_count

    assert confirmed_admin_count(provider=world.provider) == 1
    monkeypatch.setitem(
        access._PROVIDER_RELATIONSHIP, ProviderRole.SERVICE_USER, access.Relationship.PROVIDER_ADMIN
    )
    assert confirmed_admin_count(provider=world.provider) == 2
    page = login(world.provider_admin).get(provider_url("provider_dashboard", world.provider))
    assert b"has only one confirmed provider admin" not in page.content
    only_admin = world.provider.provider_users.get(user=world.provider_admin)
    actor = provider_actor(world.service_user, world.provider)
    provider_user_remove(actor=actor, provider_user=only_admin)  # another admin remains
    assert not ProviderUser.objects.filter(pk=only_admin.pk).exists()


def test_users_list_shows_whose_invitation_link_expired(world, login):
    from datetime import timedelta

    from django.utils import timezone

    fresh, stale = (
        factories.ProviderUserFactory(
            provider=world.provider, user=None, email=email, status="invited"
        )
        for email in ("fresh@msp.test", "stale@msp.test")
    )
    factories.InvitationFactory(provider_user=fresh, membership=None, email=fresh.email)
    factories.InvitationFactory(
        provider_user=stale,
        membership=None,
        email=stale.email,
        expires_at=timezone.now() - timedelta(hours=1),
    )
    page = login(world.provider_admin).get(provider_url("provider_users", world.provider))
    rows = {row.email: row.invitation_live for row in page.context["page"].object_list}
    assert rows["fresh@msp.test"] is True and rows["stale@msp.test"] is False
    assert page.content.decode().count("link expired") == 1
