"""Small helpers shared by the provider tests."""

from __future__ import annotations

import re

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
    match = re.search(r"/invitations/([\w-]+)/", mail.outbox[index].body)
    assert match, mail.outbox[index].body
    return match.group(1)


def accept_url_from_outbox(index: int = -1) -> str:
    match = re.search(r"https?://\S+/invitations/[\w-]+/", mail.outbox[index].body)
    assert match, mail.outbox[index].body
    return match.group(0)


def event_types(**filters) -> list[str]:
    return list(Event.objects.filter(**filters).order_by("id").values_list("type", flat=True))


def page_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


# Passes Django's email validator, yet is longer than the 254 characters an email
# column holds (Postgres would refuse the row with an error page).
TOO_LONG_EMAIL = "a" * 60 + "@" + ".".join(["b" * 60] * 4) + ".test"
