"""Two-step login: turning it on and off, signing in with a code, and no way around it."""

import time
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core import signing
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from clients.models import MemberRole, MemberStatus
from portal.forms import PENDING_KEY_MAX_AGE, PENDING_KEY_SALT
from portal.models import Event, EventType
from portal.services import invitation_create, invitation_issue_token
from tests import factories
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

MODEL_BACKEND = "portal.auth_backend.AccountBackend"


def code_for(device: TOTPDevice, *, offset_steps: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


def wrong_code_for(device: TOTPDevice) -> str:
    return "123456" if code_for(device) != "123456" else "654321"


def reset_throttle(device: TOTPDevice) -> None:
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )


@pytest.fixture
def user():
    return UserFactory(email="pat@example.test")


@pytest.fixture
def two_step_user(user):
    TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    return user


def sign_in(client, email, password=TEST_PASSWORD, code=""):
    return client.post(
        reverse("login"), {"username": email, "password": password, "otp_token": code}
    )


def sign_in_with_both_steps(client, user) -> None:
    """A session that has passed the second step, as the portal's login leaves it."""
    client.force_login(user, backend=MODEL_BACKEND)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = TOTPDevice.objects.get(user=user).persistent_id
    session.save()


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- Turning it on ---------------------------------------------------------------------


def test_opening_the_two_step_page_writes_nothing(client, user):
    client.force_login(user, backend=MODEL_BACKEND)
    first = client.get(reverse("two_step"))
    assert b"Two-step login is <strong>off</strong>" in first.content
    assert b"otpauth://totp/" in first.content
    assert "no-store" in first["Cache-Control"]
    second = client.get(reverse("two_step"))
    assert not TOTPDevice.objects.exists()
    # Each visit shows a key of its own, held only by the page.
    assert first.context["form"].key != second.context["form"].key


def test_turning_it_on_needs_a_right_code_for_the_key_shown(client, user):
    client.force_login(user, backend=MODEL_BACKEND)
    form = client.get(reverse("two_step")).context["form"]
    device = TOTPDevice(key=form.key)  # what the user's app now holds
    setup = {"pending_key": form.signed_key}

    wrong = client.post(reverse("two_step"), {**setup, "token": wrong_code_for(device)})
    assert wrong.status_code == 200 and b"That code is not right" in wrong.content
    assert not TOTPDevice.objects.exists()
    # The page keeps the same key, so a typo needs no new scan.
    assert wrong.context["form"].key == form.key

    done = client.post(reverse("two_step"), {**setup, "token": code_for(device)})
    assert done.status_code == 302
    confirmed = TOTPDevice.objects.get(user=user)
    assert confirmed.confirmed and confirmed.key == form.key
    assert Event.objects.filter(type=EventType.USER_TWO_STEP_ENABLED, actor=user).exists()
    # This session has just shown a code: it stays signed in.
    assert client.get(reverse("two_step")).status_code == 200 and signed_in(client)
    # The code used to turn it on does not also sign in.
    client.logout()
    assert b"code is not right" in sign_in(client, user.email, code=code_for(device)).content


def test_a_stale_or_foreign_setup_key_is_refused(client, user, monkeypatch):
    other = UserFactory(email="sam@example.test")
    client.force_login(user, backend=MODEL_BACKEND)
    key = default_key()
    foreign = signing.dumps({"user": str(other.pk), "key": key}, salt=PENDING_KEY_SALT)
    code = code_for(TOTPDevice(key=key))
    for pending_key in (foreign, "tampered", ""):
        refused = client.post(reverse("two_step"), {"pending_key": pending_key, "token": code})
        assert b"This page was open too long" in refused.content
    mine = signing.dumps({"user": str(user.pk), "key": key}, salt=PENDING_KEY_SALT)
    later = time.time() + PENDING_KEY_MAX_AGE + 1
    monkeypatch.setattr(signing, "time", SimpleNamespace(time=lambda: later))
    expired = client.post(reverse("two_step"), {"pending_key": mine, "token": code})
    assert b"This page was open too long" in expired.content
    assert expired.context["form"].key != key  # a new key to add instead
    assert not TOTPDevice.objects.exists()


# --- Signing in ------------------------------------------------------------------------


def test_sign_in_without_two_step_needs_no_code(client, user):
    assert sign_in(client, user.email).status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_sign_in_with_two_step_needs_the_code(client, two_step_user):
    device = TOTPDevice.objects.get(user=two_step_user)
    missing = sign_in(client, two_step_user.email)
    assert (
        missing.status_code == 200
        and b"enter the code from your authenticator app" in missing.content
    )
    assert not signed_in(client)
    wrong = sign_in(client, two_step_user.email, code=wrong_code_for(device))
    assert wrong.status_code == 200 and b"code is not right" in wrong.content
    assert not signed_in(client)
    reset_throttle(device)  # the wrong code above started django-otp's back-off
    ok = sign_in(client, two_step_user.email, code=code_for(device))
    assert ok.status_code == 302 and signed_in(client)
    # The session has passed the second step, so the portal's pages open.
    assert client.get(reverse("home")).status_code == 200 and signed_in(client)


def test_a_code_never_opens_an_account_without_its_password(client, two_step_user):
    device = TOTPDevice.objects.get(user=two_step_user)
    response = sign_in(
        client, two_step_user.email, password="wrong password", code=code_for(device)
    )
    assert response.status_code == 200 and not signed_in(client)


def test_repeated_wrong_codes_are_throttled(client, two_step_user):
    device = TOTPDevice.objects.get(user=two_step_user)
    sign_in(client, two_step_user.email, code=wrong_code_for(device))
    throttled = sign_in(client, two_step_user.email, code=code_for(device))
    assert b"Too many wrong codes" in throttled.content
    assert not signed_in(client)


# --- No way around the second step -----------------------------------------------------


@pytest.fixture
def staff_with_two_step(two_step_user):
    two_step_user.is_staff = two_step_user.is_superuser = True
    two_step_user.save(update_fields=["is_staff", "is_superuser"])
    return two_step_user


def test_the_admin_site_login_does_not_sign_in_with_a_password_alone(client, staff_with_two_step):
    response = client.post(
        "/admin/login/?next=/admin/",
        {"username": staff_with_two_step.email, "password": TEST_PASSWORD, "next": "/admin/"},
    )
    assert not signed_in(client)
    # There is one login, the portal's, which asks for the code too.
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
    assert client.get("/admin/login/?next=/admin/portal/event/")["Location"] == (
        reverse("login") + "?next=/admin/portal/event/"
    )


def test_staff_reach_the_admin_site_through_the_portal_login(client, staff_with_two_step):
    device = TOTPDevice.objects.get(user=staff_with_two_step)
    assert sign_in(client, staff_with_two_step.email, code=code_for(device)).status_code == 302
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/login/")["Location"] == reverse("admin:index")


def test_a_signed_in_user_who_is_not_staff_is_refused_by_the_admin_login(client, user):
    client.force_login(user, backend=MODEL_BACKEND)
    assert client.get("/admin/login/?next=/admin/").status_code == 403


def test_a_session_that_skipped_the_second_step_reaches_nothing(client, staff_with_two_step):
    """What the admin site's own login gave: a session from the password alone."""
    client.force_login(staff_with_two_step, backend=MODEL_BACKEND)
    home = client.get(reverse("home"))
    assert home.status_code == 302 and home["Location"].startswith(reverse("login"))
    assert not signed_in(client)

    client.force_login(staff_with_two_step, backend=MODEL_BACKEND)
    assert client.get("/admin/").status_code == 302 and not signed_in(client)

    client.force_login(staff_with_two_step, backend=MODEL_BACKEND)
    turned_off = client.post(reverse("two_step"), {"password": TEST_PASSWORD})
    assert turned_off.status_code == 302 and not signed_in(client)
    assert TOTPDevice.objects.filter(user=staff_with_two_step, confirmed=True).exists()


def test_accepting_an_invitation_does_not_skip_the_second_step(client, world):
    """An account without a password but with two-step login on, invited to an org."""
    invited = UserFactory(email="returning@example.test")
    invited.set_unusable_password()
    invited.save(update_fields=["password"])
    TOTPDevice.objects.create(user=invited, name="Authenticator app", confirmed=True)
    membership = factories.MembershipFactory(
        org=world.org,
        user=None,
        email=invited.email,
        role=MemberRole.USER,
        status=MemberStatus.INVITED,
    )
    invitation = invitation_create(email=invited.email, membership=membership)
    token = invitation_issue_token(invitation=invitation)

    accept_url = client.get(reverse("invitation_open"), {"token": token})["Location"]
    password = "a long new passphrase"
    accepted = client.post(accept_url, {"password1": password, "password2": password})
    assert accepted.status_code == 302
    next_page = client.get(accepted["Location"])
    assert next_page.status_code == 302 and next_page["Location"].startswith(reverse("login"))
    assert not signed_in(client)


# --- Turning it off --------------------------------------------------------------------


def test_turning_it_off_without_a_code_is_refused(client, two_step_user):
    sign_in_with_both_steps(client, two_step_user)
    page = client.get(reverse("two_step"))
    assert b"Two-step login is <strong>on</strong>" in page.content
    refused = client.post(reverse("two_step"), {"password": TEST_PASSWORD})
    assert refused.status_code == 200 and b"This field is required" in refused.content
    assert TOTPDevice.objects.filter(user=two_step_user, confirmed=True).exists()


def test_turning_it_off_needs_the_password_and_a_current_code(client, two_step_user, settings):
    settings.AXES_FAILURE_LIMIT = 10  # the lock is the next test's
    device = TOTPDevice.objects.get(user=two_step_user)
    sign_in_with_both_steps(client, two_step_user)
    wrong_password = client.post(
        reverse("two_step"), {"password": "wrong password", "token": code_for(device)}
    )
    assert b"That is not your password" in wrong_password.content
    wrong_code = client.post(
        reverse("two_step"), {"password": TEST_PASSWORD, "token": wrong_code_for(device)}
    )
    assert b"code is not right" in wrong_code.content
    throttled = client.post(reverse("two_step"), {"password": TEST_PASSWORD, "token": "1"})
    assert b"Too many wrong codes" in throttled.content
    assert TOTPDevice.objects.filter(user=two_step_user, confirmed=True).exists()

    reset_throttle(device)
    done = client.post(reverse("two_step"), {"password": TEST_PASSWORD, "token": code_for(device)})
    assert done.status_code == 302
    assert not TOTPDevice.objects.filter(user=two_step_user).exists()
    assert Event.objects.filter(type=EventType.USER_TWO_STEP_DISABLED, actor=two_step_user).exists()
    # The session goes on: the account no longer has a second step.
    assert client.get(reverse("home")).status_code == 200 and signed_in(client)


@pytest.mark.parametrize("wrong", ["password", "token"])
def test_wrong_passwords_or_codes_on_the_off_form_count_towards_the_login_lock(
    client, two_step_user, wrong
):
    device = TOTPDevice.objects.get(user=two_step_user)
    sign_in_with_both_steps(client, two_step_user)
    data = {"password": TEST_PASSWORD, "token": wrong_code_for(device), wrong: "000"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        reset_throttle(device)
        client.post(reverse("two_step"), data)
    client.logout()
    reset_throttle(device)
    assert sign_in(client, two_step_user.email, code=code_for(device)).status_code == 429
