"""An index on the address of invited memberships, whatever its case.

On PostgreSQL it is built with CREATE INDEX CONCURRENTLY (so this migration is not
atomic): that takes no lock blocking reads or writes of clients_membership while it
builds, well under a second at `make bench` size (some 20,000 invitations). Other
databases build it plainly.
"""

import django.db.models.functions.text
from django.db import migrations, models

from portal.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("clients", "0004_client_figures"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="membership",
            index=models.Index(
                django.db.models.functions.text.Upper("email"),
                condition=models.Q(("status", "invited")),
                name="membership_invited_email",
            ),
        ),
    ]
