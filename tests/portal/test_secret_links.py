"""Secret links (invitations, set-password): the token is in one GET's query string only.

That request keeps it in the session and redirects to a URL without it, so neither an
access log (which records paths, see test_access_log.py) nor a Referer holds a usable
token. A token anywhere else, or none, gets a page saying what to do, and changes nothing.
"""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.views import INTERNAL_RESET_SESSION_TOKEN
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from clients.models import MemberRole, MemberStatus
from portal.accounts import set_password_url
from portal.models import Invitation, User
from portal.services import hash_token, invitation_create
from portal.views import INVITATION_SESSION_KEY
from tests import factories
from tests.providers.helpers import invitation_open_url, open_invitation, token_from_outbox

pytestmark = pytest.mark.django_db

NEW_PASSWORD = {"password1": "a long new passphrase", "password2": "a long new passphrase"}


@pytest.fixture
def owner_invitation(django_capture_on_commit_callbacks):
    """A new client's owner invitation, the most valuable link there is; returns its token."""
    org = factories.OrganizationFactory()
    membership = factories.MembershipFactory(
        org=org, user=None, email="boss@new.test", role=MemberRole.OWNER, status="invited"
    )
    with django_capture_on_commit_callbacks(execute=True):
        invitation_create(email=membership.email, membership=membership)
    return token_from_outbox()


def assert_token_url_page(response) -> None:
    """An answer to a URL holding a token: no Referer from it, no copy in a cache."""
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]


def assert_page_after_the_redirect(response) -> None:
    """Its URL holds no token; `no-referrer` would make browsers send its forms with
    `Origin: null`, which CSRF protection refuses."""
    assert response["Referrer-Policy"] == "same-origin"
    assert "no-store" in response["Cache-Control"]


def assert_nothing_accepted() -> None:
    membership = Invitation.objects.get().membership
    assert membership.status == MemberStatus.INVITED and membership.user is None
    assert not User.objects.filter(email="boss@new.test").exists()
    assert Invitation.objects.get().used_at is None


# --- Invitations ---------------------------------------------------------------------


def test_emailed_link_has_the_token_in_its_query_string_only(owner_invitation):
    link = re.search(r"https?://\S+", mail.outbox[-1].body).group(0)
    parts = urlsplit(link)
    assert parts.path == "/invitations/open/"
    assert parse_qs(parts.query) == {"token": [owner_invitation]}
    assert link in mail.outbox[-1].alternatives[0][0]  # the HTML part: the same link


def test_opening_the_link_moves_the_token_into_the_session(owner_invitation, client):
    response = client.get(invitation_open_url(owner_invitation))
    assert response.status_code == 302
    assert response["Location"] == reverse("invitation_accept") == "/invitations/accept/"
    assert_token_url_page(response)
    # The session keeps the hash the database keeps, never the token itself.
    assert client.session[INVITATION_SESSION_KEY] == hash_token(owner_invitation)
    assert owner_invitation not in str(dict(client.session))

    page = client.get(response["Location"])
    assert page.status_code == 200 and b"Accept your invitation" in page.content
    assert_page_after_the_redirect(page)
    assert owner_invitation.encode() not in page.content

    accepted = client.post(response["Location"], NEW_PASSWORD)
    assert accepted.status_code == 302
    membership = Invitation.objects.get().membership
    membership.refresh_from_db()
    assert membership.status == MemberStatus.CONFIRMED
    assert INVITATION_SESSION_KEY not in client.session


def test_a_token_in_the_path_is_refused_without_a_look_up(owner_invitation, client):
    response = client.get(f"/invitations/{owner_invitation}/")
    assert response.status_code == 404
    assert b"older form that the portal no longer accepts" in response.content
    assert_token_url_page(response)
    assert client.post(f"/invitations/{owner_invitation}/", NEW_PASSWORD).status_code == 405
    assert INVITATION_SESSION_KEY not in client.session
    assert_nothing_accepted()


@pytest.mark.parametrize(
    "query",
    ["", "?token=", "?token=garbage", "?token=" + "x" * 500, "?other=1", "?token=%00%FF"],
    ids=["none", "empty", "garbage", "too-long", "other-parameter", "bytes"],
)
def test_a_bad_token_is_refused_and_nothing_is_written(owner_invitation, client, query):
    response = client.get("/invitations/open/" + query)
    assert response.status_code == 404
    assert b"not a valid invitation" in response.content
    assert_token_url_page(response)
    assert not client.cookies.get("sessionid")  # no session was even started
    assert_nothing_accepted()


def test_an_expired_token_is_refused(owner_invitation, client):
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get(invitation_open_url(owner_invitation))
    assert response.status_code == 410 and b"expired" in response.content
    assert INVITATION_SESSION_KEY not in client.session
    assert_nothing_accepted()


def test_the_accept_page_without_an_opened_link_says_to_open_it(owner_invitation, client):
    for response in (client.get("/invitations/accept/"), client.post("/invitations/accept/")):
        assert response.status_code == 404
        assert b"open the link from the invitation email" in response.content
        assert_page_after_the_redirect(response)
    # A token sent to the accept page itself is not taken either.
    response = client.post(f"/invitations/accept/?token={owner_invitation}", NEW_PASSWORD)
    assert response.status_code == 404
    assert_nothing_accepted()


def test_a_link_that_expires_after_opening_is_refused_on_submit(owner_invitation, client):
    accept = open_invitation(client, owner_invitation)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.post(accept, NEW_PASSWORD)
    assert response.status_code == 410 and b"expired" in response.content
    assert INVITATION_SESSION_KEY not in client.session
    assert_nothing_accepted()


def test_an_opened_link_stops_working_when_the_invitation_is_sent_again(owner_invitation, client):
    from portal.services import invitation_issue_token

    accept = open_invitation(client, owner_invitation)
    invitation_issue_token(invitation=Invitation.objects.get())  # "send again"
    response = client.post(accept, NEW_PASSWORD)
    assert response.status_code == 404 and b"newest invitation email" in response.content
    assert_nothing_accepted()


def test_another_signed_in_account_is_told_without_naming_the_invited_address(
    owner_invitation, world, login
):
    client = login(world.charlie)
    accept = open_invitation(client, owner_invitation)
    for response in (client.get(accept), client.post(accept, NEW_PASSWORD)):
        assert response.status_code == 403
        text = response.content.decode()
        assert "sent to another email address than the one you are signed in with" in text
        assert "(charlie@example.test)" in text
        assert "boss@new.test" not in text and "boss" not in text
    assert_nothing_accepted()


# --- Set-password links ----------------------------------------------------------------


@pytest.fixture
def new_admin():
    user = factories.UserFactory(email="pat@acme.test")
    user.set_unusable_password()
    user.save(update_fields=["password"])
    return user


def test_set_password_link_has_the_token_in_its_query_string_only(new_admin):
    parts = urlsplit(set_password_url(new_admin))
    assert parts.path == "/accounts/set-password/"
    query = parse_qs(parts.query)
    assert default_token_generator.check_token(new_admin, query["token"][0])
    assert query["token"][0] not in parts.path


def test_set_password_link_moves_the_token_into_the_session(new_admin, client):
    parts = urlsplit(set_password_url(new_admin))
    token = parse_qs(parts.query)["token"][0]
    response = client.get(f"{parts.path}?{parts.query}")
    assert response.status_code == 302
    uidb64 = urlsafe_base64_encode(force_bytes(new_admin.pk))
    assert response["Location"] == f"/accounts/set-password/{uidb64}/set-password/"
    assert token not in response["Location"]
    assert_token_url_page(response)
    assert client.session[INTERNAL_RESET_SESSION_TOKEN] == token

    form = client.get(response["Location"])
    assert b"Set your password" in form.content
    assert_page_after_the_redirect(form)
    done = client.post(
        response["Location"],
        {"new_password1": "a long new passphrase", "new_password2": "a long new passphrase"},
    )
    assert done.status_code == 302
    new_admin.refresh_from_db()
    assert new_admin.check_password("a long new passphrase")


def test_set_password_token_in_the_path_is_refused(new_admin, client):
    uidb64 = urlsafe_base64_encode(force_bytes(new_admin.pk))
    token = default_token_generator.make_token(new_admin)
    url = f"/accounts/set-password/{uidb64}/{token}/"
    for response in (
        client.get(url),
        client.post(url, {"new_password1": "a long pass 12", "new_password2": "a long pass 12"}),
    ):
        assert response.status_code == 200  # Django's own "link cannot be used" page
        assert b"This link cannot be used" in response.content
        assert_token_url_page(response)
    assert INTERNAL_RESET_SESSION_TOKEN not in client.session
    new_admin.refresh_from_db()
    assert not new_admin.has_usable_password()


@pytest.mark.parametrize(
    "query",
    ["", "?uid=&token=", "?uid=MQ&token=garbage", "?uid=%%%&token=x", "?uid=" + "A" * 300],
    ids=["none", "empty", "garbage", "bad-uid", "long-uid"],
)
def test_a_bad_set_password_link_is_refused_and_nothing_is_written(new_admin, client, query):
    response = client.get("/accounts/set-password/" + query)
    assert response.status_code == 200
    assert b"This link cannot be used" in response.content
    assert_token_url_page(response)
    assert not client.cookies.get("sessionid")
    new_admin.refresh_from_db()
    assert not new_admin.has_usable_password()


def test_the_set_password_form_without_an_opened_link_is_refused(new_admin, client):
    uidb64 = urlsafe_base64_encode(force_bytes(new_admin.pk))
    url = f"/accounts/set-password/{uidb64}/set-password/"
    response = client.post(
        url, {"new_password1": "a long pass 12", "new_password2": "a long pass 12"}
    )
    assert b"This link cannot be used" in response.content
    new_admin.refresh_from_db()
    assert not new_admin.has_usable_password()


def test_createprovider_prints_a_query_string_link(capsys):
    call_command("createprovider", "Acme IT", "--admin-email", "pat@acme.test")
    link = re.search(r"https?://\S+/accounts/set-password/\S+", capsys.readouterr().out).group(0)
    assert urlsplit(link).path == "/accounts/set-password/"
    assert "token" in parse_qs(urlsplit(link).query)


def test_emailed_reset_links_carry_the_token_in_the_query_string(client, settings):
    import importlib

    from django.urls import clear_url_caches

    import portal.urls

    settings.PASSWORD_RESET_BY_EMAIL = True
    try:
        importlib.reload(portal.urls)
        clear_url_caches()
        factories.UserFactory(email="pat@example.test")
        client.post(reverse("password_reset"), {"email": "pat@example.test"})
        link = urlsplit(re.search(r"https?://\S+/accounts/\S+", mail.outbox[0].body).group(0))
        assert link.path == "/accounts/set-password/" and "token" in parse_qs(link.query)
        opened = client.get(f"{link.path}?{link.query}")
        assert opened.status_code == 302
        assert b"Set your password" in client.get(opened["Location"]).content
    finally:
        settings.PASSWORD_RESET_BY_EMAIL = False
        importlib.reload(portal.urls)
        clear_url_caches()
