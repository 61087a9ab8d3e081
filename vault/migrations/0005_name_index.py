"""The name index (`vault.name_index`): a new, empty table; no lock on an existing one."""

import uuid

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("clients", "0003_organization_disabled_with_provider"),
        ("vault", "0004_import_jobs"),
    ]

    operations = [
        migrations.CreateModel(
            name="NameIndexSegment",
            fields=[
                (
                    "id",
                    models.UUIDField(
                        default=uuid.uuid4, editable=False, primary_key=True, serialize=False
                    ),
                ),
                (
                    "complete",
                    models.BooleanField(
                        default=False,
                        help_text="Built from every item of the org when it was written.",
                    ),
                ),
                ("entries", models.PositiveIntegerField(default=0)),
                ("ciphertext", models.BinaryField()),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                (
                    "data_key",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="vault.datakey",
                    ),
                ),
                (
                    "org",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="clients.organization",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["org", "created_at"], name="vault_namei_org_id_741473_idx")
                ],
            },
        ),
    ]
