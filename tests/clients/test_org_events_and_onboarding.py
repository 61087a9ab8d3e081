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
    types = lambda **p: [r.event.type for r in client.get(url, p).context["page"].object_list]  # noqa: E731
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
    custom_with_logs = factories.MembershipFactory(
        org=world.org, role=MemberRole.CUSTOM, can_access_event_logs=True
    ).user
    response = login(custom_with_logs).get(reverse("org_overview", args=[world.org.pk]))
    assert response.status_code == 200 and response.context["onboarding"] is None


def test_every_step_links_to_its_page(world, login):
    response = login(world.alice).get(reverse("org_overview", args=[world.org.pk]))
    steps = {step.label: step for step in response.context["onboarding"]}
    # The policies page came with the policies issue (it was listed as unavailable before).
    policies = steps["Configure policies"]
    assert policies.available and policies.url == reverse("org_policies", args=[world.org.pk])
    for label in ("Create collections", "Create groups", "Invite users", "Confirm users"):
        assert steps[label].available and steps[label].url
    assert steps["Confirm users"].url == reverse("org_members", args=[world.org.pk])
    assert steps["Create collections"].url == reverse("org_collections", args=[world.org.pk])
    # Every link goes to a page that answers.
    for step in steps.values():
        if step.url:
            assert login(world.alice).get(step.url).status_code == 200, step.label


def test_a_plain_user_opens_the_org_on_their_vault(world, login):
    vault = reverse("vault_item_list", args=[world.org.pk])
    overview = reverse("org_overview", args=[world.org.pk])
    bob = login(world.bob)
    response = bob.get(overview)
    assert response.status_code == 302 and response["Location"] == vault
    # bob belongs to one org: home takes him there, which is his vault.
    landing = bob.get(reverse("home"), follow=True)
    assert landing.redirect_chain[-1][0] == vault
    page = landing.content.decode()
    assert f'href="{overview}"' not in page  # no sidebar link that would only bounce
    assert reverse("org_leave", args=[world.org.pk]) in page  # leaving stays reachable
    for runner in (world.alice, world.org_admin, world.custom, world.provider_admin):
        response = login(runner).get(overview)
        assert response.status_code == 200, runner
        assert f'href="{overview}"' in response.content.decode()


def test_a_member_who_manages_a_collection_keeps_the_overview(world, login):
    from clients.models import AccessLevel

    member = factories.MembershipFactory(org=world.org, role=MemberRole.USER)
    factories.CollectionMemberGrantFactory(
        collection=world.collection, membership=member, level=AccessLevel.MANAGE
    )
    assert login(member.user).get(reverse("org_overview", args=[world.org.pk])).status_code == 200
