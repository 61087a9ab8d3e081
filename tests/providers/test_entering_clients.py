"""Entering a client as its provider: admin pages yes, vault pages no, no seat, logged."""

import pytest
from django.urls import NoReverseMatch, get_resolver, reverse

from clients.models import Membership
from portal.events import PROVIDER_ENTRIES_SESSION_KEY
from portal.models import Event, EventType
from tests import factories

from .helpers import provider_url

pytestmark = pytest.mark.django_db

ADMIN_PAGES = ["org_overview", "org_members", "org_groups", "org_collections", "org_events"]
# Client pages that later issues add; checked when their routes exist.
LATER_ADMIN_PAGES = ["org_policies", "org_import", "vault_import"]


@pytest.fixture(params=["provider_admin", "service_user_all", "service_user_scoped"])
def provider_staff(request, world):
    """Each provider role that may enter world.org."""
    if request.param == "provider_admin":
        return world.provider_admin
    service = world.provider.provider_users.get(user=world.service_user)
    if request.param == "service_user_scoped":
        service.access_all_clients = False
        service.save()
        service.client_scope.add(world.org)
    return world.service_user


def vault_urls(org) -> list[str]:
    """Every vault page of the org whose URL needs only the org id."""
    resolver = get_resolver()
    urls = []
    for name in resolver.reverse_dict:
        if not isinstance(name, str):
            continue
        try:
            url = reverse(name, kwargs={"org_id": org.pk})
        except NoReverseMatch:
            continue
        if "/vault/" in url:
            urls.append(url)
    return urls


def test_provider_staff_reach_the_clients_admin_pages(world, login, provider_staff):
    client = login(provider_staff)
    for name in ADMIN_PAGES:
        response = client.get(reverse(name, args=[world.org.pk]))
        assert response.status_code == 200, name
        assert b"managed by Demo MSP" in response.content, name
    for name in LATER_ADMIN_PAGES:
        try:
            url = reverse(name, args=[world.org.pk])
        except NoReverseMatch:
            continue
        assert client.get(url).status_code == 200, name


def test_provider_staff_never_reach_the_vault(world, login, provider_staff):
    client = login(provider_staff)
    overview = client.get(reverse("org_overview", args=[world.org.pk]))
    assert b"/vault/" not in overview.content  # no vault link offered
    for url in vault_urls(world.org):
        assert client.get(url).status_code in (403, 404), url


def test_vault_pages_are_covered_once_the_vault_has_them(world):
    """Keeps the test above from passing vacuously when the vault gains pages."""
    import vault.urls

    if vault.urls.urlpatterns:
        assert vault_urls(world.org)


def test_entering_uses_no_seat_and_is_never_listed(world, login, provider_staff):
    before = list(Membership.objects.filter(org=world.org).values_list("pk", flat=True))
    client = login(provider_staff)
    members = client.get(reverse("org_members", args=[world.org.pk]))
    listed = [member.email for member in members.context["page"].object_list]
    assert world.alice.email in listed and provider_staff.email not in listed
    assert list(Membership.objects.filter(org=world.org).values_list("pk", flat=True)) == before
    overview = client.get(reverse("org_overview", args=[world.org.pk]))
    assert b"4 of 10 used" in overview.content


def test_first_entry_of_a_session_goes_in_both_logs(world, login, provider_staff):
    client = login(provider_staff)
    for name in ADMIN_PAGES:
        client.get(reverse(name, args=[world.org.pk]))
    in_client_log = Event.objects.get(org=world.org, type=EventType.ORG_ACCESSED_BY_PROVIDER)
    assert in_client_log.actor == provider_staff
    assert in_client_log.acting_provider == world.provider
    in_provider_log = Event.objects.get(provider=world.provider, type=EventType.CLIENT_ACCESSED)
    assert in_provider_log.object_id == str(world.org.pk)
    assert in_provider_log.details["client"] == "Alice Co"
    assert str(world.org.pk) in client.session[PROVIDER_ENTRIES_SESSION_KEY]
    # A new session records a new entry.
    client = login(provider_staff)
    client.get(reverse("org_overview", args=[world.org.pk]))
    assert Event.objects.filter(type=EventType.ORG_ACCESSED_BY_PROVIDER).count() == 2


def test_members_entering_their_own_org_record_nothing(world, login):
    login(world.alice).get(reverse("org_overview", args=[world.org.pk]))
    assert not Event.objects.filter(type=EventType.ORG_ACCESSED_BY_PROVIDER).exists()


def test_client_event_log_names_the_provider_as_the_actor(world, login):
    client = login(world.provider_admin)
    client.post(
        provider_url("provider_client_edit", world.provider, world.org.pk),
        {"name": "Alice Co", "seats": 12},
    )
    page = login(world.alice).get(reverse("org_events", args=[world.org.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    types = [row.event.type for row in page.context["page"].object_list]
    assert EventType.ORG_UPDATED in types and EventType.ORG_ACCESSED_BY_PROVIDER not in types
    # The provider as the actor, with the person who acted for it.
    assert "Demo MSP (provider)" in content
    assert world.provider_admin.email in content


def test_provider_staff_of_another_provider_and_strangers_get_404(world, login):
    for user in (world.other_provider_admin, world.charlie):
        client = login(user)
        for name in ADMIN_PAGES:
            assert client.get(reverse(name, args=[world.org.pk])).status_code == 404


def test_a_provider_admin_who_is_also_a_member_uses_the_vault_as_a_member(world, login):
    factories.MembershipFactory(org=world.org, user=world.provider_admin)
    client = login(world.provider_admin)
    client.get(reverse("org_overview", args=[world.org.pk]))
    # Acting as a member: no provider entry is recorded.
    assert not Event.objects.filter(type=EventType.ORG_ACCESSED_BY_PROVIDER).exists()
