"""Accounts: login, throttling, password pages, and no e-mail resets by default."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def sign_in(client, email, password):
    return client.post(reverse("login"), {"username": email, "password": password})


def test_login_with_email_and_password(client):
    user = UserFactory(email="pat@example.test")
    response = sign_in(client, "pat@example.test", TEST_PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_wrong_password_shows_a_message_and_keeps_the_email(client):
    UserFactory(email="pat@example.test")
    response = sign_in(client, "pat@example.test", "wrong password")
    assert response.status_code == 200
    assert b"Please enter a correct email and password" in response.content
    assert b'value="pat@example.test"' in response.content


def test_argon2_is_the_first_hasher():
    from portal.settings import base

    assert base.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")


def test_repeated_failures_lock_the_account_from_that_address(client):
    UserFactory(email="pat@example.test")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "pat@example.test", "wrong password")
    locked = sign_in(client, "pat@example.test", TEST_PASSWORD)
    assert locked.status_code == 429
    assert b"Too many failed sign-ins" in locked.content
    assert "_auth_user_id" not in client.session


def test_lock_is_per_account_and_address(client):
    UserFactory(email="pat@example.test")
    UserFactory(email="sam@example.test")
    from_home = {"REMOTE_ADDR": "203.0.113.9"}
    pat = {"username": "pat@example.test", "password": TEST_PASSWORD}
    assert client.post(reverse("login"), pat, **from_home).status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "pat@example.test", "wrong password")
    # Another account from the same address still signs in.
    assert sign_in(client, "sam@example.test", TEST_PASSWORD).status_code == 302
    client.logout()
    # The locked account from an address it has signed in from before too (the
    # account-wide limit is in test_sign_in_throttling.py).
    assert client.post(reverse("login"), pat, **from_home).status_code == 302


def test_lock_lifts_after_the_cool_off(client):
    UserFactory(email="pat@example.test")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "pat@example.test", "wrong password")
    assert sign_in(client, "pat@example.test", TEST_PASSWORD).status_code == 429
    cool_off = timedelta(hours=settings.AXES_COOLOFF_TIME)
    for attempt in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=attempt.pk).update(
            attempt_time=attempt.attempt_time - cool_off - timedelta(minutes=1)
        )
    assert sign_in(client, "pat@example.test", TEST_PASSWORD).status_code == 302


def test_operator_unlocks_with_axes_reset(client):
    UserFactory(email="pat@example.test")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "pat@example.test", "wrong password")
    call_command("axes_reset_username", "pat@example.test", stdout=None)
    assert sign_in(client, "pat@example.test", TEST_PASSWORD).status_code == 302


def test_login_page_says_who_can_help_instead_of_email_reset(client):
    response = client.get(reverse("login"))
    assert b"cannot be reset by email" in response.content
    assert b"manage.py changepassword" in response.content
    with pytest.raises(NoReverseMatch):
        reverse("password_reset")


def test_password_change(client):
    user = UserFactory()
    client.force_login(user, backend="portal.auth_backend.AccountBackend")
    response = client.post(
        reverse("password_change"),
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "a much longer new passphrase",
            "new_password2": "a much longer new passphrase",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password("a much longer new passphrase")


def test_logout_needs_post(client):
    user = UserFactory()
    client.force_login(user, backend="portal.auth_backend.AccountBackend")
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_missing_csrf_token_gets_the_portal_page(db):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    response = strict.post(reverse("login"), {"username": "a@b.test", "password": "x"})
    assert response.status_code == 403
    assert b"security token was missing" in response.content


def test_unknown_page_gets_the_portal_404(client):
    response = client.get("/orgs/not-a-uuid/")
    assert response.status_code == 404
    assert b"Not found" in response.content


def test_admin_site_is_for_staff_only(client):
    user = UserFactory()
    client.force_login(user, backend="portal.auth_backend.AccountBackend")
    assert client.get("/admin/").status_code == 302
    user.is_staff = user.is_superuser = True
    user.save()
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/portal/event/").status_code == 200


def test_server_error_shows_the_portal_page_without_details(world, client, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("secret-detail-that-must-not-leak")

    monkeypatch.setattr("clients.selectors.member_list", explode)
    client.raise_request_exception = False
    client.force_login(world.alice, backend="portal.auth_backend.AccountBackend")
    response = client.get(reverse("org_members", args=[world.org.pk]))
    assert response.status_code == 500
    assert b"Something went wrong" in response.content
    assert b"secret-detail" not in response.content and b"Traceback" not in response.content


def test_operators_can_turn_on_email_resets(client, settings):
    import importlib

    from django.urls import clear_url_caches

    import portal.urls

    settings.PASSWORD_RESET_BY_EMAIL = True
    try:
        importlib.reload(portal.urls)
        clear_url_caches()
        UserFactory(email="pat@example.test")
        page = client.get(reverse("login"))
        assert b"Reset it by email" in page.content
        response = client.post(reverse("password_reset"), {"email": "pat@example.test"})
        assert response.status_code == 302
        from django.core import mail

        assert "/accounts/set-password/" in mail.outbox[0].body
    finally:
        settings.PASSWORD_RESET_BY_EMAIL = False
        importlib.reload(portal.urls)
        clear_url_caches()
