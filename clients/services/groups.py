"""Writes on groups: create, rename, delete, members, collection access."""

from __future__ import annotations

from django.db import transaction

from ..models import (
    Group,
    Organization,
)


@transaction.atomic
def group_create(*, org: Organization, name: str, members=()) -> Group:
    group = Group.objects.create(org=org, name=name)
    group.members.set(members)
    return group
