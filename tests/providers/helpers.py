"""Small helpers shared by the provider tests."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from django.core import mail
from django.urls import reverse

from portal.access import resolve_provider
from portal.models import Event


def provider_url(name: str, provider, *args) -> str:
    return reverse(name, args=[provider.pk, *args])


def provider_actor(user, provider):
    actor = resolve_provider(user, provider)
    assert actor is not None, f"{user} is not confirmed staff of {provider}"
    return actor


def token_from_outbox(index: int = -1) -> str:
    match = re.search(r"/invitations/open/\?token=([\w-]+)", mail.outbox[index].body)
    assert match, mail.outbox[index].body
    return match.group(1)


def accept_url_from_outbox(index: int = -1) -> str:
    match = re.search(r"https?://\S+/invitations/open/\?token=[\w-]+", mail.outbox[index].body)
    assert match, mail.outbox[index].body
    return match.group(0)


def open_invitation(client, token: str | None = None) -> str:
    """Open an emailed invitation link (default: the last email's) as a browser does.

    Returns the token-free URL the link leads to, where the invitation is accepted."""
    token = token_from_outbox() if token is None else token
    response = client.get(reverse("invitation_open"), {"token": token})
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


def invitation_open_url(token: str) -> str:
    return reverse("invitation_open") + "?" + urlencode({"token": token})


def event_types(**filters) -> list[str]:
    return list(Event.objects.filter(**filters).order_by("id").values_list("type", flat=True))


def page_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# Passes Django's email validator, yet is longer than the 254 characters an email
# column holds (Postgres would refuse the row with an error page).
TOO_LONG_EMAIL = "a" * 60 + "@" + ".".join(["b" * 60] * 4) + ".test"
