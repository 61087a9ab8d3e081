"""The vault list's order index on items not in the trash.

On PostgreSQL it is built with CREATE INDEX CONCURRENTLY (so this migration is not
atomic): that takes no lock blocking reads or writes of vault_item while it builds,
well under a second at `make bench` size (30,000 items). Other databases build it
plainly.
"""

from django.db import migrations, models

from portal.migration_operations import AddIndexConcurrentlyOnPostgres


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
