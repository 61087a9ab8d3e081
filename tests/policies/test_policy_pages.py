"""The policies page of an org and the edit page of each type."""

import pytest
from django.urls import reverse

from clients.models import MemberRole
from policies.models import Policy, PolicyType
from policies.types import REGISTRY
from portal.models import Event, EventType
from tests import factories
from tests.policies.helpers import edit_url, policies_url

pytestmark = pytest.mark.django_db


def test_the_page_lists_every_offered_type_with_its_state(world, login):
    Policy.objects.create(org=world.org, type=PolicyType.TWO_STEP_LOGIN, enabled=True)
    page = login(world.alice).get(policies_url(world.org))
    assert page.status_code == 200
    states = {state.policy_type.key: state.enabled for state in page.context["states"]}
    assert states == {key: key == PolicyType.TWO_STEP_LOGIN for key in REGISTRY}
    for policy_type in REGISTRY.values():
        assert policy_type.title.encode() in page.content


def test_types_that_are_not_enforced_are_not_offered(world, login):
    """A policy that does nothing is never shown: only registered types are listed."""
    page = login(world.alice).get(policies_url(world.org))
    for key, label in PolicyType.choices:
        if key not in REGISTRY:
            assert label.encode() not in page.content
            assert login(world.alice).get(edit_url(world.org, key)).status_code == 404


def test_another_orgs_policies_are_not_shown(world, login):
    Policy.objects.create(org=world.other_org, type=PolicyType.TWO_STEP_LOGIN, enabled=True)
    page = login(world.alice).get(policies_url(world.org))
    assert not any(state.enabled for state in page.context["states"])


def test_the_page_costs_the_same_queries_whatever_the_policies(
    world, login, django_assert_num_queries
):
    client = login(world.alice)
    client.get(policies_url(world.org))
    with django_assert_num_queries(4) as few:  # the actor's ties come with the org
        client.get(policies_url(world.org))
    for key in REGISTRY:
        Policy.objects.create(org=world.org, type=key, enabled=True)
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(policies_url(world.org))


def test_the_sidebar_and_the_onboarding_checklist_link_to_it(world, login):
    page = login(world.alice).get(reverse("org_overview", kwargs={"org_id": world.org.pk}))
    assert policies_url(world.org).encode() in page.content
    steps = {step.label: step for step in page.context["onboarding"]}
    assert steps["Configure policies"].url == policies_url(world.org)


def test_a_user_gets_403_and_a_stranger_404(world, login):
    assert login(world.bob).get(policies_url(world.org)).status_code == 403
    assert login(world.charlie).get(policies_url(world.org)).status_code == 404
    url = edit_url(world.org, PolicyType.TWO_STEP_LOGIN)
    assert login(world.bob).post(url, {"enabled": "on"}).status_code == 403
    assert login(world.charlie).post(url, {"enabled": "on"}).status_code == 404
    assert not Policy.objects.exists()


def test_the_custom_manage_policies_flag_reaches_the_page(world, login):
    member = factories.MembershipFactory(
        org=world.org, role=MemberRole.CUSTOM, can_manage_policies=True
    )
    assert login(member.user).get(policies_url(world.org)).status_code == 200


def test_wrong_methods_answer_405(world, login):
    client = login(world.alice)
    assert client.post(policies_url(world.org)).status_code == 405
    assert client.delete(edit_url(world.org, PolicyType.TWO_STEP_LOGIN)).status_code == 405


def test_a_type_that_does_not_exist_is_404(world, login):
    client = login(world.alice)
    assert client.get(edit_url(world.org, "no_such_policy")).status_code == 404
    assert client.post(edit_url(world.org, "no_such_policy"), {"enabled": "on"}).status_code == 404
    assert not Policy.objects.exists()


def test_a_foreign_org_is_404_and_changes_nothing(world, login):
    response = login(world.alice).post(
        edit_url(world.other_org, PolicyType.TWO_STEP_LOGIN), {"enabled": "on"}
    )
    assert response.status_code == 404
    assert not Policy.objects.exists()


def test_switching_on_records_one_event_with_old_and_new_by_name(world, login):
    client = login(world.alice)
    url = edit_url(world.org, PolicyType.TWO_STEP_LOGIN)
    response = client.post(url, {"enabled": "on"})
    assert response.status_code == 302 and response["Location"] == policies_url(world.org)
    policy = Policy.objects.get(org=world.org, type=PolicyType.TWO_STEP_LOGIN)
    assert policy.enabled
    event = Event.objects.get(type=EventType.POLICY_UPDATED)
    assert event.org == world.org and event.actor == world.alice
    assert event.object_id == str(policy.pk)
    assert event.details == {
        "name": "Require two-step login",
        "policy": "two_step_login",
        "changes": {"enabled": [False, True]},
    }
    # Saving it unchanged writes nothing.
    client.post(url, {"enabled": "on"})
    assert Event.objects.filter(type=EventType.POLICY_UPDATED).count() == 1
    client.post(url, {})
    assert not Policy.objects.get(pk=policy.pk).enabled
    last = Event.objects.filter(type=EventType.POLICY_UPDATED).first()
    assert last.details["changes"] == {"enabled": [True, False]}


def test_a_provider_change_names_the_provider(world, login):
    login(world.provider_admin).post(
        edit_url(world.org, PolicyType.TWO_STEP_LOGIN), {"enabled": "on"}
    )
    event = Event.objects.get(type=EventType.POLICY_UPDATED, org=world.org)
    assert event.acting_provider == world.provider


def test_the_dashboard_counts_enabled_policies(world, login):
    """The provider dashboard's "policies on" column counts enabled rows: switching off
    keeps the row, so the count must follow `enabled`."""
    from clients.models import Organization
    from providers.selectors import client_rows_with_counts

    def policies_on() -> int:
        (row,) = client_rows_with_counts(Organization.objects.filter(pk=world.org.pk))
        return row.policies_enabled

    client = login(world.alice)
    client.post(edit_url(world.org, PolicyType.TWO_STEP_LOGIN), {"enabled": "on"})
    assert policies_on() == 1
    client.post(edit_url(world.org, PolicyType.TWO_STEP_LOGIN), {})
    assert policies_on() == 0
    assert Policy.objects.filter(org=world.org).count() == 1


@pytest.mark.parametrize("key", sorted(REGISTRY))
def test_every_type_has_an_edit_page_with_its_own_form(world, login, key):
    page = login(world.alice).get(edit_url(world.org, key))
    assert page.status_code == 200
    assert type(page.context["settings_form"]) is REGISTRY[key].settings_form
    assert REGISTRY[key].title.encode() in page.content
