"""The configured key-encryption keys, loaded once per configuration.

Settings carry only the spec (`VAULT_KEKS`) or the file name (`VAULT_KEKS_FILE`);
the parsed `KeyRing` is cached on those values, so `override_settings` in tests
and a restart after editing the key file both pick up the new keys.
"""

from __future__ import annotations

import functools

from django.conf import settings

from .keys import KeyRing, load_keyring


def configured_keyring() -> KeyRing:
    """The key ring; InvalidKeyConfiguration if none (or a broken one) is configured."""
    return _keyring_for(settings.VAULT_KEKS or "", settings.VAULT_KEKS_FILE or "")


@functools.lru_cache(maxsize=4)
def _keyring_for(keks: str, keks_file: str) -> KeyRing:
    return load_keyring(keks=keks, keks_file=keks_file)


def forget_cached_keyring() -> None:
    """Re-read the key file on next use (the file may change under the same name)."""
    _keyring_for.cache_clear()
