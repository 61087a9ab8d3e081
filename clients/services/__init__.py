"""Writes on client organizations, one module per area. Keyword-only, actor explicit,
one transaction each. The names below are re-exported for existing callers."""

from .collections import collection_create, collection_grant_group, collection_grant_member
from .groups import group_create
from .members import membership_add_confirmed
from .orgs import DEFAULT_COLLECTION_NAME, org_create, org_update_settings

__all__ = [
    "DEFAULT_COLLECTION_NAME",
    "collection_create",
    "collection_grant_group",
    "collection_grant_member",
    "group_create",
    "membership_add_confirmed",
    "org_create",
    "org_update_settings",
]
