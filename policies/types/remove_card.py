"""Remove card item type: cards cannot be created, and existing cards are hidden."""

from __future__ import annotations

from typing import ClassVar

from ..models import PolicyType
from .base import PolicyTypeBase


class RemoveCardPolicy(PolicyTypeBase):
    key = PolicyType.REMOVE_CARD_ITEM_TYPE
    title = "Remove card item type"
    description = (
        "Members cannot create card items, and existing cards are hidden from the vault "
        "(list, search, item pages and export); imports skip cards. Switching it off shows "
        "them again."
    )
    applies_to = "Every member, owners and admins included."
    # The item_saved and item-listing hooks: the vault refuses to create these types and
    # leaves them out of every query of items (vault.selectors.items_reachable).
    hidden_item_types: ClassVar[frozenset[str]] = frozenset({"card"})
