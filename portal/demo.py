"""The demo data set that `manage.py seed_demo` creates. Idempotent: run it twice, get one demo."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from clients.models import AccessLevel, Collection, Group, MemberRole, Organization, Plan
from clients.services import (
    collection_create,
    collection_grant_group,
    collection_grant_member,
    group_create,
    membership_add_confirmed,
    org_create,
)
from providers.models import Provider, ProviderRole
from providers.services import provider_user_add_confirmed
from vault.demo import seed_demo_items

DEMO_PROVIDER = "Demo MSP"
DEMO_CLIENTS = [
    ("Client A", "client-a", Plan.ENTERPRISE, 25),
    ("Client B", "client-b", Plan.TEAMS, 10),
    ("Client C", "client-c", Plan.TEAMS, 5),
]
# The demo's custom-role member (carol@client-a.test) and what the role may do.
CUSTOM_ROLE_DOMAIN = "client-a"
CUSTOM_ROLE_FLAGS = ("can_manage_users", "can_access_event_logs")


@dataclass(frozen=True)
class Login:
    email: str
    role: str


def _user(email: str, name: str, password: str):
    user, _ = get_user_model().objects.get_or_create(email=email, defaults={"name": name})
    user.set_password(password)
    user.save(update_fields=["password"])
    return user


@transaction.atomic
def seed_demo(*, password: str) -> list[Login]:
    logins: list[Login] = []
    provider_admin = _user("provider-admin@demo.test", "Pat Provider", password)
    service_user = _user("service-user@demo.test", "Sam Service", password)
    provider = Provider.objects.filter(name=DEMO_PROVIDER).first()
    if provider is None:
        provider = Provider.objects.create(
            name=DEMO_PROVIDER, business_name="Demo MSP Ltd", billing_email="billing@demo.test"
        )
    provider_user_add_confirmed(provider=provider, user=provider_admin, role=ProviderRole.ADMIN)
    provider_user_add_confirmed(
        provider=provider, user=service_user, role=ProviderRole.SERVICE_USER
    )
    logins += [
        Login(provider_admin.email, "provider admin of Demo MSP"),
        Login(service_user.email, "service user of Demo MSP"),
    ]
    for name, domain, plan, seats in DEMO_CLIENTS:
        org = _seed_client(
            provider=provider, name=name, plan=plan, seats=seats, creator=provider_admin
        )
        logins += _seed_people(org=org, domain=domain, password=password)
        seed_demo_items(org=org)
    return logins


def _seed_client(*, provider: Provider, name: str, plan: str, seats: int, creator) -> Organization:
    org = Organization.objects.filter(provider=provider, name=name).first()
    if org is None:
        org = org_create(
            user=creator,
            name=name,
            plan=plan,
            seats=seats,
            provider=provider,
            acting_provider=provider,
        )
    return org


def _seed_people(*, org: Organization, domain: str, password: str) -> list[Login]:
    people = {
        "owner": (
            _user(f"owner@{domain}.test", f"Olivia Owner ({org.name})", password),
            MemberRole.OWNER,
        ),
        "admin": (
            _user(f"admin@{domain}.test", f"Adam Admin ({org.name})", password),
            MemberRole.ADMIN,
        ),
        "alice": (_user(f"alice@{domain}.test", f"Alice ({org.name})", password), MemberRole.USER),
        "bob": (_user(f"bob@{domain}.test", f"Bob ({org.name})", password), MemberRole.USER),
    }
    members = {
        key: membership_add_confirmed(org=org, user=user, role=role)
        for key, (user, role) in people.items()
    }
    logins = [
        Login(user.email, f"{role.label.lower()} of {org.name}") for user, role in people.values()
    ]
    if domain == CUSTOM_ROLE_DOMAIN:
        # One custom role, for the pages such a member reaches (and is refused).
        carol = _user(f"carol@{domain}.test", f"Carol Custom ({org.name})", password)
        membership_add_confirmed(
            org=org, user=carol, role=MemberRole.CUSTOM, **dict.fromkeys(CUSTOM_ROLE_FLAGS, True)
        )
        logins.append(Login(carol.email, f"custom role of {org.name} (manage users, event logs)"))
    engineering = _group(org, "Engineering", [members["alice"]])
    finance = _group(org, "Finance", [members["bob"]])
    default = Collection.objects.get(org=org, is_default=True)
    servers = _collection(org, "Engineering/Servers")
    banking = _collection(org, "Finance/Banking")
    collection_grant_member(
        collection=default, membership=members["owner"], level=AccessLevel.MANAGE
    )
    collection_grant_member(collection=default, membership=members["alice"], level=AccessLevel.VIEW)
    collection_grant_member(
        collection=default, membership=members["bob"], level=AccessLevel.VIEW_EXCEPT_PASSWORDS
    )
    collection_grant_group(collection=servers, group=engineering, level=AccessLevel.EDIT)
    collection_grant_group(collection=banking, group=finance, level=AccessLevel.VIEW)
    return logins


def _group(org: Organization, name: str, members) -> Group:
    group = Group.objects.filter(org=org, name=name).first()
    if group is None:
        return group_create(org=org, name=name, members=members)
    group.members.add(*members)
    return group


def _collection(org: Organization, name: str) -> Collection:
    return Collection.objects.filter(org=org, name=name).first() or collection_create(
        org=org, name=name
    )
