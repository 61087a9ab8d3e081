"""Client lifecycle: create, add an existing org, rename and seats, unlink, disable."""

import pytest
from django.contrib.admin.sites import site as admin_site
from django.core import mail
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse

from clients.models import (
    AccessLevel,
    CollectionMemberGrant,
    MemberRole,
    Membership,
    MemberStatus,
    Organization,
    Plan,
)
from portal.models import Event, EventType
from providers.models import Provider, ProviderRole
from tests import factories

from .helpers import (
    TOO_LONG_EMAIL,
    event_types,
    open_invitation,
    page_messages,
    provider_url,
    token_from_outbox,
)

pytestmark = pytest.mark.django_db

NEW_CLIENT = {
    "name": "Bravo Ltd",
    "plan": Plan.ENTERPRISE,
    "seats": "15",
    "owner_email": "o@b.test",
}


def create_client(client, provider, **overrides):
    return client.post(
        provider_url("provider_client_create", provider), {**NEW_CLIENT, **overrides}
    )


# --- Create ----------------------------------------------------------------------------


def test_admin_creates_a_client_with_an_invited_owner(
    world, login, django_capture_on_commit_callbacks
):
    client = login(world.provider_admin)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = create_client(client, world.provider)
    assert response.status_code == 302
    assert mail.outbox == []  # the email waits for the commit
    for callback in callbacks:
        callback()
    org = Organization.objects.get(name="Bravo Ltd")
    assert (org.provider, org.plan, org.seats, org.enabled) == (
        world.provider,
        "enterprise",
        15,
        True,
    )
    owner = Membership.objects.get(org=org)
    assert (owner.email, owner.role, owner.status, owner.user) == (
        "o@b.test",
        MemberRole.OWNER,
        MemberStatus.INVITED,
        None,
    )
    assert org.vault_keys.exists()  # its own key pair, from org_create
    default = org.collections.get(is_default=True)
    grant = CollectionMemberGrant.objects.get(collection=default, membership=owner)
    assert grant.level == AccessLevel.MANAGE
    assert [message.to for message in mail.outbox] == [["o@b.test"]]
    assert "Bravo Ltd" in mail.outbox[0].subject
    # One row in each log: the provider's names the client, the client's names the provider.
    assert event_types(provider=world.provider) == [EventType.CLIENT_CREATED]
    assert event_types(org=org) == [EventType.ORG_CREATED, EventType.MEMBER_INVITED]
    assert set(Event.objects.filter(org=org).values_list("acting_provider", flat=True)) == {
        world.provider.pk
    }


def test_owner_accepts_and_is_confirmed(world, login, client, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        create_client(login(world.provider_admin), world.provider)
    client.logout()
    url = open_invitation(client, token_from_outbox())
    client.post(url, {"password1": "a long new passphrase", "password2": "a long new passphrase"})
    owner = Membership.objects.get(email="o@b.test")
    assert owner.status == MemberStatus.CONFIRMED and owner.user.email == "o@b.test"


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"seats": "0"}, "greater than or equal to 1"),
        ({"seats": "ten"}, "Enter a whole number."),
        ({"owner_email": "nope"}, "Enter a valid email address."),
        ({"plan": "free"}, "Select a valid choice."),
        ({"name": ""}, "This field is required."),
    ],
)
def test_bad_client_input_is_refused_and_nothing_changes(world, login, overrides, message):
    before = Organization.objects.count()
    response = create_client(login(world.provider_admin), world.provider, **overrides)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Organization.objects.count() == before and mail.outbox == []
    if "name" not in overrides:
        assert b'value="Bravo Ltd"' in response.content  # what was typed is kept


def test_service_users_cannot_create_clients(world, login):
    assert create_client(login(world.service_user), world.provider).status_code == 403
    assert not Organization.objects.filter(name="Bravo Ltd").exists()


# --- Add an existing org ---------------------------------------------------------------


def test_admin_adds_an_org_they_own(world, login):
    own_org = factories.OrganizationFactory(name="Own Org")
    factories.MembershipFactory(org=own_org, user=world.provider_admin, role=MemberRole.OWNER)
    not_owner = factories.OrganizationFactory(name="Member Only")
    factories.MembershipFactory(org=not_owner, user=world.provider_admin, role=MemberRole.ADMIN)
    managed = factories.OrganizationFactory(name="Managed", provider=world.other_provider)
    factories.MembershipFactory(org=managed, user=world.provider_admin, role=MemberRole.OWNER)
    client = login(world.provider_admin)
    url = provider_url("provider_client_add", world.provider)
    page = client.get(url)
    assert b"Own Org" in page.content
    assert b"Member Only" not in page.content and b"Managed" not in page.content
    for forged in (not_owner, managed, world.other_org):
        response = client.post(url, {"org": forged.pk})
        assert response.status_code == 200 and b"Select a valid choice" in response.content
    assert client.post(url, {"org": own_org.pk}).status_code == 302
    own_org.refresh_from_db()
    assert own_org.provider == world.provider
    assert event_types(provider=world.provider) == [EventType.CLIENT_ADDED]
    assert event_types(org=own_org) == [EventType.ORG_UPDATED]
    managed.refresh_from_db()
    assert managed.provider == world.other_provider


def test_add_page_says_when_there_is_nothing_to_add(world, login):
    page = login(world.provider_admin).get(provider_url("provider_client_add", world.provider))
    assert b"You have none" in page.content


# --- Rename and seats ------------------------------------------------------------------


def edit(client, provider, org, **data):
    return client.post(provider_url("provider_client_edit", provider, org.pk), data)


def test_admin_renames_and_sets_seats(world, login):
    response = edit(
        login(world.provider_admin), world.provider, world.org, name="Alice Inc", seats=7
    )
    assert response.status_code == 302
    world.org.refresh_from_db()
    assert (world.org.name, world.org.seats) == ("Alice Inc", 7)
    provider_event = Event.objects.get(provider=world.provider, type=EventType.CLIENT_UPDATED)
    assert provider_event.details["seats"] == {"from": 10, "to": 7}
    org_event = Event.objects.get(org=world.org, type=EventType.ORG_UPDATED)
    assert org_event.acting_provider == world.provider
    assert org_event.details["name"] == {"from": "Alice Co", "to": "Alice Inc"}


def test_service_user_renames_only(world, login):
    client = login(world.service_user)
    page = client.get(provider_url("provider_client_edit", world.provider, world.org.pk))
    assert b'name="seats"' not in page.content
    assert edit(client, world.provider, world.org, name="Renamed", seats=99).status_code == 302
    world.org.refresh_from_db()
    assert (world.org.name, world.org.seats) == ("Renamed", 10)


@pytest.mark.parametrize(
    "seats, message",
    [("0", "greater than or equal to 1"), ("lots", "Enter a whole number."), ("", "required")],
)
def test_bad_seats_are_refused(world, login, seats, message):
    response = edit(login(world.provider_admin), world.provider, world.org, name="X", seats=seats)
    assert response.status_code == 200 and message in response.content.decode()
    world.org.refresh_from_db()
    assert (world.org.name, world.org.seats) == ("Alice Co", 10)


def test_seats_below_those_in_use_are_refused_with_a_clear_message(world, login):
    # The world's org has four confirmed members; an invited one holds a seat too,
    # a revoked one does not.
    factories.MembershipFactory(org=world.org, user=None, email="i@a.test", status="invited")
    factories.MembershipFactory(org=world.org, status=MemberStatus.REVOKED)
    client = login(world.provider_admin)
    response = edit(client, world.provider, world.org, name="Alice Co", seats=4)
    assert "already uses 5 seats" in page_messages(response)[0]
    assert "Choose at least 5" in page_messages(response)[0]
    assert b'value="4"' in response.content  # the typed value is kept
    world.org.refresh_from_db()
    assert world.org.seats == 10
    assert edit(client, world.provider, world.org, name="Alice Co", seats=5).status_code == 302


def test_another_providers_client_is_not_found(world, login):
    client = login(world.provider_admin)
    for name in ("provider_client_edit", "provider_client_unlink"):
        url = provider_url(name, world.provider, world.other_org.pk)
        assert client.get(url).status_code == 404
        assert client.post(url, {"name": "Hijacked", "seats": 1}).status_code == 404
    # Through the other provider's URL, too: this admin is not its staff.
    url = provider_url("provider_client_edit", world.other_provider, world.other_org.pk)
    assert client.get(url).status_code == 404
    world.other_org.refresh_from_db()
    assert world.other_org.name == "Other Co" and world.other_org.provider == world.other_provider


# --- Unlink ----------------------------------------------------------------------------


def test_unlink_needs_a_confirmed_owner_of_its_own(world, login):
    owner = Membership.objects.get(org=world.org, user=world.alice)
    owner.status = MemberStatus.ACCEPTED
    owner.save()
    client = login(world.provider_admin)
    url = provider_url("provider_client_unlink", world.provider, world.org.pk)
    response = client.post(url)
    assert "has no confirmed owner of its own" in page_messages(response)[0]
    world.org.refresh_from_db()
    assert world.org.provider == world.provider
    owner.status = MemberStatus.CONFIRMED
    owner.save()
    assert client.post(url).status_code == 302
    world.org.refresh_from_db()
    assert world.org.provider is None
    assert event_types(provider=world.provider) == [EventType.CLIENT_UNLINKED]
    assert Event.objects.get(org=world.org, type=EventType.ORG_UPDATED).acting_provider_id == (
        world.provider.pk
    )


def test_unlinked_client_keeps_everything_and_provider_staff_lose_access(world, login):
    members_before = Membership.objects.filter(org=world.org).count()
    collections_before = world.org.collections.count()
    service = world.provider.provider_users.get(user=world.service_user)
    service.access_all_clients = False
    service.save()
    service.client_scope.add(world.org)
    login(world.provider_admin).post(
        provider_url("provider_client_unlink", world.provider, world.org.pk)
    )
    assert Membership.objects.filter(org=world.org).count() == members_before
    assert world.org.collections.count() == collections_before
    assert not service.client_scope.exists()
    for user in (world.provider_admin, world.service_user):
        assert login(user).get(reverse("org_overview", args=[world.org.pk])).status_code == 404
    assert login(world.alice).get(reverse("org_overview", args=[world.org.pk])).status_code == 200


def test_service_users_cannot_unlink(world, login):
    url = provider_url("provider_client_unlink", world.provider, world.org.pk)
    assert login(world.service_user).post(url).status_code == 403


# --- Scope -----------------------------------------------------------------------------


def test_scoped_service_user_sees_only_chosen_clients(world, login):
    second = factories.OrganizationFactory(name="Second Client", provider=world.provider)
    service = world.provider.provider_users.get(user=world.service_user)
    admin = login(world.provider_admin)
    response = admin.post(
        provider_url("provider_user_scope", world.provider, service.pk),
        {"scope": "chosen", "clients": [second.pk]},
    )
    assert response.status_code == 302
    assert EventType.PROVIDER_USER_UPDATED in event_types(provider=world.provider)
    client = login(world.service_user)
    dashboard = client.get(provider_url("provider_dashboard", world.provider))
    assert b"Second Client" in dashboard.content and b"Alice Co" not in dashboard.content
    assert client.get(reverse("org_overview", args=[world.org.pk])).status_code == 404
    assert client.get(reverse("org_overview", args=[second.pk])).status_code == 200
    edit_url = provider_url("provider_client_edit", world.provider, world.org.pk)
    assert client.get(edit_url).status_code == 404


def test_scope_refuses_another_providers_client_and_an_empty_list(world, login):
    service = world.provider.provider_users.get(user=world.service_user)
    admin = login(world.provider_admin)
    url = provider_url("provider_user_scope", world.provider, service.pk)
    forged = admin.post(url, {"scope": "chosen", "clients": [world.other_org.pk]})
    assert b"Select a valid choice" in forged.content
    empty = admin.post(url, {"scope": "chosen"})
    assert b"Choose at least one client" in empty.content
    service.refresh_from_db()
    assert service.access_all_clients and not service.client_scope.exists()


def test_admins_cannot_be_scoped(world, login):
    second = factories.ProviderUserFactory(provider=world.provider, role=ProviderRole.ADMIN)
    admin = login(world.provider_admin)
    page = admin.get(provider_url("provider_user_detail", world.provider, second.pk))
    assert b"Save client access" not in page.content
    response = admin.post(
        provider_url("provider_user_scope", world.provider, second.pk),
        {"scope": "chosen", "clients": [world.org.pk]},
    )
    assert "only service users can be limited" in page_messages(response)[0]


# --- Disable ---------------------------------------------------------------------------


def test_disabling_a_provider_disables_its_clients_until_enabled(world, login):
    already_off = factories.OrganizationFactory(provider=world.provider, enabled=False)
    call_command("provider_disable", "Demo MSP")
    world.org.refresh_from_db()
    assert not world.org.enabled
    # Nobody can use a disabled client: not its provider, not its own owner.
    assert login(world.alice).get(reverse("org_overview", args=[world.org.pk])).status_code == 403
    url = provider_url("provider_dashboard", world.provider)
    assert login(world.provider_admin).get(url).status_code == 404
    call_command("provider_enable", str(world.provider.pk))
    world.org.refresh_from_db()
    already_off.refresh_from_db()
    assert world.org.enabled and not already_off.enabled
    assert login(world.alice).get(reverse("org_overview", args=[world.org.pk])).status_code == 200
    details = list(
        Event.objects.filter(provider=world.provider, type=EventType.PROVIDER_UPDATED)
        .order_by("id")
        .values_list("details", flat=True)
    )
    assert details == [
        {"enabled": False, "clients_changed": 1},
        {"enabled": True, "clients_changed": 1},
    ]


def test_admin_site_action_disables_provider_and_clients(world, admin_user, monkeypatch):
    model_admin = admin_site._registry[Provider]
    request = RequestFactory().post("/")
    request.user = admin_user
    monkeypatch.setattr(model_admin, "message_user", lambda *args, **kwargs: None)
    model_admin.disable_providers(request, Provider.objects.filter(pk=world.provider.pk))
    world.org.refresh_from_db()
    world.other_org.refresh_from_db()
    assert not world.org.enabled and world.other_org.enabled
    assert "enabled" in model_admin.readonly_fields


# --- Refusals made in the services and the permission layer ------------------------------


def test_who_may_add_an_org_is_the_permission_layers_decision(world, login, monkeypatch):
    """Adding asks the permission layer (an owner's ORG_SETTINGS), not a role name: give
    org admins that capability and an org they administer becomes addable."""
    from portal import access

    org = factories.OrganizationFactory(name="Admin Only")
    factories.MembershipFactory(org=org, user=world.provider_admin, role=MemberRole.ADMIN)
    client = login(world.provider_admin)
    url = provider_url("provider_client_add", world.provider)
    assert b"Admin Only" not in client.get(url).content
    monkeypatch.setitem(
        access.ORG_CAPABILITIES,
        access.Relationship.ADMIN,
        access.ORG_CAPABILITIES[access.Relationship.ADMIN] | {access.Capability.ORG_SETTINGS},
    )
    assert b"Admin Only" in client.get(url).content
    assert client.post(url, {"org": org.pk}).status_code == 302
    org.refresh_from_db()
    assert org.provider == world.provider


def test_client_add_service_refuses_a_non_owner_and_a_managed_org(world):
    from providers.services import ProviderError, client_add

    from .helpers import provider_actor

    actor = provider_actor(world.provider_admin, world.provider)
    member_only = factories.OrganizationFactory()
    factories.MembershipFactory(org=member_only, user=world.provider_admin, role=MemberRole.USER)
    with pytest.raises(ProviderError, match="of which you are a confirmed owner"):
        client_add(actor=actor, org=member_only)
    with pytest.raises(ProviderError, match="already managed by a provider"):
        client_add(actor=actor, org=world.other_org)
    member_only.refresh_from_db()
    assert member_only.provider is None
    assert not Event.objects.filter(provider=world.provider).exists()


def test_unlink_page_says_upfront_when_the_client_has_no_owner_of_its_own(world, login):
    Membership.objects.filter(org=world.org, user=world.alice).update(status=MemberStatus.ACCEPTED)
    url = provider_url("provider_client_unlink", world.provider, world.org.pk)
    page = login(world.provider_admin).get(url)
    assert b"cannot be unlinked yet: it has no confirmed owner of its own" in page.content
    assert b'<button type="submit" class="danger">Unlink</button>' not in page.content
    Membership.objects.filter(org=world.org, user=world.alice).update(status=MemberStatus.CONFIRMED)
    page = login(world.provider_admin).get(url)
    assert b'<button type="submit" class="danger">Unlink</button>' in page.content


def test_services_refuse_a_client_outside_a_service_users_list(world):
    """Views answer 404 first; the services refuse on their own too."""
    from providers.services import ProviderError, client_update

    from .helpers import provider_actor

    second = factories.OrganizationFactory(name="Second", provider=world.provider)
    service = world.provider.provider_users.get(user=world.service_user)
    service.access_all_clients = False
    service.save()
    service.client_scope.add(second)
    actor = provider_actor(world.service_user, world.provider)
    with pytest.raises(ProviderError, match="not one of your clients"):
        client_update(actor=actor, org=world.org, name="Hijacked")
    with pytest.raises(ProviderError, match="not one of your clients"):
        client_update(actor=actor, org=world.other_org, name="Hijacked")
    client_update(actor=actor, org=second, name="Second, renamed")
    world.org.refresh_from_db()
    world.other_org.refresh_from_db()
    assert (world.org.name, world.other_org.name) == ("Alice Co", "Other Co")


def test_scope_service_refuses_the_internal_team(world):
    from providers.services import ProviderError, provider_user_set_scope

    from .helpers import provider_actor

    team = factories.OrganizationFactory(name="Our Team", provider=world.provider)
    world.provider.internal_org = team
    world.provider.save()
    service = world.provider.provider_users.get(user=world.service_user)
    actor = provider_actor(world.provider_admin, world.provider)
    with pytest.raises(ProviderError, match="internal team is not one"):
        provider_user_set_scope(
            actor=actor, provider_user=service, all_clients=False, clients=[team]
        )
    service.refresh_from_db()
    assert service.access_all_clients and not service.client_scope.exists()


def test_an_owner_email_too_long_to_store_is_a_form_error(world, login):
    response = create_client(
        login(world.provider_admin), world.provider, owner_email=TOO_LONG_EMAIL
    )
    assert response.status_code == 200
    assert b"at most 254 characters" in response.content
    assert not Organization.objects.filter(name="Bravo Ltd").exists()


def test_client_create_service_refuses_a_forged_plan(world):
    from providers.services import ProviderError, client_create

    from .helpers import provider_actor

    actor = provider_actor(world.provider_admin, world.provider)
    with pytest.raises(ProviderError, match="Choose a plan"):
        client_create(actor=actor, name="X", plan="free", seats=3, owner_email="o@x.test")
    assert not Organization.objects.filter(name="X").exists()
