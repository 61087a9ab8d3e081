"""Provider baselines: saving them, applying them to clients, and drift."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clients.models import Membership, MemberStatus
from policies.baselines.services import (
    INLINE_MAX_CLIENTS,
    BaselineError,
    baseline_apply,
    baseline_create,
    baseline_update,
)
from policies.models import (
    Baseline,
    BaselineApplyJob,
    BaselineAssignment,
    BaselineJobStatus,
    Policy,
    PolicyType,
)
from portal.access import resolve_provider
from portal.models import Event, EventType
from providers.models import ProviderRole
from tests import factories
from tests.policies.baseline_helpers import (
    baseline_settings,
    baseline_url,
    baselines_url,
    drift_url,
    editor_data,
    make_baseline,
)
from tests.policies.helpers import edit_url, give_two_step

pytestmark = pytest.mark.django_db

TIMEOUT = PolicyType.VAULT_TIMEOUT
TWO_STEP = PolicyType.TWO_STEP_LOGIN
SINGLE_ORG = PolicyType.SINGLE_ORG
MASTER = PolicyType.MASTER_PASSWORD


def provider_actor(world):
    return resolve_provider(world.provider_admin, world.provider)


def client_events(org):
    return Event.objects.filter(type=EventType.POLICY_UPDATED, org=org)


def provider_events(provider):
    return Event.objects.filter(type=EventType.PROVIDER_UPDATED, provider=provider)


def new_clients(world, count: int):
    return [
        factories.OrganizationFactory(name=f"Client {n:02d}", provider=world.provider)
        for n in range(count)
    ]


def policy(org, key):
    return Policy.objects.filter(org=org, type=key).first()


# --- Create, edit, delete -------------------------------------------------------------


def test_an_admin_creates_a_baseline_on_its_page(world, login):
    client = login(world.provider_admin)
    assert (
        client.get(reverse("provider_baseline_create", args=[world.provider.pk])).status_code == 200
    )
    data = editor_data(
        "Standard", vault_timeout={"minutes": 30, "action": "logout"}, single_org=True
    )
    response = client.post(reverse("provider_baseline_create", args=[world.provider.pk]), data)
    assert response.status_code == 302
    baseline = Baseline.objects.get(provider=world.provider)
    assert baseline.name == "Standard"
    assert baseline.settings[TIMEOUT] == {
        "enabled": True,
        "settings": {"minutes": 30, "action": "logout"},
    }
    assert baseline.settings[SINGLE_ORG]["enabled"] is True
    assert baseline.settings[TWO_STEP] == {"enabled": False, "settings": {}}
    event = provider_events(world.provider).get()
    assert event.details["changes"] == {"baseline": [None, "Standard"]}
    listing = client.get(baselines_url(world.provider))
    assert b"Standard" in listing.content and b"Vault timeout" in listing.content


def test_the_list_searches_and_paginates(world, login):
    for n in range(27):
        make_baseline(world.provider, world.provider_admin, name=f"Baseline {n:02d}")
    make_baseline(world.other_provider, world.other_provider_admin, name="Theirs")
    client = login(world.provider_admin)
    first = client.get(baselines_url(world.provider))
    assert b"Baseline 00" in first.content and b"Baseline 26" not in first.content
    assert b"Page 1 of 2" in first.content and b"Theirs" not in first.content
    second = client.get(baselines_url(world.provider) + "?page=2")
    assert b"Baseline 26" in second.content
    searched = client.get(baselines_url(world.provider) + "?q=ine+13")
    assert b"Baseline 13" in searched.content and b"Baseline 12" not in searched.content


def test_an_admin_edits_a_baseline_and_the_event_names_the_changes(world, login):
    baseline = make_baseline(world.provider, world.provider_admin, vault_timeout={"minutes": 15})
    client = login(world.provider_admin)
    page = client.get(baseline_url("provider_baseline_edit", baseline))
    assert b'value="15"' in page.content
    data = editor_data("Strict", vault_timeout={"minutes": 5}, two_step_login=True)
    assert client.post(baseline_url("provider_baseline_edit", baseline), data).status_code == 302
    baseline.refresh_from_db()
    assert baseline.name == "Strict"
    assert baseline.settings[TIMEOUT]["settings"]["minutes"] == 5
    assert baseline.settings[TWO_STEP]["enabled"] is True
    event = provider_events(world.provider).order_by("-id").first()
    assert event.details["changes"] == {
        "Require two-step login · enabled": [False, True],
        "Vault timeout · minutes": [15, 5],
        "name": ["Standard", "Strict"],
    }


def test_deleting_a_baseline_keeps_the_clients_policies(world, login):
    baseline = make_baseline(world.provider, world.provider_admin, vault_timeout=True)
    baseline_apply(actor=provider_actor(world), baseline=baseline, clients=[world.org])
    client = login(world.provider_admin)
    page = client.get(baseline_url("provider_baseline_delete", baseline))
    assert b"1 client was given it" in page.content
    assert client.post(baseline_url("provider_baseline_delete", baseline)).status_code == 302
    assert not Baseline.objects.exists()
    assert not BaselineAssignment.objects.exists()
    assert policy(world.org, TIMEOUT).enabled


# --- Bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "settings", "field"),
    [
        (MASTER, {"min_length": 11}, "min_length"),
        (MASTER, {"min_length": 129}, "min_length"),
        (MASTER, {"min_score": 5}, "min_score"),
        (TIMEOUT, {"minutes": -1}, "minutes"),
    ],
)
def test_settings_out_of_range_are_refused_on_the_page(world, login, key, settings, field):
    client = login(world.provider_admin)
    data = editor_data("Standard", **{key: settings})
    response = client.post(reverse("provider_baseline_create", args=[world.provider.pk]), data)
    assert response.status_code == 200
    assert b"There is a problem" in response.content
    assert f'href="#type-{key}"'.encode() in response.content  # the summary links to it
    if field == "min_score":  # a list of choices: 5 is not one of them
        assert b"Select a valid choice. 5 is not one of the available choices." in response.content
    else:  # the form keeps what was typed
        assert f'name="{key}-{field}" value="{settings[field]}"'.encode() in response.content
    assert not Baseline.objects.exists()
    assert not provider_events(world.provider).exists()


def test_a_settings_forms_own_rule_is_said_in_its_section(world, login):
    client = login(world.provider_admin)
    no_characters = {
        "use_upper": False,
        "use_lower": False,
        "use_digits": False,
        "use_special": False,
    }
    data = editor_data("Standard", password_generator=no_characters)
    response = client.post(reverse("provider_baseline_create", args=[world.provider.pk]), data)
    assert b"Choose at least one kind of character." in response.content
    assert b'href="#type-password_generator"' in response.content
    assert not Baseline.objects.exists()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"no_such_type": {"enabled": True}}, "There is no policy type “no_such_type”"),
        ({TIMEOUT: {"enabled": True, "settings": {"minutes": 0}}}, "Vault timeout: Timeout in"),
        ({MASTER: {"enabled": True, "settings": {"min_length": 129}}}, "Minimum length"),
        ({TIMEOUT: {"enabled": "yes"}}, "say whether it is on"),
    ],
)
def test_the_service_refuses_bad_settings(world, settings, message):
    with pytest.raises(BaselineError, match=message):
        baseline_create(actor=provider_actor(world), name="Bad", settings=settings)
    assert not Baseline.objects.exists()


def test_a_name_is_used_once_per_provider(world, login):
    make_baseline(world.provider, world.provider_admin, name="Standard")
    make_baseline(world.other_provider, world.other_provider_admin, name="Other")
    client = login(world.provider_admin)
    response = client.post(
        reverse("provider_baseline_create", args=[world.provider.pk]), editor_data("standard")
    )
    assert "already has a baseline named “standard”" in response.content.decode()
    assert Baseline.objects.filter(provider=world.provider).count() == 1
    # Another provider's names do not count.
    assert (
        client.post(
            reverse("provider_baseline_create", args=[world.provider.pk]), editor_data("Other")
        ).status_code
        == 302
    )


def test_an_edit_with_bad_settings_changes_nothing(world):
    baseline = make_baseline(world.provider, world.provider_admin, vault_timeout={"minutes": 15})
    bad = baseline_settings(vault_timeout={"minutes": 10081})
    with pytest.raises(BaselineError):
        baseline_update(actor=provider_actor(world), baseline=baseline, name="X", settings=bad)
    baseline.refresh_from_db()
    assert baseline.name == "Standard" and baseline.settings[TIMEOUT]["settings"]["minutes"] == 15


# --- Who may -------------------------------------------------------------------------


def test_service_users_are_refused_and_see_no_link(world, login):
    baseline = make_baseline(world.provider, world.provider_admin)
    client = login(world.service_user)
    assert client.get(baselines_url(world.provider)).status_code == 403
    assert client.get(baseline_url("provider_baseline_apply", baseline)).status_code == 403
    dashboard = client.get(reverse("provider_dashboard", args=[world.provider.pk]))
    assert b"Policy baselines" not in dashboard.content
    admin_dashboard = login(world.provider_admin).get(
        reverse("provider_dashboard", args=[world.provider.pk])
    )
    assert b"Policy baselines" in admin_dashboard.content


def test_another_providers_baseline_answers_404(world, login):
    theirs = make_baseline(world.other_provider, world.other_provider_admin, name="Theirs")
    client = login(world.provider_admin)
    for name in (
        "provider_baseline_edit",
        "provider_baseline_delete",
        "provider_baseline_apply",
    ):
        # Through our own provider's URL: the baseline is not found there.
        assert client.get(baseline_url(name, theirs, world.provider)).status_code == 404
    response = client.post(
        baseline_url("provider_baseline_apply", theirs, world.provider), {"scope": "all"}
    )
    assert response.status_code == 404
    assert not BaselineApplyJob.objects.exists()
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"


def test_client_owners_cannot_reach_baselines(world, login):
    baseline = make_baseline(world.provider, world.provider_admin)
    client = login(world.alice)  # owns a client of the provider, is not its staff
    assert client.get(baselines_url(world.provider)).status_code == 404
    assert client.get(baseline_url("provider_baseline_edit", baseline)).status_code == 404
    assert client.get(drift_url(world.provider, world.org)).status_code == 404


# --- Applying ------------------------------------------------------------------------


def test_apply_inline_writes_one_event_per_changed_client_and_skips_matching_ones(world, login):
    matching = factories.OrganizationFactory(name="Matching Co", provider=world.provider)
    Policy.objects.create(
        org=matching, type=TIMEOUT, enabled=True, settings={"minutes": 30, "action": "lock"}
    )
    baseline = make_baseline(
        world.provider, world.provider_admin, vault_timeout={"minutes": 30, "action": "lock"}
    )
    client = login(world.provider_admin)
    data = {"scope": "chosen", "clients": [str(world.org.pk), str(matching.pk)]}
    response = client.post(baseline_url("provider_baseline_apply", baseline), data)
    job = BaselineApplyJob.objects.get()
    assert response["Location"] == reverse(
        "provider_baseline_job", args=[world.provider.pk, job.pk]
    )
    assert job.status == BaselineJobStatus.SUCCEEDED
    assert (job.changed, job.unchanged, job.done, job.total) == (1, 1, 2, 2)

    event = client_events(world.org).get()
    assert event.acting_provider == world.provider
    assert event.details["name"] == "Standard"
    assert (event.object_type, event.object_id) == ("baseline", str(baseline.pk))
    assert event.details["changes"] == {
        "Vault timeout · enabled": [False, True],
        "Vault timeout · minutes": [15, 30],
    }
    assert not client_events(matching).exists()
    matching_policy = policy(matching, TIMEOUT)
    assert matching_policy.settings == {"minutes": 30, "action": "lock"}  # not rewritten
    assert policy(world.org, TIMEOUT).enabled
    assert policy(world.org, TWO_STEP) is None  # off in the baseline and never a row
    # Both were given it; one event in the provider's log for the whole job.
    assert BaselineAssignment.objects.filter(baseline=baseline).count() == 2
    provider_event = provider_events(world.provider).order_by("-id").first()
    assert provider_event.details["baseline_job"] == str(job.pk)
    page = client.get(response["Location"])
    assert b"Done." in page.content and b'http-equiv="refresh"' not in page.content
    log = client.get(reverse("provider_events", args=[world.provider.pk])).content.decode()
    assert "Policy baseline “Standard”" in log
    assert "applied to 2 clients: 1 changed, 1 already matched, 0 skipped" in log


def test_applying_again_changes_nothing(world):
    baseline = make_baseline(world.provider, world.provider_admin, single_org=True)
    actor = provider_actor(world)
    baseline_apply(actor=actor, baseline=baseline, clients=[world.org])
    before = Event.objects.count()
    job = baseline_apply(actor=actor, baseline=baseline, clients=[world.org])
    assert (job.changed, job.unchanged) == (0, 1)
    assert Event.objects.count() == before + 1  # the provider's event of the job only


def test_apply_to_many_clients_runs_as_a_task(world, login, django_capture_on_commit_callbacks):
    clients = new_clients(world, INLINE_MAX_CLIENTS + 2)
    Policy.objects.create(org=clients[0], type=SINGLE_ORG, enabled=True)  # already matches
    baseline = make_baseline(world.provider, world.provider_admin, single_org=True)
    client = login(world.provider_admin)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(baseline_url("provider_baseline_apply", baseline), {"scope": "all"})
    job = BaselineApplyJob.objects.get()
    assert job.status == BaselineJobStatus.QUEUED and len(callbacks) == 1
    assert job.total == len(clients) + 1  # and world.org; never the other provider's
    waiting = client.get(response["Location"])
    assert b'http-equiv="refresh"' in waiting.content
    assert b"Waiting for a worker" in waiting.content
    callbacks[0]()  # the task, eagerly (CELERY_TASK_ALWAYS_EAGER in the test settings)
    job.refresh_from_db()
    assert job.status == BaselineJobStatus.SUCCEEDED
    assert (job.changed, job.unchanged) == (len(clients), 1)
    for org in [world.org, *clients[1:]]:
        assert client_events(org).count() == 1
    assert not client_events(clients[0]).exists()
    assert not client_events(world.other_org).exists()
    assert not Policy.objects.filter(org=world.other_org).exists()


def test_applying_two_step_login_revokes_a_member_without_it(
    world, django_capture_on_commit_callbacks
):
    give_two_step(world.custom)
    baseline = make_baseline(world.provider, world.provider_admin, two_step_login=True)
    with django_capture_on_commit_callbacks(execute=True):
        baseline_apply(actor=provider_actor(world), baseline=baseline, clients=[world.org])
    bob = Membership.objects.get(org=world.org, user=world.bob)
    assert bob.status == MemberStatus.REVOKED
    custom = Membership.objects.get(org=world.org, user=world.custom)
    assert custom.status == MemberStatus.CONFIRMED  # has two-step login
    revoked = Event.objects.get(type=EventType.MEMBER_REVOKED, org=world.org)
    assert revoked.details["policy"] == TWO_STEP and revoked.acting_provider == world.provider
    assert [m.to for m in mail.outbox] == [[world.bob.email]]
    assert "two-step login" in mail.outbox[0].body


def test_an_empty_selection_is_refused_and_nothing_changes(world, login):
    baseline = make_baseline(world.provider, world.provider_admin, single_org=True)
    client = login(world.provider_admin)
    response = client.post(baseline_url("provider_baseline_apply", baseline), {"scope": "chosen"})
    assert response.status_code == 200
    assert "Tick at least one client, or choose “All clients”." in response.content.decode()
    assert not BaselineApplyJob.objects.exists() and not Policy.objects.exists()


def test_a_client_of_another_provider_cannot_be_ticked(world, login):
    baseline = make_baseline(world.provider, world.provider_admin, single_org=True)
    client = login(world.provider_admin)
    data = {"scope": "chosen", "clients": [str(world.org.pk), str(world.other_org.pk)]}
    response = client.post(baseline_url("provider_baseline_apply", baseline), data)
    assert response.status_code == 200
    assert "not a client you manage" in response.content.decode()
    assert not BaselineApplyJob.objects.exists() and not Policy.objects.exists()
    # What was ticked stays ticked.
    assert f'value="{world.org.pk}" id="client-{world.org.pk}" checked'.encode() in response.content


def test_a_job_stops_when_its_starter_is_no_longer_an_admin(
    world, django_capture_on_commit_callbacks
):
    new_clients(world, INLINE_MAX_CLIENTS + 1)
    baseline = make_baseline(world.provider, world.provider_admin, single_org=True)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = baseline_apply(actor=provider_actor(world), baseline=baseline, clients=None)
    world.provider.provider_users.filter(user=world.provider_admin).update(
        role=ProviderRole.SERVICE_USER
    )
    callbacks[0]()
    job.refresh_from_db()
    assert job.status == BaselineJobStatus.FAILED
    assert "no longer a provider admin" in job.failure_message
    assert not Policy.objects.exists() and not client_events(world.org).exists()


def test_a_job_of_another_provider_answers_404(world, login):
    theirs = make_baseline(world.other_provider, world.other_provider_admin, single_org=True)
    actor = resolve_provider(world.other_provider_admin, world.other_provider)
    job = baseline_apply(actor=actor, baseline=theirs, clients=[world.other_org])
    url = reverse("provider_baseline_job", args=[world.provider.pk, job.pk])
    assert login(world.provider_admin).get(url).status_code == 404


# --- Each client stays independent; drift ---------------------------------------------


def test_drift_follows_the_clients_own_changes(world, login):
    baseline = make_baseline(
        world.provider,
        world.provider_admin,
        vault_timeout={"minutes": 30, "action": "lock"},
        single_org=True,
    )
    baseline_apply(actor=provider_actor(world), baseline=baseline, clients=[world.org])
    assignment = BaselineAssignment.objects.get(org=world.org)
    assert assignment.drift == []

    owner = login(world.alice)  # the client's own owner changes its policies
    owner.post(edit_url(world.org, TIMEOUT), {"enabled": "on", "minutes": "60", "action": "lock"})
    owner.post(edit_url(world.org, SINGLE_ORG), {})
    assert policy(world.org, TIMEOUT).settings["minutes"] == 60  # the change is the client's
    assignment.refresh_from_db()
    assert assignment.drift == [SINGLE_ORG, TIMEOUT]
    assert assignment.drift_titles == ["Single organization", "Vault timeout"]

    admin = login(world.provider_admin)
    dashboard = admin.get(reverse("provider_dashboard", args=[world.provider.pk]))
    assert "2 policies differ: Single organization, Vault timeout" in dashboard.content.decode()
    details = admin.get(drift_url(world.provider, world.org)).content.decode()
    assert "Timeout in minutes</th><td>30</td><td>60" in details
    assert "Single organization" in details

    owner = login(world.alice)
    owner.post(edit_url(world.org, TIMEOUT), {"enabled": "on", "minutes": "30", "action": "lock"})
    owner.post(edit_url(world.org, SINGLE_ORG), {"enabled": "on"})
    assignment.refresh_from_db()
    assert assignment.drift == []
    dashboard = login(world.provider_admin).get(
        reverse("provider_dashboard", args=[world.provider.pk])
    )
    assert b"matches" in dashboard.content


def test_the_drift_page_of_a_client_without_a_baseline(world, login):
    response = login(world.service_user).get(drift_url(world.provider, world.org))
    assert b"has not been given a baseline" in response.content
    assert (
        login(world.provider_admin).get(drift_url(world.provider, world.other_org)).status_code
        == 404
    )


def test_an_edited_baseline_is_compared_as_it_was_applied(world, login):
    baseline = make_baseline(world.provider, world.provider_admin, vault_timeout={"minutes": 30})
    actor = provider_actor(world)
    baseline_apply(actor=actor, baseline=baseline, clients=[world.org])
    baseline_update(
        actor=actor,
        baseline=baseline,
        name=baseline.name,
        settings=baseline_settings(vault_timeout={"minutes": 10}),
    )
    assignment = BaselineAssignment.objects.get(org=world.org)
    assert assignment.drift == [] and assignment.baseline_edited_since
    page = login(world.provider_admin).get(drift_url(world.provider, world.org))
    assert b"The baseline has been edited since" in page.content


def test_the_dashboards_baseline_column_costs_no_query_per_client(
    world, login, django_capture_on_commit_callbacks
):
    clients = new_clients(world, 6)
    client = login(world.provider_admin)
    url = reverse("provider_dashboard", args=[world.provider.pk])
    client.get(url)
    with CaptureQueriesContext(connection) as without:
        client.get(url)
    baseline = make_baseline(world.provider, world.provider_admin, single_org=True)
    with django_capture_on_commit_callbacks(execute=True):  # more than inline: the task
        baseline_apply(actor=provider_actor(world), baseline=baseline, clients=None)
    login(world.alice).post(edit_url(world.org, SINGLE_ORG), {})  # one drifts
    assert BaselineAssignment.objects.count() == len(clients) + 1
    client = login(world.provider_admin)
    client.get(url)
    with CaptureQueriesContext(connection) as given:
        response = client.get(url)
    assert response.content.decode().count("Standard</a>") == len(clients) + 1
    assert "1 policy differs: Single organization" in response.content.decode()
    assert len(given.captured_queries) == len(without.captured_queries)


def test_a_disabled_client_is_skipped_with_the_reason(world, login):
    disabled = factories.OrganizationFactory(name="Paused Co", provider=world.provider)
    disabled.enabled = False
    disabled.save(update_fields=["enabled"])
    baseline = make_baseline(world.provider, world.provider_admin, single_org=True)
    job = baseline_apply(actor=provider_actor(world), baseline=baseline, clients=[disabled])
    assert (job.changed, job.done, job.skipped) == (
        0,
        1,
        [{"client": "Paused Co", "reason": "Disabled: enable the client first."}],
    )
    assert not Policy.objects.filter(org=disabled).exists()
    page = login(world.provider_admin).get(
        reverse("provider_baseline_job", args=[world.provider.pk, job.pk])
    )
    assert b"Disabled: enable the client first." in page.content


def test_a_job_without_news_for_five_minutes_shows_as_stopped(world, login):
    baseline = make_baseline(world.provider, world.provider_admin, single_org=True)
    job = BaselineApplyJob.objects.create(
        provider=world.provider,
        baseline=baseline,
        baseline_name=baseline.name,
        status=BaselineJobStatus.RUNNING,
        total=10,
        heartbeat_at=timezone.now() - timedelta(minutes=6),
    )
    page = login(world.provider_admin).get(
        reverse("provider_baseline_job", args=[world.provider.pk, job.pk])
    )
    assert b"it has stopped" in page.content and b'http-equiv="refresh"' not in page.content


def test_a_policy_row_created_meanwhile_is_tried_again(world, monkeypatch):
    """The client's own admin saves a policy while the batch inserts the same row."""
    from policies.baselines import services

    real = services.baseline_apply_to_clients
    attempts = []

    def racing(**arguments):
        attempts.append(1)
        if len(attempts) == 1:
            Policy.objects.create(org=world.org, type=TIMEOUT, enabled=False)
            raise IntegrityError("duplicate key value violates policy_unique_type")
        return real(**arguments)

    monkeypatch.setattr(services, "baseline_apply_to_clients", racing)
    baseline = make_baseline(world.provider, world.provider_admin, vault_timeout=True)
    job = baseline_apply(actor=provider_actor(world), baseline=baseline, clients=[world.org])
    assert len(attempts) == 2 and job.changed == 1
    assert policy(world.org, TIMEOUT).enabled
    assert client_events(world.org).count() == 1


def test_the_operators_admin_site_keeps_drift_true(world, client):
    baseline = make_baseline(world.provider, world.provider_admin, vault_timeout=True)
    baseline_apply(actor=provider_actor(world), baseline=baseline, clients=[world.org])
    operator = factories.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(operator, backend="portal.auth_backend.AccountBackend")
    row = policy(world.org, TIMEOUT)
    url = reverse("admin:policies_policy_delete", args=[row.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert BaselineAssignment.objects.get(org=world.org).drift == [TIMEOUT]
