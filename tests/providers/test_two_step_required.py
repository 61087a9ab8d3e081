"""A provider that requires two-step login of all its provider users."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import Event, EventType
from portal.two_step import PROVIDER_REQUIRES_TWO_STEP_SESSION_KEY
from providers.models import ProviderUserStatus
from providers.services import provider_set_require_two_step
from tests import factories

from .helpers import provider_actor, provider_url

pytestmark = pytest.mark.django_db

MODEL_BACKEND = "portal.auth_backend.AccountBackend"
ENROL = reverse("two_step")


def give_two_step(user) -> TOTPDevice:
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, defaults={"name": "Authenticator app", "confirmed": True}
    )
    return device


def require_two_step(world, require: bool = True) -> None:
    give_two_step(world.provider_admin)  # who switches it on has it on
    actor = provider_actor(world.provider_admin, world.provider)
    provider_set_require_two_step(actor=actor, require=require)


def dashboard_url(world) -> str:
    return provider_url("provider_dashboard", world.provider)


def client_page_url(world) -> str:
    return reverse("org_members", args=[world.org.pk])


def sign_in_with_both_steps(client, user) -> TOTPDevice:
    """A session that has passed the second step, as the portal's login leaves it."""
    device = give_two_step(user)
    client.force_login(user, backend=MODEL_BACKEND)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device


def enrol(client) -> None:
    """Turn two-step login on through the enrolment page, as a user with an app does."""
    form = client.get(ENROL).context["form"]
    device = TOTPDevice(key=form.key)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    code = f"{totp.token():0{device.digits}d}"
    response = client.post(ENROL, {"pending_key": form.signed_key, "token": code})
    assert response.status_code == 302


def sent_to_enrol(response) -> bool:
    return response.status_code == 302 and response["Location"] == ENROL


# --- Enforcement -----------------------------------------------------------------------


def test_switched_on_during_a_session_it_applies_at_the_next_request(world, login):
    client = login(world.service_user)
    assert client.get(dashboard_url(world)).status_code == 200
    assert client.get(client_page_url(world)).status_code == 200

    require_two_step(world)

    # The same session: the dashboard, a client's pages, and then every other page too.
    assert sent_to_enrol(client.get(dashboard_url(world)))
    assert sent_to_enrol(client.get(client_page_url(world)))
    assert sent_to_enrol(client.get(reverse("home")))
    assert sent_to_enrol(client.post(reverse("org_members_bulk", args=[world.org.pk]), {}))
    page = client.get(ENROL)
    assert page.status_code == 200
    assert b"Your provider requires two-step login" in page.content

    enrol(client)

    assert client.get(dashboard_url(world)).status_code == 200
    assert client.get(client_page_url(world)).status_code == 200
    assert PROVIDER_REQUIRES_TWO_STEP_SESSION_KEY not in client.session


def test_a_client_page_alone_catches_a_session_begun_before_the_setting(world, login):
    client = login(world.service_user)
    require_two_step(world)
    assert sent_to_enrol(client.get(client_page_url(world)))
    assert sent_to_enrol(client.get(dashboard_url(world)))


def test_signing_in_while_it_is_on_sends_to_enrolment_from_the_first_page(world, login):
    require_two_step(world)
    client = login(world.service_user)
    assert PROVIDER_REQUIRES_TWO_STEP_SESSION_KEY in client.session
    assert sent_to_enrol(client.get(reverse("home")))
    # What stays open: the enrolment page, health checks, static files, signing out.
    assert client.get(ENROL).status_code == 200
    assert client.get(reverse("healthz")).status_code == 200
    assert not sent_to_enrol(client.get("/static/does-not-exist.css"))
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_provider_user_with_two_step_passes(world, client):
    require_two_step(world)
    sign_in_with_both_steps(client, world.service_user)
    assert client.get(dashboard_url(world)).status_code == 200
    assert client.get(client_page_url(world)).status_code == 200
    assert not sent_to_enrol(client.get(reverse("home")))


def test_members_and_other_providers_staff_are_not_concerned(world, login):
    require_two_step(world)
    client = login(world.alice)
    assert client.get(client_page_url(world)).status_code == 200
    assert not sent_to_enrol(client.get(reverse("home")))
    client = login(world.other_provider_admin)
    other = world.other_org.provider
    assert client.get(provider_url("provider_dashboard", other)).status_code == 200


def test_switched_off_it_lets_the_session_in_again(world, login):
    require_two_step(world)
    client = login(world.service_user)
    assert sent_to_enrol(client.get(dashboard_url(world)))
    assert sent_to_enrol(client.get(reverse("home")))
    require_two_step(world, False)
    # The same session: no longer held at the enrolment page.
    assert not sent_to_enrol(client.get(reverse("home")))
    assert client.get(dashboard_url(world)).status_code == 200
    assert PROVIDER_REQUIRES_TWO_STEP_SESSION_KEY not in client.session


def test_taken_off_the_staff_the_session_is_no_longer_held(world, login):
    require_two_step(world)
    client = login(world.service_user)
    assert sent_to_enrol(client.get(reverse("home")))
    world.provider.provider_users.filter(user=world.service_user).delete()
    assert not sent_to_enrol(client.get(reverse("home")))


def test_the_dashboard_costs_no_more_queries_with_the_setting_on(world, client):
    sign_in_with_both_steps(client, world.provider_admin)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(dashboard_url(world)).status_code == 200
        return len(queries.captured_queries)

    off = count()
    require_two_step(world)
    assert count() == off
    for _ in range(5):
        factories.OrganizationFactory(provider=world.provider)
    assert count() == off


# --- The setting -----------------------------------------------------------------------


def test_an_admin_without_two_step_is_asked_to_turn_it_on_first(world, login):
    client = login(world.provider_admin)
    url = provider_url("provider_two_step_setting", world.provider)
    response = client.post(url, {"require_two_step": "on"}, follow=True)
    assert b"Turn on two-step login for your own account first" in response.content
    world.provider.refresh_from_db()
    assert not world.provider.require_two_step
    assert not Event.objects.filter(type=EventType.PROVIDER_UPDATED).exists()
    # Nor is anyone locked out of the provider's pages by it.
    assert client.get(provider_url("provider_dashboard", world.provider)).status_code == 200


def test_a_provider_admin_switches_it_on_and_off_and_the_log_says_so(world, client):
    sign_in_with_both_steps(client, world.provider_admin)
    billing = client.get(provider_url("provider_billing", world.provider))
    assert b"Require two-step login for every provider user" in billing.content
    url = provider_url("provider_two_step_setting", world.provider)

    response = client.post(url, {"require_two_step": "on"})
    assert response["Location"] == provider_url("provider_billing", world.provider)
    world.provider.refresh_from_db()
    assert world.provider.require_two_step
    event = Event.objects.filter(type=EventType.PROVIDER_UPDATED).latest("id")
    assert event.details == {"name": "Demo MSP", "changes": {"require_two_step": [False, True]}}
    assert event.actor == world.provider_admin

    client.post(url, {"require_two_step": "on"})  # no change, no event
    assert Event.objects.filter(type=EventType.PROVIDER_UPDATED).count() == 1

    client.post(url, {})
    world.provider.refresh_from_db()
    assert not world.provider.require_two_step
    event = Event.objects.filter(type=EventType.PROVIDER_UPDATED).latest("id")
    assert event.details["changes"] == {"require_two_step": [True, False]}


def test_only_provider_admins_may_change_it(world, login):
    url = provider_url("provider_two_step_setting", world.provider)
    assert login(world.service_user).post(url, {"require_two_step": "on"}).status_code == 403
    assert login(world.alice).post(url, {"require_two_step": "on"}).status_code == 404
    other = login(world.other_provider_admin)
    assert other.post(url, {"require_two_step": "on"}).status_code == 404
    admin = login(world.provider_admin)
    assert admin.get(url).status_code == 405
    missing = reverse("provider_two_step_setting", args=[uuid.uuid4()])
    assert admin.post(missing, {"require_two_step": "on"}).status_code == 404
    world.provider.refresh_from_db()
    world.other_org.provider.refresh_from_db()
    assert not world.provider.require_two_step
    assert not world.other_org.provider.require_two_step
    assert not Event.objects.filter(type=EventType.PROVIDER_UPDATED).exists()


def test_an_unconfirmed_provider_user_is_not_held(world, login):
    require_two_step(world)
    invited = factories.ProviderUserFactory(
        provider=world.provider, status=ProviderUserStatus.ACCEPTED
    ).user
    client = login(invited)
    assert PROVIDER_REQUIRES_TWO_STEP_SESSION_KEY not in client.session
    assert not sent_to_enrol(client.get(reverse("home")))
