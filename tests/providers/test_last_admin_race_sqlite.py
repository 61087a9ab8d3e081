"""Two provider admins remove each other at the same moment on SQLite (development, `make
run`): one is refused with the usual message, the other passes, and nobody gets a 500.

SQLite ignores SELECT ... FOR UPDATE; what serialises the two requests is that each
transaction takes the write lock when it begins (`transaction_mode: IMMEDIATE`). Without
it, both read two admins, and the second to write fails with "database is locked". The
in-memory test database is one shared connection, so the race runs in a child process on
a database file (test_last_admin_race.py is the same race on Postgres).
"""

import json

from django.conf import settings

from tests.child_django import run_django

RACE = """
import json
import threading
import time

from django.contrib.messages.storage.cookie import CookieStorage
from django.db import connections
from django.test import Client, RequestFactory
from django.urls import reverse

from providers import services
from providers.models import ProviderRole, ProviderUser, ProviderUserStatus
from tests import factories

provider = factories.ProviderFactory()
first = factories.ProviderUserFactory(provider=provider, role=ProviderRole.ADMIN)
second = factories.ProviderUserFactory(provider=provider, role=ProviderRole.ADMIN)

# Hold on a moment after reading the admins: both requests read before either writes.
locked_read = services._locked_confirmed_admin_ids


def slow_locked_read(provider):
    ids = locked_read(provider)
    time.sleep(0.5)
    return ids


services._locked_confirmed_admin_ids = slow_locked_read
barrier = threading.Barrier(2)
outcomes = {}


def remove(actor, target):
    client = Client(raise_request_exception=False)
    client.force_login(actor.user, backend="portal.auth_backend.AccountBackend")
    url = reverse("provider_user_remove", args=[provider.pk, target.pk])
    barrier.wait()
    try:
        response = client.post(url)
        outcomes[actor.user.email] = {
            "status": response.status_code,
            "location": response.get("Location", ""),
            "messages": messages_in_cookie(client),
        }
    finally:
        connections.close_all()


def messages_in_cookie(client):
    # Not by following the redirect: the admin who lost may be removed by then.
    cookie = client.cookies.get("messages")
    if cookie is None:
        return []
    request = RequestFactory().get("/")
    request.COOKIES = {"messages": cookie.value}
    return [str(message) for message in CookieStorage(request)]


threads = [
    threading.Thread(target=remove, args=(first, second)),
    threading.Thread(target=remove, args=(second, first)),
]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join(timeout=60)
confirmed_admins = ProviderUser.objects.filter(
    provider=provider, role=ProviderRole.ADMIN, status=ProviderUserStatus.CONFIRMED
).count()
print(json.dumps({"outcomes": list(outcomes.values()), "confirmed_admins": confirmed_admins}))
"""


def test_sqlite_transactions_take_the_write_lock_when_they_begin():
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    else:
        assert "transaction_mode" not in database.get("OPTIONS", {})


def test_two_admins_removing_each_other_on_sqlite(tmp_path):
    result = json.loads(run_django(RACE, tmp_path / "race.sqlite3").strip().splitlines()[-1])
    # Both answered with a redirect and a message (a 500 would have no Location).
    # The one who removed goes to the staff list, the one refused back to the user's page.
    outcomes = sorted(result["outcomes"], key=lambda outcome: outcome["location"])
    assert [outcome["status"] for outcome in outcomes] == [302, 302], outcomes
    removed, refused = outcomes
    assert removed["location"].endswith("/users/")
    assert [m for m in removed["messages"] if "was removed from" in m], outcomes
    assert refused["messages"] == [
        "A provider needs at least one confirmed provider admin. "
        "Invite and confirm another admin first."
    ]
    assert result["confirmed_admins"] == 1
