"""Writes on collections: create, rename, delete, and their access."""

from __future__ import annotations

from django.db import transaction

from ..models import (
    AccessLevel,
    Collection,
    CollectionGroupGrant,
    CollectionMemberGrant,
    Group,
    Membership,
    Organization,
)


@transaction.atomic
def collection_create(*, org: Organization, name: str) -> Collection:
    return Collection.objects.create(org=org, name=name)


def collection_grant_member(*, collection: Collection, membership: Membership, level: AccessLevel):
    if collection.org_id != membership.org_id:
        raise ValueError("A collection can only be shared within its own organization.")
    CollectionMemberGrant.objects.update_or_create(
        collection=collection, membership=membership, defaults={"level": level}
    )


def collection_grant_group(*, collection: Collection, group: Group, level: AccessLevel):
    if collection.org_id != group.org_id:
        raise ValueError("A collection can only be shared within its own organization.")
    CollectionGroupGrant.objects.update_or_create(
        collection=collection, group=group, defaults={"level": level}
    )
