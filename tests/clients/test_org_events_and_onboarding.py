"""The client's own event log page and the onboarding checklist on its overview."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from clients.models import MemberRole, MemberStatus
from clients.selectors import onboarding_state
from portal.models import EventType
from tests import factories

pytestmark = pytest.mark.django_db


def test_org_event_log_lists_this_orgs_events_with_a_date_range(world, login):
    factories.EventFactory(org=world.org, type=EventType.GROUP_CREATED, actor=world.alice)
    factories.EventFactory(
        org=world.org,
        type=EventType.COLLECTION_CREATED,
        occurred_at=timezone.now() - timedelta(days=40),
    )
    factories.EventFactory(org=world.other_org, type=EventType.GROUP_DELETED)
    client = login(world.alice)
    url = reverse("org_events", args=[world.org.pk])
    types = lambda **p: [e.type for e in client.get(url, p).context["page"].object_list]  # noqa: E731
    assert types() == [EventType.GROUP_CREATED, EventType.COLLECTION_CREATED]
    since = (timezone.localdate() - timedelta(days=7)).isoformat()
    assert types(start=since) == [EventType.GROUP_CREATED]
    assert types(end=since) == [EventType.COLLECTION_CREATED]
    assert b"alice@example.test" in client.get(url).content


def test_org_event_log_is_for_those_with_event_access(world, login):
    url = reverse("org_events", args=[world.org.pk])
    assert login(world.org_admin).get(url).status_code == 200
    assert login(world.bob).get(url).status_code == 403
    assert login(world.custom).get(url).status_code == 403  # "manage users" only
    assert login(world.charlie).get(url).status_code == 404


def test_org_event_log_paginates(world, login):
    for _ in range(30):
        factories.EventFactory(org=world.org)
    response = login(world.alice).get(reverse("org_events", args=[world.org.pk]))
    assert b"Page 1 of 2" in response.content


def test_onboarding_ticks_steps_from_the_orgs_state(world):
    org = factories.OrganizationFactory(provider=world.provider)
    factories.CollectionFactory(org=org, name="Default collection", is_default=True)
    factories.MembershipFactory(org=org, role=MemberRole.OWNER)
    state = onboarding_state(org=org)
    assert not any(vars(state).values()) and not state.complete
    factories.CollectionFactory(org=org)
    factories.GroupFactory(org=org)
    factories.PolicyFactory(org=org, enabled=True)
    waiting = factories.MembershipFactory(org=org, status=MemberStatus.ACCEPTED)
    state = onboarding_state(org=org)
    assert state.collections_created and state.groups_created and state.policies_configured
    assert state.users_invited and not state.users_confirmed
    waiting.status = MemberStatus.CONFIRMED
    waiting.save()
    state = onboarding_state(org=org)
    assert state.users_confirmed
    assert not state.data_imported and not state.complete


def test_overview_shows_the_checklist_with_links_to_the_pages(world, login):
    response = login(world.provider_admin).get(reverse("org_overview", args=[world.org.pk]))
    content = response.content.decode()
    assert "Onboarding" in content
    steps = {step.label: step for step in response.context["onboarding"]}
    assert list(steps) == [
        "Create collections",
        "Import data",
        "Configure policies",
        "Create groups",
        "Invite users",
        "Confirm users",
    ]
    assert steps["Create collections"].done  # world.org has "Shared"
    assert not steps["Create groups"].done
    assert steps["Create groups"].url == reverse("org_groups", args=[world.org.pk])
    assert steps["Invite users"].url == reverse("org_members", args=[world.org.pk])
    assert f'href="{steps["Create groups"].url}"' in content


def test_checklist_is_for_managers_only(world, login):
    response = login(world.bob).get(reverse("org_overview", args=[world.org.pk]))
    assert response.context["onboarding"] is None
