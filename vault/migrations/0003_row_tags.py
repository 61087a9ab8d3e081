"""Tag every org public key and data key, so that rows planted without a KEK are refused.

The tags authenticate the rows as they stand when this runs: a row planted before
the upgrade would be tagged too, which is the limit of any migration (see the
README's threat model). Runs without a key-encryption key on an empty vault;
with keys to tag and no KEK configured it stops and says what to set.

Reversible: going back drops the tag columns, and the older code never read them.
Adding columns with a constant default takes no long lock on PostgreSQL 11+; the
tagging updates each key row once (one per org and data key, never items).
"""

from django.conf import settings
from django.db import migrations, models


def tag_existing_rows(apps, schema_editor):
    from vault.keys import (
        InvalidKeyConfiguration,
        KeyRing,
        load_keyring,
        tag_data_key,
        tag_org_public_key,
    )

    OrgKey = apps.get_model("vault", "OrgKey")
    DataKey = apps.get_model("vault", "DataKey")
    if not OrgKey.objects.exists() and not DataKey.objects.exists():
        return
    try:
        keyring = load_keyring(keks=settings.VAULT_KEKS, keks_file=settings.VAULT_KEKS_FILE)
    except InvalidKeyConfiguration as error:
        raise RuntimeError(
            f"The vault's key rows need integrity tags, but no key-encryption key is "
            f"configured ({error}). Set VAULT_KEKS or VAULT_KEKS_FILE and run migrate again."
        ) from None
    for row in OrgKey.objects.iterator():
        # A public key is tagged under the KEK that wraps its private half, so that the
        # row keeps one KEK id; rotate_keks moves both together.
        own_kek = KeyRing(((row.kek_id, keyring.get(row.kek_id)),))
        row.public_key_tag = tag_org_public_key(
            bytes(row.public_key), org_id=row.org_id, version=row.version, keyring=own_kek
        ).tag
        row.save(update_fields=["public_key_tag"])
    for row in DataKey.objects.iterator():
        row_tag = tag_data_key(
            bytes(row.sealed_key),
            org_id=row.org_id,
            data_key_id=row.pk,
            org_key_version=row.org_key_version,
            purpose=row.purpose,
            keyring=keyring,
        )
        row.tag_kek_id, row.tag = row_tag.kek_id, row_tag.tag
        row.save(update_fields=["tag_kek_id", "tag"])


class Migration(migrations.Migration):

    dependencies = [
        ('vault', '0002_org_keys_for_existing_orgs'),
    ]

    operations = [
        migrations.AddField(
            model_name='datakey',
            name='tag',
            field=models.BinaryField(default=b'', help_text='HMAC over org, id, org key version, purpose and sealed bytes (vault.keys).'),
        ),
        migrations.AddField(
            model_name='datakey',
            name='tag_kek_id',
            field=models.CharField(default='', help_text='The KEK behind the tag.', max_length=32),
        ),
        migrations.AddField(
            model_name='orgkey',
            name='public_key_tag',
            field=models.BinaryField(default=b'', help_text='HMAC over org, version and public key (vault.keys row tags).'),
        ),
        migrations.AlterField(
            model_name='orgkey',
            name='kek_id',
            field=models.CharField(help_text='The key-encryption key that wraps it and tags the public key.', max_length=32),
        ),
        # Reversing drops the columns, which removes the tags: nothing to undo here.
        migrations.RunPython(tag_existing_rows, migrations.RunPython.noop),
    ]
