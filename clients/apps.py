from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _ensure_figures_triggers(sender, using="default", **kwargs) -> None:
    from .figures_triggers import figures_triggers_ensure

    figures_triggers_ensure(using=using)


class ClientsConfig(AppConfig):
    name = "clients"
    verbose_name = "Client organizations"

    def ready(self) -> None:
        # After every migrate: the figures' triggers live outside the migrations, since
        # SQLite drops a table's triggers when a migration rebuilds that table.
        post_migrate.connect(_ensure_figures_triggers, sender=self)
