"""Two admins remove or demote each other at the same moment: exactly one may pass.

Needs real row locks, so Postgres; SQLite serialises whole-database writes and ignores
SELECT ... FOR UPDATE, which would make this test prove nothing.
"""

import threading
import time

import pytest
from django.db import connection, connections

from providers import services
from providers.models import ProviderRole, ProviderUser, ProviderUserStatus
from providers.services import (
    LastAdminError,
    provider_user_remove,
    provider_user_update_role,
)
from tests import factories

from .helpers import provider_actor

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs Postgres row locks (set DATABASE_URL=postgres://...)",
    ),
]


def _demote(*, actor, provider_user):
    provider_user_update_role(
        actor=actor, provider_user=provider_user, role=ProviderRole.SERVICE_USER
    )


@pytest.mark.parametrize(
    "first_action, second_action",
    [
        (provider_user_remove, provider_user_remove),
        (_demote, provider_user_remove),
        (_demote, _demote),
    ],
    ids=["remove-remove", "demote-remove", "demote-demote"],
)
def test_two_concurrent_admin_losses_cannot_both_pass(
    world, monkeypatch, first_action, second_action
):
    first = world.provider.provider_users.get(user=world.provider_admin)
    second = factories.ProviderUserFactory(provider=world.provider, role=ProviderRole.ADMIN)
    actors = {
        first.pk: provider_actor(first.user, world.provider),
        second.pk: provider_actor(second.user, world.provider),
    }
    # Hold the lock a moment after reading: without the lock, both requests would read
    # two admins here and both remove; with it, the second waits and reads one.
    locked_read = services._locked_confirmed_admin_ids

    def slow_locked_read(provider):
        ids = locked_read(provider)
        time.sleep(0.3)
        return ids

    monkeypatch.setattr(services, "_locked_confirmed_admin_ids", slow_locked_read)
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def remove(actor_pk, target, action):
        barrier.wait()
        try:
            action(actor=actors[actor_pk], provider_user=target)
            outcomes[str(actor_pk)] = "removed"
        except LastAdminError as error:
            outcomes[str(actor_pk)] = error
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=remove, args=(first.pk, second, first_action)),
        threading.Thread(target=remove, args=(second.pk, first, second_action)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(type(o).__name__ for o in outcomes.values()) == ["LastAdminError", "str"]
    confirmed_admins = ProviderUser.objects.filter(
        provider=world.provider, role=ProviderRole.ADMIN, status=ProviderUserStatus.CONFIRMED
    )
    assert confirmed_admins.count() == 1
