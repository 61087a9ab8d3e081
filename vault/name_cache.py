"""A short-lived, encrypted cache of the item names one member has searched.

Names are ciphertext in the database, so a search opens every name the member
can reach: about 10,000 AES-GCM opens for a large org. This cache keeps the
names a member's last search opened, so the next search (refining the text,
turning a page) opens only what changed.

- At rest (Django's cache: Redis in production) it is ciphertext only: one
  AES-GCM value under the org's members' data key, bound to org and user.
- It is per member and holds only names that member's access check let them
  open, and a search still selects rows through that access check in SQL first.
- Each name carries its item's revision; a name whose item changed since is
  opened again from the database, so the cache can be stale, never wrong.
- An entry lives `CACHE_SECONDS` from when it was first built, however often
  it is refreshed, so names of deleted items do not linger.
- A cache that fails to open is dropped (logged), never trusted.
"""

from __future__ import annotations

import json
import logging
import time
from uuid import UUID

from django.core.cache import cache

from portal.access import VaultAccess

from .crypto import ItemUnreadable, KeyChain
from .keys import DecryptionFailed, decrypt_field, encrypt_field

logger = logging.getLogger("vault")

CACHE_SECONDS = 600
# The associated data names the org, the member (in the item slot: ids never collide with
# items, and this field name is used for nothing else) and this purpose.
_FIELD = "search-name-cache"

NameEntries = dict[str, list]  # item id as the database's text -> [revision, name]


def _cache_key(access: VaultAccess) -> str:
    return f"vault:search-names:{access.org.pk}:{access.actor.user.pk}"


def load(*, access: VaultAccess, keychain: KeyChain) -> tuple[NameEntries, float]:
    """The cached names and when they expire; ({}, 0) when there are none."""
    stored = cache.get(_cache_key(access))
    if not stored:
        return {}, 0.0
    data_key_id, ciphertext, expires_at = stored
    try:
        plaintext = decrypt_field(
            ciphertext,
            data_key=keychain.data_key(UUID(data_key_id)),
            org_id=access.org.pk,
            item_id=access.actor.user.pk,
            field=_FIELD,
        )
        return json.loads(plaintext), expires_at
    except (DecryptionFailed, ItemUnreadable, ValueError):
        logger.warning("Dropped a search-name cache of org %s that failed to open.", access.org.pk)
        cache.delete(_cache_key(access))
        return {}, 0.0


def save(
    *, access: VaultAccess, keychain: KeyChain, entries: NameEntries, expires_at: float
) -> None:
    now = time.time()
    if not expires_at:
        expires_at = now + CACHE_SECONDS
    if expires_at <= now:
        return
    data_key_id, data_key = keychain.any_open_data_key()
    if data_key is None:
        return
    plaintext = json.dumps(entries, separators=(",", ":"), ensure_ascii=False).encode()
    ciphertext = encrypt_field(
        plaintext,
        data_key=data_key,
        org_id=access.org.pk,
        item_id=access.actor.user.pk,
        field=_FIELD,
    )
    value = (str(data_key_id), ciphertext, expires_at)
    cache.set(_cache_key(access), value, timeout=int(expires_at - now) + 1)
