"""The owner's org settings: the name, and whether owners and admins reach every item."""

import pytest
from django.urls import reverse

from portal.access import resolve, vault_access
from portal.models import Event, EventType

pytestmark = pytest.mark.django_db


def settings_url(org):
    return reverse("org_settings", args=[org.pk])


def test_owner_turns_off_admins_reaching_every_item(world, login):
    client = login(world.alice)
    assert vault_access(resolve(world.org_admin, world.org)).reaches_all_items
    response = client.post(settings_url(world.org), {"name": "Alice Co"})  # box unticked
    assert response.status_code == 302
    world.org.refresh_from_db()
    assert world.org.admins_access_all_items is False
    access = vault_access(resolve(world.org_admin, world.org))
    assert not access.reaches_all_items
    assert access.level_for([world.collection.pk]) is None  # no grant of their own
    event = Event.objects.get(type=EventType.ORG_UPDATED, org=world.org)
    assert event.actor == world.alice and event.details == {"changed": ["admins_access_all_items"]}


def test_owner_renames_the_org(world, login):
    client = login(world.alice)
    client.post(
        settings_url(world.org), {"name": "  Alice Holdings ", "admins_access_all_items": "on"}
    )
    world.org.refresh_from_db()
    assert world.org.name == "Alice Holdings" and world.org.admins_access_all_items


def test_bad_input_keeps_what_was_typed_and_changes_nothing(world, login):
    client = login(world.alice)
    response = client.post(settings_url(world.org), {"name": "x" * 101})
    assert response.status_code == 200
    assert b"at most 100 characters" in response.content
    assert ("x" * 101).encode() in response.content
    world.org.refresh_from_db()
    assert world.org.name == "Alice Co" and world.org.admins_access_all_items
    assert not Event.objects.filter(type=EventType.ORG_UPDATED).exists()


def test_saving_without_changes_writes_no_event(world, login):
    login(world.alice).post(
        settings_url(world.org), {"name": "Alice Co", "admins_access_all_items": "on"}
    )
    assert not Event.objects.filter(type=EventType.ORG_UPDATED).exists()


def test_only_owners_see_the_settings_link(world, login):
    owner_page = login(world.alice).get(reverse("org_overview", args=[world.org.pk]))
    assert settings_url(world.org).encode() in owner_page.content
    admin_page = login(world.org_admin).get(reverse("org_overview", args=[world.org.pk]))
    assert settings_url(world.org).encode() not in admin_page.content
