"""The cast of the members tests: the `world` of conftest.py plus the actors the role
matrix needs (a custom role without "manage users", service users in and out of scope)."""

from __future__ import annotations

from django.urls import reverse

from clients.models import MemberRole, Membership, MemberStatus
from portal.access import resolve
from providers.models import ProviderRole
from tests import factories

OWNER = "owner"
ADMIN = "admin"
USER = "user"
CUSTOM_MANAGER = "custom_manager"  # custom role with "manage users"
CUSTOM_PLAIN = "custom_plain"  # custom role with "manage groups" only
PROVIDER_ADMIN = "provider_admin"
SERVICE_IN_SCOPE = "service_in_scope"
SERVICE_OUT_OF_SCOPE = "service_out_of_scope"
OTHER_PROVIDER_ADMIN = "other_provider_admin"
STRANGER = "stranger"
ACTORS = [
    OWNER,
    ADMIN,
    USER,
    CUSTOM_MANAGER,
    CUSTOM_PLAIN,
    PROVIDER_ADMIN,
    SERVICE_IN_SCOPE,
    SERVICE_OUT_OF_SCOPE,
    OTHER_PROVIDER_ADMIN,
    STRANGER,
]
# Who manages members of world.org; who is related but may not (403); who is a stranger (404).
MANAGERS = {OWNER, ADMIN, CUSTOM_MANAGER, PROVIDER_ADMIN, SERVICE_IN_SCOPE}
LIMITED = {USER, CUSTOM_PLAIN}
STRANGERS = {SERVICE_OUT_OF_SCOPE, OTHER_PROVIDER_ADMIN, STRANGER}


def cast(world) -> dict:
    """Each actor's user; creates the extra actors once per world."""
    if not hasattr(world, "cast"):
        plain = factories.UserFactory(email="plain@example.test")
        factories.MembershipFactory(
            org=world.org, user=plain, role=MemberRole.CUSTOM, can_manage_groups=True
        )
        scoped_in = factories.ProviderUserFactory(
            provider=world.provider, role=ProviderRole.SERVICE_USER, access_all_clients=False
        )
        scoped_in.client_scope.add(world.org)
        scoped_out = factories.ProviderUserFactory(
            provider=world.provider, role=ProviderRole.SERVICE_USER, access_all_clients=False
        )
        scoped_out.client_scope.add(factories.OrganizationFactory(provider=world.provider))
        world.cast = {
            OWNER: world.alice,
            ADMIN: world.org_admin,
            USER: world.bob,
            CUSTOM_MANAGER: world.custom,
            CUSTOM_PLAIN: plain,
            PROVIDER_ADMIN: world.provider_admin,
            SERVICE_IN_SCOPE: scoped_in.user,
            SERVICE_OUT_OF_SCOPE: scoped_out.user,
            OTHER_PROVIDER_ADMIN: world.other_provider_admin,
            STRANGER: world.charlie,
        }
    return world.cast


def actor_for(user, org):
    actor = resolve(user, org)
    assert actor is not None, f"{user} is not related to {org}"
    return actor


def member(world, user, org=None) -> Membership:
    return (org or world.org).memberships.get(user=user)


def add_member(org, email, *, status=MemberStatus.CONFIRMED, role=MemberRole.USER, **flags):
    user = None if status == MemberStatus.INVITED else factories.UserFactory(email=email)
    return factories.MembershipFactory(
        org=org, user=user, email=email, status=status, role=role, **flags
    )


def url(name: str, org, *args) -> str:
    return reverse(name, args=[org.pk, *args])


def page_messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]
