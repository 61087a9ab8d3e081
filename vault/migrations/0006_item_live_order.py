"""The vault list's order index on items not in the trash.

On PostgreSQL it is built with CREATE INDEX CONCURRENTLY (so this migration is not
atomic): that takes no lock blocking reads or writes of vault_item while it builds,
well under a second at `make bench` size (30,000 items). Other databases build it
plainly.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_forwards(
                self, app_label, schema_editor, from_state, to_state
            )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
        else:
            migrations.AddIndex.database_backwards(
                self, app_label, schema_editor, from_state, to_state
            )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("vault", "0005_name_index"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="item",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", True)),
                fields=["org", "-updated_at", "id"],
                name="vault_item_live_order",
            ),
        ),
    ]
