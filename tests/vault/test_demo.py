"""seed_demo gives each demo client items of every type, once."""

import pytest
from django.core.management import call_command

from clients.models import Organization
from vault.content import ItemType
from vault.models import Item

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_items_of_every_type_to_each_client_once(capsys):
    call_command("seed_demo", "--password", "demo-pass-for-tests")
    counts = {org.name: Item.objects.filter(org=org).count() for org in Organization.objects.all()}
    call_command("seed_demo", "--password", "demo-pass-for-tests")
    assert {
        org.name: Item.objects.filter(org=org).count() for org in Organization.objects.all()
    } == counts
    for org in Organization.objects.all():
        types = set(Item.objects.filter(org=org).values_list("type", flat=True))
        assert types == set(ItemType.values), org.name
        assert not Item.objects.filter(org=org, collections=None).exists()
    call_command("verify_vault")
