"""Account recovery administration: enrolled members' passwords may be reset by an owner
or admin of the org (never by provider staff; an owner's only by an owner)."""

from __future__ import annotations

from ..models import PolicyType
from .base import PolicyTypeBase


class AccountRecoveryPolicy(PolicyTypeBase):
    key = PolicyType.ACCOUNT_RECOVERY
    title = "Account recovery administration"
    description = (
        "Members may enrol in account recovery (from the organization's sidebar). The "
        "owners and admins of the organization, never its provider, may then set a new "
        "password for an enrolled member who has lost theirs; the member is emailed and "
        "the event is recorded. An owner's account is recovered only by another owner."
    )
    applies_to = "Members who enrol."
