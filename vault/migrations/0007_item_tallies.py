"""Item tallies (`vault.tallies`): a new, empty table; no lock on an existing one."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('clients', '0004_client_figures'),
        ('vault', '0006_item_live_order'),
    ]

    operations = [
        migrations.CreateModel(
            name='ItemTally',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('live', models.IntegerField(default=0)),
                ('collection', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='clients.collection')),
                ('org', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='clients.organization')),
            ],
            options={
                'constraints': [models.UniqueConstraint(condition=models.Q(('collection__isnull', True)), fields=('org',), name='item_tally_one_per_org')],
            },
        ),
    ]
