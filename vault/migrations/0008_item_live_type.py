"""An index on the types of the items not in the trash, per org: the vault list of an org
whose policy hides a type (cards) counts those items only, and takes them from the tally.

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
        ("vault", "0007_item_tallies"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="item",
            index=models.Index(
                condition=models.Q(("deleted_at__isnull", True)),
                fields=["org", "type"],
                name="vault_item_live_type",
            ),
        ),
    ]
