"""Helpers of the group and collection tests: URLs, people with one flag or one level."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clients.models import AccessLevel, MemberRole
from portal.models import Event
from tests import factories


def org_url(name: str, org, **kwargs) -> str:
    return reverse(
        name, kwargs={"org_id": org.pk, **{k: getattr(v, "pk", v) for k, v in kwargs.items()}}
    )


def custom_member(org, email: str, **flags):
    """A confirmed custom-role member with these flags (and no collection access)."""
    user = factories.UserFactory(email=email)
    membership = factories.MembershipFactory(org=org, user=user, role=MemberRole.CUSTOM, **flags)
    return user, membership


def manager_of(collection, email: str = "manny@example.test", *, via_group: bool = False):
    """A plain user who "can manage" `collection`, directly or through a group."""
    user = factories.UserFactory(email=email)
    membership = factories.MembershipFactory(org=collection.org, user=user)
    if via_group:
        group = factories.GroupFactory(org=collection.org, name=f"Managers of {collection.name}")
        group.members.add(membership)
        factories.CollectionGroupGrantFactory(
            collection=collection, group=group, level=AccessLevel.MANAGE
        )
    else:
        factories.CollectionMemberGrantFactory(
            collection=collection, membership=membership, level=AccessLevel.MANAGE
        )
    return user, membership


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        assert response.status_code == 200
    return len(queries.captured_queries)


def last_event(org, event_type) -> Event:
    return Event.objects.filter(org=org, type=event_type).latest("id")
