"""Two owners demote, revoke or remove each other at the same moment: exactly one may
pass, so the org keeps a confirmed owner.

Needs real row locks, so Postgres; SQLite serialises whole-database writes and ignores
SELECT ... FOR UPDATE, which would make this test prove nothing.
"""

import threading
import time

import pytest
from django.db import connection, connections

from clients.models import MemberRole, Membership, MemberStatus
from clients.services import members as services
from clients.services.members import LastOwnerError, member_remove, member_revoke, member_update
from tests import factories

from .members_helpers import actor_for, member

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs Postgres row locks (set DATABASE_URL=postgres://...)",
    ),
]


def _demote(*, actor, membership):
    member_update(actor=actor, membership=membership, role=MemberRole.ADMIN)


@pytest.mark.parametrize(
    "first_action, second_action",
    [(_demote, _demote), (_demote, member_revoke), (member_remove, member_revoke)],
    ids=["demote-demote", "demote-revoke", "remove-revoke"],
)
def test_two_concurrent_owner_losses_cannot_both_pass(
    world, monkeypatch, first_action, second_action
):
    first = member(world, world.alice)
    second = factories.MembershipFactory(org=world.org, role=MemberRole.OWNER)
    actors = {
        first.pk: actor_for(first.user, world.org),
        second.pk: actor_for(second.user, world.org),
    }
    # Hold the lock a moment after reading: without the lock, both requests would read
    # two owners here and both pass; with it, the second waits and reads one.
    locked_read = services._locked_confirmed_owner_ids

    def slow_locked_read(org):
        ids = locked_read(org)
        time.sleep(0.3)
        return ids

    monkeypatch.setattr(services, "_locked_confirmed_owner_ids", slow_locked_read)
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def act(actor_pk, target, action):
        barrier.wait()
        try:
            action(actor=actors[actor_pk], membership=target)
            outcomes[str(actor_pk)] = "done"
        except LastOwnerError as error:
            outcomes[str(actor_pk)] = error
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=act, args=(first.pk, second, first_action)),
        threading.Thread(target=act, args=(second.pk, first, second_action)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(type(o).__name__ for o in outcomes.values()) == ["LastOwnerError", "str"]
    confirmed_owners = Membership.objects.filter(
        org=world.org, role=MemberRole.OWNER, status=MemberStatus.CONFIRMED
    )
    assert confirmed_owners.count() == 1
