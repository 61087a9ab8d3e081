"""System check: the vault's key-encryption keys load.

With DEBUG off, settings already refuse to start without them
(`portal.settings.base`); this check also covers DEBUG mode, where a missing
key is a warning, so `manage.py check` tells a developer why vault pages fail.
"""

from django.conf import settings
from django.core.checks import Error, Warning, register

from .keyring import configured_keyring, forget_cached_keyring
from .keys import InvalidKeyConfiguration


@register("vault")
def check_key_encryption_keys(app_configs, **kwargs):
    forget_cached_keyring()  # a check must read the file as it is now
    try:
        configured_keyring()
    except InvalidKeyConfiguration as error:
        level = Warning if settings.DEBUG else Error
        return [
            level(
                f"The vault has no usable key-encryption key: {error}.",
                hint="Set VAULT_KEKS or VAULT_KEKS_FILE; `manage.py generate_kek` prints a key.",
                id="vault.E001" if level is Error else "vault.W001",
            )
        ]
    return []
