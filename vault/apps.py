from django.apps import AppConfig


class VaultConfig(AppConfig):
    name = "vault"

    def ready(self) -> None:
        from . import checks  # noqa: F401  registers the key-configuration check
