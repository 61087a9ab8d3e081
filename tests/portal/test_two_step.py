"""Two-step login: turning it on and off, and signing in with a code."""

import pytest
from django.conf import settings
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.models import Event, EventType
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def code_for(device: TOTPDevice, *, offset_steps: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


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


def test_turning_it_on_shows_a_key_and_needs_a_right_code(client, user):
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(reverse("two_step"))
    assert b"Two-step login is <strong>off</strong>" in page.content
    assert b"otpauth://totp/" in page.content
    assert "no-store" in page["Cache-Control"]
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    # Reloading the page keeps the same key rather than piling up devices.
    client.get(reverse("two_step"))
    assert TOTPDevice.objects.filter(user=user).count() == 1

    wrong = client.post(
        reverse("two_step"), {"token": "000000" if code_for(device) != "000000" else "111111"}
    )
    assert wrong.status_code == 200 and b"That code is not right" in wrong.content
    assert not TOTPDevice.objects.filter(user=user, confirmed=True).exists()
    throttled = client.post(reverse("two_step"), {"token": code_for(device)})
    assert b"Too many wrong codes" in throttled.content

    reset_throttle(device)
    done = client.post(reverse("two_step"), {"token": code_for(device)})
    assert done.status_code == 302
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert Event.objects.filter(type=EventType.USER_TWO_STEP_ENABLED, actor=user).exists()


def test_sign_in_without_two_step_needs_no_code(client, user):
    assert sign_in(client, user.email).status_code == 302


def test_sign_in_with_two_step_needs_the_code(client, two_step_user):
    device = TOTPDevice.objects.get(user=two_step_user)
    missing = sign_in(client, two_step_user.email)
    assert (
        missing.status_code == 200
        and b"enter the code from your authenticator app" in missing.content
    )
    assert "_auth_user_id" not in client.session
    wrong_code = "123456" if code_for(device) != "123456" else "654321"
    wrong = sign_in(client, two_step_user.email, code=wrong_code)
    assert wrong.status_code == 200 and b"code is not right" in wrong.content
    assert "_auth_user_id" not in client.session
    reset_throttle(device)  # the wrong code above started django-otp's back-off
    ok = sign_in(client, two_step_user.email, code=code_for(device))
    assert ok.status_code == 302 and "_auth_user_id" in client.session


def test_a_code_never_opens_an_account_without_its_password(client, two_step_user):
    device = TOTPDevice.objects.get(user=two_step_user)
    response = sign_in(
        client, two_step_user.email, password="wrong password", code=code_for(device)
    )
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_repeated_wrong_codes_are_throttled(client, two_step_user):
    device = TOTPDevice.objects.get(user=two_step_user)
    wrong_code = "123456" if code_for(device) != "123456" else "654321"
    sign_in(client, two_step_user.email, code=wrong_code)
    throttled = sign_in(client, two_step_user.email, code=code_for(device))
    assert b"Too many wrong codes" in throttled.content
    assert "_auth_user_id" not in client.session


def test_turning_it_off_needs_the_password(client, two_step_user):
    client.force_login(two_step_user, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get(reverse("two_step"))
    assert b"Two-step login is <strong>on</strong>" in page.content
    refused = client.post(reverse("two_step"), {"password": "wrong password"})
    assert b"That is not your password" in refused.content
    assert TOTPDevice.objects.filter(user=two_step_user, confirmed=True).exists()
    done = client.post(reverse("two_step"), {"password": TEST_PASSWORD})
    assert done.status_code == 302
    assert not TOTPDevice.objects.filter(user=two_step_user).exists()
    assert Event.objects.filter(type=EventType.USER_TWO_STEP_DISABLED, actor=two_step_user).exists()


def test_wrong_passwords_on_the_off_form_count_towards_the_login_lock(client, two_step_user):
    client.force_login(two_step_user, backend="django.contrib.auth.backends.ModelBackend")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("two_step"), {"password": "wrong password"})
    client.logout()
    assert sign_in(client, two_step_user.email).status_code == 429
