"""Two-step login, completed: the QR code, recovery codes, and who has it on."""

import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from portal.models import Event, EventType
from portal.services import two_step_enable
from tests import factories
from tests.factories import TEST_PASSWORD, UserFactory
from tests.portal.test_two_step import (
    MODEL_BACKEND,
    code_for,
    reset_throttle,
    sign_in,
    sign_in_with_both_steps,
    signed_in,
    wrong_code_for,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return UserFactory(email="pat@example.test")


def enable(user):
    """Two-step login turned on as the setup page does it: (device, recovery codes)."""
    key = default_key()
    enabled = two_step_enable(user=user, key=key, token=code_for(TOTPDevice(key=key)))
    assert enabled is not None
    return enabled.device, enabled.recovery_codes


def dashed(code: str) -> str:
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4)).upper()


# --- Enrolment ---------------------------------------------------------------------------


def test_the_setup_page_shows_the_key_as_a_qr_code_drawn_on_the_server(client, user):
    client.force_login(user, backend=MODEL_BACKEND)
    page = client.get(reverse("two_step"))
    svg = page.context["qr_svg"]
    assert svg.startswith("<svg") and "<path" in svg and svg in page.content.decode()
    assert b"<script" not in page.content.split(b"<svg", 1)[1].split(b"</svg>", 1)[0]
    assert not TOTPDevice.objects.exists() and not StaticDevice.objects.exists()


def test_turning_it_on_issues_recovery_codes_shown_once(client, user):
    client.force_login(user, backend=MODEL_BACKEND)
    form = client.get(reverse("two_step")).context["form"]
    done = client.post(
        reverse("two_step"),
        {"pending_key": form.signed_key, "token": code_for(TOTPDevice(key=form.key))},
        follow=True,
    )
    assert done.redirect_chain == [(reverse("two_step"), 302)]
    codes = done.context["codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    for code in codes:
        assert code.encode() in done.content
    stored = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert stored == {code.replace("-", "") for code in codes}
    # A reload shows how many are left, never the codes again.
    page = client.get(reverse("two_step"))
    assert page.context["codes_left"] == 10
    assert codes[0].encode() not in page.content


# --- Signing in with a recovery code ---------------------------------------------------


def test_a_lost_device_signs_in_with_a_recovery_code_once(client, user):
    _, codes = enable(user)
    ok = sign_in(client, user.email, code=dashed(codes[0]))  # dashes and case do not matter
    assert ok.status_code == 302 and signed_in(client)
    # The session counts as past the second step: the portal's pages open.
    assert client.get(reverse("home")).status_code == 200 and signed_in(client)
    assert not StaticToken.objects.filter(token=codes[0]).exists()
    assert StaticToken.objects.filter(device__user=user).count() == 9
    used = Event.objects.get(type=EventType.USER_RECOVERY_CODE_USED, actor=user)
    assert used.details == {"codes_left": 9}
    assert codes[0] not in str(used.details)

    client.logout()
    again = sign_in(client, user.email, code=codes[0])
    assert again.status_code == 200 and b"it has been used already" in again.content
    assert not signed_in(client)
    assert StaticToken.objects.filter(device__user=user).count() == 9


def test_a_wrong_recovery_code_counts_as_a_failed_sign_in(client, user):
    enable(user)
    refused = sign_in(client, user.email, code="aaaa-bbbb-cccc-dddd")
    assert refused.status_code == 200 and b"recovery code is not right" in refused.content
    assert not signed_in(client)
    from axes.models import AccessAttempt

    assert AccessAttempt.objects.get(username=user.email).failures_since_start == 1


def test_wrong_recovery_codes_are_throttled(client, user):
    _, codes = enable(user)
    sign_in(client, user.email, code="aaaa-bbbb-cccc-dddd")
    # django-otp's back-off on the recovery device: even a right code waits now.
    throttled = sign_in(client, user.email, code=codes[1])
    assert b"Too many wrong codes" in throttled.content and not signed_in(client)
    assert StaticToken.objects.filter(token=codes[1]).exists()  # not spent


def test_recovery_codes_of_another_account_do_not_work(client, user):
    enable(user)
    other = UserFactory(email="sam@example.test")
    _, their_codes = enable(other)
    refused = sign_in(client, user.email, code=their_codes[0])
    assert refused.status_code == 200 and not signed_in(client)
    assert StaticToken.objects.filter(token=their_codes[0]).exists()


def test_an_authenticator_code_is_refused_when_reused_within_its_window(client, user):
    device, _ = enable(user)
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)  # as if set up long ago
    code = code_for(device)
    assert sign_in(client, user.email, code=code).status_code == 302
    client.logout()
    again = sign_in(client, user.email, code=code)
    assert again.status_code == 200 and b"code is not right" in again.content
    assert not signed_in(client)


# --- New codes -------------------------------------------------------------------------


def test_new_recovery_codes_need_a_current_code_and_replace_the_old(client, user, settings):
    settings.AXES_FAILURE_LIMIT = 10  # the wrong codes below count towards the lock
    device, old_codes = enable(user)
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    sign_in_with_both_steps(client, user)
    url = reverse("two_step_recovery_codes")

    wrong = client.post(url, {"codes-token": wrong_code_for(device)})
    assert wrong.status_code == 200 and b"code is not right" in wrong.content
    assert b'value="' + wrong_code_for(device).encode() in wrong.content  # kept as typed
    recovery = client.post(url, {"codes-token": old_codes[0]})  # a recovery code is no key
    assert b"6-digit code" in recovery.content
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(old_codes)
    assert not Event.objects.filter(type=EventType.USER_RECOVERY_CODES_REGENERATED).exists()

    reset_throttle(device)
    done = client.post(url, {"codes-token": code_for(device)}, follow=True)
    new_codes = [code.replace("-", "") for code in done.context["codes"]]
    assert done.status_code == 200 and len(new_codes) == 10
    assert set(StaticToken.objects.values_list("token", flat=True)) == set(new_codes)
    assert Event.objects.filter(type=EventType.USER_RECOVERY_CODES_REGENERATED, actor=user).exists()
    client.logout()
    old = sign_in(client, user.email, code=old_codes[1])
    assert old.status_code == 200 and not signed_in(client)  # the old set stopped working


def test_new_recovery_codes_without_two_step_send_to_the_setup_page(client, user):
    client.force_login(user, backend=MODEL_BACKEND)
    response = client.post(reverse("two_step_recovery_codes"), {"codes-token": "123456"})
    assert response.status_code == 302 and response["Location"] == reverse("two_step")
    assert not StaticDevice.objects.exists()


def test_new_recovery_codes_answer_get_with_405(client, user):
    client.force_login(user, backend=MODEL_BACKEND)
    assert client.get(reverse("two_step_recovery_codes")).status_code == 405


def test_turning_it_off_with_a_recovery_code_removes_the_codes(client, user):
    _, codes = enable(user)
    sign_in_with_both_steps(client, user)
    done = client.post(reverse("two_step"), {"password": TEST_PASSWORD, "token": codes[2]})
    assert done.status_code == 302
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticDevice.objects.filter(user=user).exists()


# --- Who has it on ---------------------------------------------------------------------


def test_the_members_page_shows_who_has_two_step_login_on(world, login):
    TOTPDevice.objects.create(user=world.bob, name="app", confirmed=True)
    TOTPDevice.objects.create(user=world.org_admin, name="app", confirmed=False)  # not set up
    page = login(world.alice).get(reverse("org_members", kwargs={"org_id": world.org.pk}))
    rows = {member.user_id: member.two_step_on for member in page.context["page"].object_list}
    assert rows[world.bob.pk] is True
    assert rows[world.org_admin.pk] is False and rows[world.alice.pk] is False
    assert b"Two-step login</th>" in page.content


def test_a_member_of_another_org_with_two_step_is_not_listed(world, login):
    stranger_membership = factories.MembershipFactory(org=world.other_org)
    TOTPDevice.objects.create(user=stranger_membership.user, name="app", confirmed=True)
    page = login(world.alice).get(reverse("org_members", kwargs={"org_id": world.org.pk}))
    assert stranger_membership.email.encode() not in page.content
