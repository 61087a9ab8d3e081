"""Give every existing org its key pair and first data key.

Runs without any key-encryption key when there are no orgs (a fresh database,
CI); with orgs and no key it stops with a message saying what to configure.
"""

import uuid

from django.conf import settings
from django.db import migrations


def create_org_keys(apps, schema_editor):
    from vault.keys import (
        InvalidKeyConfiguration,
        generate_data_key,
        generate_org_key_pair,
        load_keyring,
        seal_data_key,
        wrap_org_private_key,
    )

    Organization = apps.get_model("clients", "Organization")
    OrgKey = apps.get_model("vault", "OrgKey")
    DataKey = apps.get_model("vault", "DataKey")
    orgs = Organization.objects.exclude(pk__in=OrgKey.objects.values("org_id"))
    if not orgs.exists():
        return
    try:
        keyring = load_keyring(keks=settings.VAULT_KEKS, keks_file=settings.VAULT_KEKS_FILE)
    except InvalidKeyConfiguration as error:
        raise RuntimeError(
            f"Existing organizations need vault keys, but no key-encryption key is configured "
            f"({error}). Set VAULT_KEKS or VAULT_KEKS_FILE (manage.py generate_kek prints one) "
            f"and run migrate again."
        ) from None
    for org in orgs.iterator():
        private_key, public_key = generate_org_key_pair()
        wrapped = wrap_org_private_key(private_key, org_id=org.pk, version=1, keyring=keyring)
        OrgKey.objects.create(
            org=org,
            version=1,
            public_key=public_key,
            wrapped_private_key=wrapped.ciphertext,
            kek_id=wrapped.kek_id,
            active=True,
        )
        data_key_id = uuid.uuid4()
        DataKey.objects.create(
            id=data_key_id,
            org=org,
            sealed_key=seal_data_key(
                generate_data_key(), org_public_key=public_key, org_id=org.pk, data_key_id=data_key_id
            ),
            org_key_version=1,
            purpose="members",
        )


class Migration(migrations.Migration):
    dependencies = [("vault", "0001_initial")]

    operations = [migrations.RunPython(create_org_keys, migrations.RunPython.noop)]
