"""Reads on client organizations, one module per area, always scoped by org.
The names below are re-exported for existing callers."""

from .collections import collection_list
from .events import org_event_list
from .groups import group_list
from .members import member_list
from .orgs import (
    OnboardingState,
    member_counts,
    onboarding_state,
    org_list_for_user,
    seats_used,
)

__all__ = [
    "OnboardingState",
    "collection_list",
    "group_list",
    "member_counts",
    "member_list",
    "onboarding_state",
    "org_event_list",
    "org_list_for_user",
    "seats_used",
]
