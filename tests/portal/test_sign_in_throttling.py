"""Sign-in throttling behind a proxy: real client addresses, and a lock nobody can abuse."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import RequestFactory
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.client_address import client_ip
from portal.models import Event, EventType
from providers.models import ProviderRole
from tests.factories import TEST_PASSWORD, UserFactory
from tests.portal.test_two_step import code_for, reset_throttle, wrong_code_for

pytestmark = pytest.mark.django_db

PROXY = "10.0.0.2"  # what REMOTE_ADDR says for every request behind the TLS proxy
HOME = "198.51.100.10"  # where the account's owner signs in from
ATTACKER = "203.0.113.66"


@pytest.fixture
def behind_proxy(settings):
    settings.PROXY_COUNT = 1


def from_address(address: str) -> dict:
    """Request headers from a client at `address`: behind the proxy (PROXY_COUNT set), the
    proxy connects and appends the client's address to X-Forwarded-For."""
    if settings.PROXY_COUNT:
        return {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": address}
    return {"REMOTE_ADDR": address}


def sign_in(client, email, password=TEST_PASSWORD, *, address, code=""):
    data = {"username": email, "password": password, "otp_token": code}
    response = client.post(reverse("login"), data, **from_address(address))
    client.logout()
    return response


def fail_from(client, email, addresses) -> None:
    for address in addresses:
        assert sign_in(client, email, "wrong password", address=address).status_code in (200, 429)


def test_behind_a_proxy_each_client_is_throttled_at_its_own_address(client, behind_proxy):
    UserFactory(email="pat@example.test")
    UserFactory(email="sam@example.test")
    assert sign_in(client, "pat@example.test", address=HOME).status_code == 302
    fail_from(client, "pat@example.test", [ATTACKER] * settings.AXES_FAILURE_LIMIT)
    assert sign_in(client, "pat@example.test", address=ATTACKER).status_code == 429
    # The lock is the attacker's: pat signs in from home, sam from anywhere.
    assert sign_in(client, "pat@example.test", address=HOME).status_code == 302
    assert sign_in(client, "sam@example.test", address=ATTACKER).status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {ATTACKER}


@pytest.mark.parametrize("proxies", [1, 0])
def test_a_guesser_using_many_addresses_is_limited_for_one_account(client, settings, proxies):
    settings.PROXY_COUNT = proxies
    UserFactory(email="pat@example.test")
    UserFactory(email="sam@example.test")
    assert sign_in(client, "pat@example.test", address=HOME).status_code == 302
    guessers = [f"203.0.113.{n}" for n in range(1, settings.AXES_FAILURE_LIMIT + 1)]
    fail_from(client, "pat@example.test", guessers)
    # Even the right password now fails from any address pat has not signed in from...
    assert sign_in(client, "pat@example.test", address="203.0.113.200").status_code == 429
    # ...for pat only, and pat still gets in from home.
    assert sign_in(client, "sam@example.test", address="203.0.113.200").status_code == 302
    assert sign_in(client, "pat@example.test", address=HOME).status_code == 302


@pytest.mark.parametrize("proxies", [1, 0])
def test_the_sole_provider_admin_still_signs_in_from_their_own_address(
    client, world, settings, proxies
):
    settings.PROXY_COUNT = proxies
    admin = world.provider_admin
    assert world.provider.provider_users.filter(role=ProviderRole.ADMIN).count() == 1
    assert sign_in(client, admin.email, address=HOME).status_code == 302
    hammering = [f"203.0.113.{n}" for n in range(1, 4 * settings.AXES_FAILURE_LIMIT)]
    fail_from(client, admin.email, hammering)
    assert sign_in(client, admin.email, address="203.0.113.250").status_code == 429
    response = client.post(
        reverse("login"),
        {"username": admin.email, "password": TEST_PASSWORD},
        **from_address(HOME),
    )
    assert response.status_code == 302
    dashboard = client.get(reverse("provider_dashboard", args=[world.provider.pk]))
    assert dashboard.status_code == 200


def test_wrong_second_step_codes_count_as_failures(client):
    user = UserFactory(email="pat@example.test")
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        reset_throttle(device)  # past django-otp's own back-off, to count axes' alone
        sign_in(client, user.email, code=wrong_code_for(device), address=HOME)
    reset_throttle(device)
    locked = sign_in(client, user.email, code=code_for(device), address=HOME)
    assert locked.status_code == 429 and not client.session.get("_auth_user_id")


def test_the_lockout_page_says_how_long_in_words(client, settings):
    UserFactory(email="pat@example.test")
    fail_from(client, "pat@example.test", [HOME] * settings.AXES_FAILURE_LIMIT)
    locked = sign_in(client, "pat@example.test", address=HOME)
    text = " ".join(locked.content.decode().split())
    assert locked.status_code == 429
    assert "Try again in 30 minutes" in text and "PT30M" not in text
    settings.AXES_COOLOFF_TIME = 1.5
    text = " ".join(sign_in(client, "pat@example.test", address=HOME).content.decode().split())
    assert "Try again in 1 hour, 30 minutes" in text


def test_the_event_log_records_the_client_address_not_the_proxys(client, behind_proxy):
    user = UserFactory(email="pat@example.test")
    client.force_login(user, backend="portal.auth_backend.AccountBackend")
    form = client.get(reverse("two_step"), **from_address(HOME)).context["form"]
    data = {"pending_key": form.signed_key, "token": code_for(TOTPDevice(key=form.key))}
    assert client.post(reverse("two_step"), data, **from_address(HOME)).status_code == 302
    event = Event.objects.get(type=EventType.USER_TWO_STEP_ENABLED)
    assert event.ip_address == HOME


# --- X-Forwarded-For that is garbage, long or missing ---------------------------------

MANY = ", ".join(f"192.0.2.{n}" for n in range(1, 255)) + f", {HOME}"


@pytest.mark.parametrize(
    ("proxies", "forwarded_for", "expected"),
    [
        (1, HOME, HOME),
        (1, f"6.6.6.6, {HOME}", HOME),  # the client's own entries are ignored
        (1, MANY, HOME),
        (1, f'6.6.6.6, "x, {HOME}', HOME),  # a quote cannot hide the proxy's entry
        (1, None, PROXY),  # did not come through the proxy: the connecting address
        (1, "", PROXY),
        (1, "garbage", PROXY),
        (1, "0.0.0.0", PROXY),
        (1, f"{HOME}, garbage", PROXY),
        (1, "x" * 8000, PROXY),
        (1, "[2001:db8::7]:443", "2001:db8::7"),
        (2, f"6.6.6.6, {HOME}, 10.0.0.1", HOME),
        (2, HOME, PROXY),  # fewer entries than proxies
        (0, HOME, PROXY),  # no proxies configured: the header is anyone's to send
        (0, "garbage", PROXY),
    ],
)
def test_client_address_from_forwarded_for(settings, proxies, forwarded_for, expected):
    settings.PROXY_COUNT = proxies
    headers = {"REMOTE_ADDR": PROXY}
    if forwarded_for is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded_for
    assert client_ip(RequestFactory().get("/", **headers)) == expected


def test_no_address_at_all_is_none():
    request = RequestFactory().get("/")
    del request.META["REMOTE_ADDR"]
    assert client_ip(request) is None


@pytest.mark.parametrize("forwarded_for", ["garbage", MANY, "", ",,,", '"', "for=unknown"])
def test_odd_forwarded_for_never_breaks_a_page(client, behind_proxy, forwarded_for):
    UserFactory(email="pat@example.test")
    headers = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": forwarded_for}
    assert client.get(reverse("login"), **headers).status_code == 200
    data = {"username": "pat@example.test", "password": "wrong password"}
    assert client.post(reverse("login"), data, **headers).status_code == 200
    assert client.get(reverse("healthz"), **headers).status_code == 200
