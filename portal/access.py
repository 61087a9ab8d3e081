"""The permission layer: the one place that decides what an actor may do.

Nothing else in the code compares roles. Views ask for a `Capability` through
`org_view` / `provider_view`; services receive the resolved `Actor`.

Provider staff manage a client's structure but never its vault: the provider
rows of the tables below hold no vault capability, and a test reads the
tables to prove it. A provider user who is also a confirmed member of a client
org reaches items through that membership only (see `Actor.vault_membership`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, wraps
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import FilteredRelation, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from clients.models import (
    AccessLevel,
    CollectionGroupGrant,
    CollectionMemberGrant,
    Group,
    MemberRole,
    Membership,
    MemberStatus,
    Organization,
)
from providers.models import Provider, ProviderRole, ProviderUser, ProviderUserStatus

from .events import record_provider_entry
from .prepared import PreparedQuery
from .two_step import PROVIDER_REQUIRES_TWO_STEP_MESSAGE, provider_two_step_missing


class Capability(enum.StrEnum):
    """Everything an actor can do in a client organization."""

    ORG_VIEW = "org_view"
    ORG_RENAME = "org_rename"
    ORG_SETTINGS = "org_settings"
    MEMBERS_VIEW = "members_view"
    MEMBERS_MANAGE = "members_manage"
    GROUPS_MANAGE = "groups_manage"
    COLLECTIONS_MANAGE = "collections_manage"
    POLICIES_MANAGE = "policies_manage"
    IMPORT = "import"
    EVENTS_VIEW = "events_view"
    # Setting a member's password (account recovery policy): owners and admins only,
    # never through a provider.
    ACCOUNT_RECOVERY = "account_recovery"
    # Vault capabilities: never granted through a provider.
    ITEMS_USE = "items_use"
    ITEMS_ACCESS_ALL = "items_access_all"
    EXPORT = "export"


VAULT_CAPABILITIES = frozenset(
    {Capability.ITEMS_USE, Capability.ITEMS_ACCESS_ALL, Capability.EXPORT}
)


class Relationship(enum.StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    USER = "user"
    CUSTOM = "custom"
    PROVIDER_ADMIN = "provider_admin"
    SERVICE_USER = "service_user"


_MANAGEMENT = frozenset(
    {
        Capability.ORG_VIEW,
        Capability.ORG_RENAME,
        Capability.MEMBERS_VIEW,
        Capability.MEMBERS_MANAGE,
        Capability.GROUPS_MANAGE,
        Capability.COLLECTIONS_MANAGE,
        Capability.POLICIES_MANAGE,
        Capability.IMPORT,
        Capability.EVENTS_VIEW,
    }
)

ORG_CAPABILITIES: dict[Relationship, frozenset[Capability]] = {
    Relationship.OWNER: _MANAGEMENT
    | {Capability.ORG_SETTINGS, Capability.ACCOUNT_RECOVERY}
    | VAULT_CAPABILITIES,
    Relationship.ADMIN: _MANAGEMENT | {Capability.ACCOUNT_RECOVERY} | VAULT_CAPABILITIES,
    Relationship.USER: frozenset({Capability.ORG_VIEW, Capability.ITEMS_USE}),
    Relationship.CUSTOM: frozenset({Capability.ORG_VIEW, Capability.ITEMS_USE}),
    Relationship.PROVIDER_ADMIN: _MANAGEMENT,
    Relationship.SERVICE_USER: _MANAGEMENT,
}

# A custom role adds, per flag set on its membership, these capabilities.
CUSTOM_FLAG_CAPABILITIES: dict[str, frozenset[Capability]] = {
    "can_access_event_logs": frozenset({Capability.EVENTS_VIEW}),
    "can_access_import_export": frozenset({Capability.IMPORT, Capability.EXPORT}),
    "can_manage_collections": frozenset({Capability.COLLECTIONS_MANAGE}),
    "can_manage_groups": frozenset({Capability.GROUPS_MANAGE}),
    "can_manage_policies": frozenset({Capability.POLICIES_MANAGE}),
    "can_manage_users": frozenset({Capability.MEMBERS_VIEW, Capability.MEMBERS_MANAGE}),
}

_MEMBER_RELATIONSHIP = {
    MemberRole.OWNER: Relationship.OWNER,
    MemberRole.ADMIN: Relationship.ADMIN,
    MemberRole.USER: Relationship.USER,
    MemberRole.CUSTOM: Relationship.CUSTOM,
}
_PROVIDER_RELATIONSHIP = {
    ProviderRole.ADMIN: Relationship.PROVIDER_ADMIN,
    ProviderRole.SERVICE_USER: Relationship.SERVICE_USER,
}


class ProviderCapability(enum.StrEnum):
    """Everything a provider user can do in the provider portal itself."""

    DASHBOARD_VIEW = "dashboard_view"
    CLIENTS_ENTER = "clients_enter"
    CLIENTS_RENAME = "clients_rename"
    CLIENTS_CREATE = "clients_create"
    CLIENTS_UNLINK = "clients_unlink"
    SEATS_MANAGE = "seats_manage"
    BILLING_VIEW = "billing_view"
    PROVIDER_USERS_MANAGE = "provider_users_manage"
    PROVIDER_EVENTS_VIEW = "provider_events_view"
    PROVIDER_SETTINGS = "provider_settings"
    # Save policy baselines and apply them to clients (policies.baselines).
    BASELINES_MANAGE = "baselines_manage"


_SERVICE_USER_PROVIDER = frozenset(
    {
        ProviderCapability.DASHBOARD_VIEW,
        ProviderCapability.CLIENTS_ENTER,
        ProviderCapability.CLIENTS_RENAME,
    }
)
PROVIDER_CAPABILITIES: dict[Relationship, frozenset[ProviderCapability]] = {
    Relationship.PROVIDER_ADMIN: frozenset(ProviderCapability),
    Relationship.SERVICE_USER: _SERVICE_USER_PROVIDER,
}

# Access levels from least to most permissive; the most permissive grant wins.
LEVEL_RANK: dict[str, int] = {
    AccessLevel.VIEW_EXCEPT_PASSWORDS: 1,
    AccessLevel.VIEW: 2,
    AccessLevel.EDIT_EXCEPT_PASSWORDS: 3,
    AccessLevel.EDIT: 4,
    AccessLevel.MANAGE: 5,
}


def most_permissive_level(levels) -> str | None:
    levels = [level for level in levels if level]
    return max(levels, key=LEVEL_RANK.__getitem__) if levels else None


@dataclass(frozen=True)
class Actor:
    """How one user relates to one org, resolved once per request."""

    user: object
    org: Organization
    relationships: frozenset[Relationship]
    capabilities: frozenset[Capability]
    membership: Membership | None = None
    provider_user: ProviderUser | None = None
    # Per-request memo of reads the permission layer repeats (the member's collection levels).
    memo: dict = field(default_factory=dict, repr=False, compare=False, hash=False)

    def can(self, capability: Capability) -> bool:
        return capability in self.capabilities

    @property
    def via_provider(self) -> bool:
        """True when the actor's only tie to the org is its provider."""
        return self.membership is None and self.provider_user is not None

    @property
    def acting_provider(self) -> Provider | None:
        return self.provider_user.provider if self.via_provider else None

    @property
    def vault_membership(self) -> Membership | None:
        """The membership that vault access is checked against; never a provider tie."""
        if self.membership is not None and self.can(Capability.ITEMS_USE):
            return self.membership
        return None


# --------------------------------------------------------------------------
# Managing members: which roles and flags an actor may hand out, and to whom
# --------------------------------------------------------------------------

# The roles each relationship may give (invite with, or change a member to), for actors
# who manage members at all. Only owners and provider staff make owners; admins make
# admins and below; a custom user manager makes users and custom roles only.
MEMBER_ROLES_GRANTABLE: dict[Relationship, frozenset[str]] = {
    Relationship.OWNER: frozenset(MemberRole.values),
    Relationship.ADMIN: frozenset({MemberRole.ADMIN, MemberRole.USER, MemberRole.CUSTOM}),
    Relationship.USER: frozenset(),
    Relationship.CUSTOM: frozenset({MemberRole.USER, MemberRole.CUSTOM}),
    Relationship.PROVIDER_ADMIN: frozenset(MemberRole.values),
    Relationship.SERVICE_USER: frozenset(MemberRole.values),
}
# Relationships that may give any custom flag; a custom user manager gives only its own.
_GRANT_ANY_FLAG = frozenset(
    {
        Relationship.OWNER,
        Relationship.ADMIN,
        Relationship.PROVIDER_ADMIN,
        Relationship.SERVICE_USER,
    }
)
ALL_CUSTOM_FLAGS = frozenset(CUSTOM_FLAG_CAPABILITIES)


def is_owner_role(role: str) -> bool:
    """Whether members with this role are owners (the rule of at least one confirmed owner)."""
    return _MEMBER_RELATIONSHIP[MemberRole(role)] is Relationship.OWNER


def role_has_flags(role: str) -> bool:
    """Whether custom permission flags mean anything for this role (custom only)."""
    return _MEMBER_RELATIONSHIP[MemberRole(role)] is Relationship.CUSTOM


def roles_actor_may_grant(actor: Actor) -> set[str]:
    """The member roles `actor` may invite people with or change members to."""
    if not actor.can(Capability.MEMBERS_MANAGE):
        return set()
    roles: set[str] = set()
    for relationship in actor.relationships:
        if relationship is Relationship.CUSTOM and "can_manage_users" not in _own_flags(actor):
            continue
        roles |= MEMBER_ROLES_GRANTABLE[relationship]
    return roles


def flags_actor_may_grant(actor: Actor) -> frozenset[str]:
    """The custom flags `actor` may hand out: all of them, or a user manager's own."""
    if not actor.can(Capability.MEMBERS_MANAGE):
        return frozenset()
    if actor.relationships & _GRANT_ANY_FLAG:
        return ALL_CUSTOM_FLAGS
    return _own_flags(actor)


def _own_flags(actor: Actor) -> frozenset[str]:
    return actor.membership.custom_flags if actor.membership is not None else frozenset()


def _role_label(role: str) -> str:
    return MemberRole(role).label


def grant_refusal(actor: Actor, role: str, flags: Iterable[str] = ()) -> str | None:
    """Why `actor` may not give `role` with `flags`, or None when it may."""
    if role not in MemberRole.values:
        return "Choose a role from the list."
    grantable = roles_actor_may_grant(actor)
    if role not in grantable:
        if is_owner_role(role):
            return "Only owners and provider staff can make someone an owner."
        names = ", ".join(_role_label(r) for r in MemberRole.values if r in grantable)
        return f"You cannot give the {_role_label(role)} role; you may give: {names or 'none'}."
    if role_has_flags(role):
        extra = set(flags) - flags_actor_may_grant(actor)
        if extra:
            return (
                "You can only give permissions you hold yourself; you do not hold: "
                + ", ".join(sorted(extra))
                + "."
            )
    return None


def is_own_membership(actor: Actor, membership: Membership) -> bool:
    return membership.user_id is not None and membership.user_id == actor.user.pk


def member_management_refusal(actor: Actor, membership: Membership) -> str | None:
    """Why `actor` may not confirm, edit, revoke, restore or remove `membership`, or None.

    Nobody manages their own membership (they leave instead); only owners and provider
    staff manage owners; a custom user manager manages only users and custom roles whose
    flags are a subset of its own.
    """
    if not actor.can(Capability.MEMBERS_MANAGE) or membership.org_id != actor.org.pk:
        return "You cannot manage the members of this organization."
    if is_own_membership(actor, membership):
        return (
            "You cannot change your own membership. Ask another owner or admin, "
            "or leave the organization from its overview."
        )
    if membership.role not in roles_actor_may_grant(actor):
        if is_owner_role(membership.role):
            return f"{membership.email} is an owner: only owners and provider staff manage owners."
        role = _role_label(membership.role)
        return f"You cannot manage {membership.email}: you do not manage {role}s."
    held = flags_actor_may_grant(actor)
    if role_has_flags(membership.role) and not membership.custom_flags <= held:
        return f"{membership.email} holds permissions you do not hold, so you cannot manage them."
    return None


def may_manage_member(actor: Actor, membership: Membership) -> bool:
    return member_management_refusal(actor, membership) is None


def is_first_owner(membership: Membership) -> bool:
    """An owner invited into an org that has no confirmed owner yet (a new client)."""
    return (
        membership.role == MemberRole.OWNER
        and not Membership.objects.filter(
            org_id=membership.org_id, role=MemberRole.OWNER, status=MemberStatus.CONFIRMED
        ).exists()
    )


def member_capabilities(membership: Membership) -> frozenset[Capability]:
    relationship = _MEMBER_RELATIONSHIP[MemberRole(membership.role)]
    capabilities = set(ORG_CAPABILITIES[relationship])
    if relationship is Relationship.CUSTOM:
        for flag in membership.custom_flags:
            capabilities |= CUSTOM_FLAG_CAPABILITIES[flag]
    return frozenset(capabilities)


def orgs_with_ties(user) -> QuerySet[Organization]:
    """Organizations with `user`'s ties to them joined in, for `actor_from_ties`.

    One query brings the org, its provider, the user's confirmed membership and the
    user's confirmed staff row in that provider (each at most one row: both are unique
    per user). Only a service user limited to chosen clients costs a second query, for
    its list (an EXISTS in the first would cost every request more than it saves).
    """
    return _orgs_with_ties(user.pk)


def _orgs_with_ties(user_id) -> QuerySet[Organization]:
    membership = Q(memberships__user_id=user_id, memberships__status=MemberStatus.CONFIRMED)
    staff = Q(
        provider__provider_users__user_id=user_id,
        provider__provider_users__status=ProviderUserStatus.CONFIRMED,
    )
    return Organization.objects.annotate(
        actor_membership=FilteredRelation("memberships", condition=membership),
        actor_provider_user=FilteredRelation("provider__provider_users", condition=staff),
    ).select_related("provider", "actor_membership", "actor_provider_user")


def _provider_user_for_org(tied: Organization) -> ProviderUser | None:
    """The staff row of an org read through `orgs_with_ties`, if it reaches the org."""
    provider_user = getattr(tied, "actor_provider_user", None)
    if provider_user is None or not tied.provider.enabled:
        return None
    provider_user.provider = tied.provider
    if not provider_user_reaches_client(provider_user, tied):
        return None
    return provider_user


def provider_user_reaches_client(provider_user: ProviderUser, org: Organization) -> bool:
    """Service users limited to a list of clients reach only those."""
    if provider_user.role == ProviderRole.ADMIN or provider_user.access_all_clients:
        return True
    return provider_user.client_scope.filter(pk=org.pk).exists()


def is_provider_admin_role(role: str) -> bool:
    """Whether staff with this role are provider admins (the rule of at least one)."""
    return _PROVIDER_RELATIONSHIP[ProviderRole(role)] is Relationship.PROVIDER_ADMIN


def provider_user_can_be_scoped(provider_user: ProviderUser) -> bool:
    """Only service users can be limited to a chosen list of clients."""
    return _PROVIDER_RELATIONSHIP[ProviderRole(provider_user.role)] is Relationship.SERVICE_USER


def resolve(user, org: Organization) -> Actor | None:
    """How `user` relates to `org`, or None for a stranger (who must get a 404)."""
    if user is None or not user.is_authenticated or org is None:
        return None
    tied = list(orgs_with_ties(user).filter(pk=org.pk).order_by()[:1])
    return actor_from_ties(user, org, tied[0]) if tied else None


def actor_from_ties(user, org: Organization, tied: Organization) -> Actor | None:
    """`resolve`, for an org row read through `orgs_with_ties(user)` (no query of its own).

    `tied` is that row; `org` (the same org, often the same object) becomes `Actor.org`.
    """
    membership = getattr(tied, "actor_membership", None)
    if membership is not None:
        membership.org = org
    provider_user = _provider_user_for_org(tied)
    if membership is None and provider_user is None:
        return None
    relationships: set[Relationship] = set()
    capabilities: set[Capability] = set()
    if membership is not None:
        relationships.add(_MEMBER_RELATIONSHIP[MemberRole(membership.role)])
        capabilities |= member_capabilities(membership)
    if provider_user is not None:
        relationship = _PROVIDER_RELATIONSHIP[ProviderRole(provider_user.role)]
        relationships.add(relationship)
        capabilities |= ORG_CAPABILITIES[relationship]
    return Actor(
        user=user,
        org=org,
        relationships=frozenset(relationships),
        capabilities=frozenset(capabilities),
        membership=membership,
        provider_user=provider_user,
    )


@dataclass(frozen=True)
class ProviderActor:
    user: object
    provider: Provider
    provider_user: ProviderUser
    capabilities: frozenset[ProviderCapability] = field(default_factory=frozenset)

    def can(self, capability: ProviderCapability) -> bool:
        return capability in self.capabilities

    @property
    def is_admin(self) -> bool:
        return self.provider_user.role == ProviderRole.ADMIN

    @property
    def reaches_all_clients(self) -> bool:
        """False for a service user limited to a chosen list of clients."""
        return self.is_admin or self.provider_user.access_all_clients

    def reaches_client(self, org: Organization) -> bool:
        return org.provider_id == self.provider.pk and provider_user_reaches_client(
            self.provider_user, org
        )


def resolve_provider(user, provider: Provider) -> ProviderActor | None:
    """How `user` relates to `provider`, or None for anyone who is not confirmed staff."""
    if user is None or not user.is_authenticated or provider is None or not provider.enabled:
        return None
    provider_user = ProviderUser.objects.filter(
        provider=provider, user=user, status=ProviderUserStatus.CONFIRMED
    ).first()
    return _provider_actor(user, provider, provider_user)


def providers_with_staff_row(user) -> QuerySet[Provider]:
    """Providers with `user`'s confirmed staff row joined in: one query for `provider_view`."""
    return _providers_with_staff_row(user.pk)


def _providers_with_staff_row(user_id) -> QuerySet[Provider]:
    staff = Q(provider_users__user_id=user_id, provider_users__status=ProviderUserStatus.CONFIRMED)
    return Provider.objects.annotate(
        actor_provider_user=FilteredRelation("provider_users", condition=staff)
    ).select_related("actor_provider_user")


# The queries of the view decorators below, run on every page: prepared once per process
# (portal/prepared.py), since building them cost several times what running them does.
_ORG_WITH_TIES = PreparedQuery(
    lambda user_id, org_id: _orgs_with_ties(user_id).filter(pk=org_id).order_by()[:1]
)
_PROVIDER_WITH_STAFF_ROW = PreparedQuery(
    lambda user_id, provider_id: (
        _providers_with_staff_row(user_id).filter(pk=provider_id).order_by()[:1]
    )
)


def _vault_org_with_ties(user_id, org_id) -> QuerySet[Organization]:
    from policies.selectors import vault_policies_annotation

    rules_on = vault_policies_annotation(user_id=user_id)
    return (
        _orgs_with_ties(user_id)
        .annotate(vault_policies_on=rules_on)
        .filter(pk=org_id)
        .order_by()[:1]
    )


_VAULT_ORG_WITH_TIES = PreparedQuery(_vault_org_with_ties)


def _provider_actor(user, provider: Provider, provider_user) -> ProviderActor | None:
    if provider_user is None or not provider.enabled:
        return None
    provider_user.provider = provider
    relationship = _PROVIDER_RELATIONSHIP[ProviderRole(provider_user.role)]
    return ProviderActor(
        user=user,
        provider=provider,
        provider_user=provider_user,
        capabilities=PROVIDER_CAPABILITIES[relationship],
    )


class OrgDisabled(PermissionDenied):
    """A related user reached a disabled org: nobody may use it until it is enabled."""


def _fetch_or_404(prepared: PreparedQuery, user, pk):
    found = prepared.first(user.pk, pk)
    if found is None:
        raise Http404
    return found


def org_view(capability: Capability) -> Callable:
    """Resolve `org_id` from the URL; 404 for strangers, 403 for a missing capability.

    The view receives `actor` and `org` as keyword arguments.
    """

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        @login_required
        def wrapper(request: HttpRequest, org_id, *args, **kwargs) -> HttpResponse:
            org = _fetch_or_404(_ORG_WITH_TIES, request.user, org_id)
            actor = actor_from_ties(request.user, org, org)
            if actor is None:
                raise Http404
            if not org.enabled:
                raise OrgDisabled(
                    "This organization is disabled. Its provider or the operator can enable it."
                )
            if not actor.can(capability):
                raise PermissionDenied
            if actor.provider_user is not None and provider_two_step_missing(request, org.provider):
                return _to_two_step_enrolment(request)
            if actor.via_provider:
                record_provider_entry(request, actor)
            return view(request, *args, actor=actor, org=org, **kwargs)

        wrapper.required_capability = capability  # read by the access-matrix test
        return wrapper

    return decorator


def _to_two_step_enrolment(request: HttpRequest) -> HttpResponse:
    """The provider requires two-step login (switched on after this session began)."""
    messages.info(request, PROVIDER_REQUIRES_TWO_STEP_MESSAGE)
    return redirect("two_step")


def provider_view(capability: ProviderCapability) -> Callable:
    """Resolve `provider_id` from the URL; 404 for non-staff, 403 for a missing capability."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        @login_required
        def wrapper(request: HttpRequest, provider_id, *args, **kwargs) -> HttpResponse:
            provider = _fetch_or_404(_PROVIDER_WITH_STAFF_ROW, request.user, provider_id)
            staff_row = getattr(provider, "actor_provider_user", None)
            actor = _provider_actor(request.user, provider, staff_row)
            if actor is None:
                raise Http404
            if not actor.can(capability):
                raise PermissionDenied
            if provider_two_step_missing(request, provider):
                return _to_two_step_enrolment(request)
            return view(request, *args, actor=actor, provider=provider, **kwargs)

        wrapper.required_capability = capability
        return wrapper

    return decorator


# --------------------------------------------------------------------------
# The vault: item access through collection grants, never through a provider
# --------------------------------------------------------------------------

EDIT_LEVELS = frozenset({AccessLevel.EDIT_EXCEPT_PASSWORDS, AccessLevel.EDIT, AccessLevel.MANAGE})
# Levels that may receive password-class secrets (password, TOTP, card code, hidden fields).
SECRET_LEVELS = frozenset({AccessLevel.VIEW, AccessLevel.EDIT, AccessLevel.MANAGE})

# Vault grants carry this token and only this module holds it, so vault code
# cannot build a grant by hand and skip the check. A guard against mistakes
# (Python cannot stop hostile code), which is what the design asks for.
_ISSUED_HERE = object()


@dataclass(frozen=True)
class VaultAccess:
    """What one member may reach in one org's vault. Only `vault_access` issues it."""

    actor: Actor
    collection_levels: Mapping[UUID, str]
    reaches_all_items: bool
    issued_by: object = field(default=None, repr=False, compare=False)
    # Item types the org's policies remove (e.g. cards): hidden, and not to be created.
    hidden_item_types: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.issued_by is not _ISSUED_HERE:
            raise TypeError("Vault access is issued by portal.access.vault_access only.")

    @cached_property
    def generator_settings(self) -> dict | None:
        """The password generator policy's settings that bind the member (the strictest
        of their orgs'), or None for the vault's own generator. Read when a form asks:
        the pages that show items never do."""
        from policies.selectors import generator_settings_for

        return generator_settings_for(org=self.org, user=self.actor.user)

    @property
    def org(self) -> Organization:
        return self.actor.org

    def level_for(self, collection_ids: Iterable[UUID]) -> str | None:
        """The level on an item in these collections: the most permissive grant wins."""
        if self.reaches_all_items:
            return AccessLevel.MANAGE
        return most_permissive_level(self.collection_levels.get(pk) for pk in collection_ids)

    def can_add_to(self, collection_id: UUID) -> bool:
        """May put items into (or take them out of) this collection of the org."""
        if self.reaches_all_items:
            return True
        return self.collection_levels.get(collection_id) in EDIT_LEVELS

    def grant_item(
        self, *, org_id: UUID, item_id: UUID, collection_ids: Iterable[UUID]
    ) -> ItemGrant | None:
        """A read grant for one item of this org, or None when no collection reaches it."""
        if org_id != self.org.pk:
            return None
        level = self.level_for(collection_ids)
        if level is None:
            return None
        return ItemGrant(access=self, item_id=item_id, level=level, issued_by=_ISSUED_HERE)


@dataclass(frozen=True)
class ItemGrant:
    """Proof that the access check let an actor open one item, at one level."""

    access: VaultAccess
    item_id: UUID
    level: str
    issued_by: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.issued_by is not _ISSUED_HERE:
            raise TypeError("Item grants are issued by VaultAccess.grant_item only.")

    @property
    def actor(self) -> Actor:
        return self.access.actor

    @property
    def org_id(self) -> UUID:
        return self.access.org.pk

    @property
    def can_see_secrets(self) -> bool:
        return self.level in SECRET_LEVELS

    @property
    def can_edit(self) -> bool:
        return self.level in EDIT_LEVELS

    @property
    def can_manage(self) -> bool:
        return self.level == AccessLevel.MANAGE


def vault_access(actor: Actor) -> VaultAccess | None:
    """The actor's vault access, or None: provider ties never count, only the membership.

    Owners and admins reach every item (at "can manage") unless the org turns
    that off; everyone else, custom roles included, through collection grants.
    """
    membership = actor.vault_membership
    if membership is None:
        return None
    reaches_all = (
        Capability.ITEMS_ACCESS_ALL in member_capabilities(membership)
        and actor.org.admins_access_all_items
    )
    levels = {} if reaches_all else _levels_of_actor(actor)
    from policies.selectors import vault_hidden_item_types

    return VaultAccess(
        actor=actor,
        collection_levels=levels,
        reaches_all_items=reaches_all,
        issued_by=_ISSUED_HERE,
        hidden_item_types=vault_hidden_item_types(org=actor.org),
    )


def collection_levels_for_member(membership: Membership) -> dict[UUID, str]:
    """Per collection, the most permissive of the direct grant and the groups' grants."""
    direct = CollectionMemberGrant.objects.filter(
        membership=membership, collection__org_id=membership.org_id
    ).values_list("collection_id", "level")
    via_groups = CollectionGroupGrant.objects.filter(
        group__members=membership, collection__org_id=membership.org_id
    ).values_list("collection_id", "level")
    levels: dict[UUID, str] = {}
    for collection_id, level in direct.union(via_groups, all=True):
        levels[collection_id] = most_permissive_level([levels.get(collection_id), level])
    return levels


def _levels_of_actor(actor: Actor) -> dict[UUID, str]:
    """The actor's member levels per collection, read once per request (the actor's life)."""
    membership = actor.vault_membership
    if membership is None:
        return {}
    if "collection_levels" not in actor.memo:
        actor.memo["collection_levels"] = collection_levels_for_member(membership)
    return actor.memo["collection_levels"]


# --------------------------------------------------------------------------
# Collection management: the capability, or "can manage" on single collections
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class CollectionManagement:
    """Which collections of the org an actor may rename and share.

    `COLLECTIONS_MANAGE` (owners, admins, provider staff, the custom flag) covers every
    collection, and alone may create and delete. A member whose own level on a
    collection, direct or through a group, is "can manage" manages that one's name and
    access. Provider ties never count as a level: provider staff manage through the
    capability only.
    """

    actor: Actor
    managed_ids: frozenset[UUID] | None  # None: every collection of the org

    @property
    def manages_all(self) -> bool:
        return self.managed_ids is None

    @property
    def manages_any(self) -> bool:
        return self.managed_ids is None or bool(self.managed_ids)

    @property
    def may_create(self) -> bool:
        return self.manages_all

    def may_manage(self, collection_id: UUID) -> bool:
        return self.managed_ids is None or collection_id in self.managed_ids

    def may_delete(self, collection) -> bool:
        """The default collection stays: items with nowhere else to go move there."""
        return self.manages_all and not collection.is_default


def collection_management(actor: Actor) -> CollectionManagement:
    if actor.can(Capability.COLLECTIONS_MANAGE):
        return CollectionManagement(actor=actor, managed_ids=None)
    managed = frozenset(
        collection_id
        for collection_id, level in _levels_of_actor(actor).items()
        if level == AccessLevel.MANAGE
    )
    return CollectionManagement(actor=actor, managed_ids=managed)


def group_changes_allowed(actor: Actor, groups: Iterable[Group]) -> set[Group]:
    """Of these groups, those whose members `actor` may change.

    Access is handed out only by who holds it: a group only by who manages groups and
    every collection the group reaches. Otherwise a user manager could invite a second
    account of their own into a group that "can manage" everything, and read the vault.
    """
    groups = set(groups)
    if not groups or not actor.can(Capability.GROUPS_MANAGE):
        return set()
    management = collection_management(actor)
    if management.manages_all:
        return groups
    unmanaged_groups = set(
        CollectionGroupGrant.objects.filter(group__in=groups)
        .exclude(collection_id__in=management.managed_ids)
        .values_list("group_id", flat=True)
    )
    return {group for group in groups if group.pk not in unmanaged_groups}


def collection_levels_allowed(actor: Actor, collection_ids: Iterable[UUID]) -> set[UUID]:
    """Of these collections, those on which `actor` may give or change a member's level:
    the ones it manages (all of them with the collections capability)."""
    management = collection_management(actor)
    return {pk for pk in collection_ids if management.may_manage(pk)}


def may_change_own_groups(actor: Actor) -> bool:
    """Joining or leaving a group changes one's own collection access: only for those who
    manage every collection anyway, so a group manager cannot grant themselves more."""
    return actor.can(Capability.COLLECTIONS_MANAGE)


def collections_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Like `org_view(Capability.COLLECTIONS_MANAGE)`, but also lets in members who "can
    manage" some collection; 403 for everyone else related to the org.

    The view receives `actor`, `org` and `management` (a `CollectionManagement`).
    """

    @wraps(view)
    def inner(request: HttpRequest, *args, actor: Actor, org: Organization, **kwargs):
        management = collection_management(actor)
        if not management.manages_any:
            raise PermissionDenied
        return view(request, *args, actor=actor, org=org, management=management, **kwargs)

    wrapper = org_view(Capability.ORG_VIEW)(inner)
    wrapper.required_capability = Capability.COLLECTIONS_MANAGE  # or "can manage" on one
    return wrapper


def vault_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Like `org_view(Capability.ITEMS_USE)`, but 404 for anyone without a vault membership.

    Provider staff get the stranger's page on every vault URL, whatever the ids:
    the vault does not exist for them. The view receives `actor`, `org` and
    `access` (a `VaultAccess`) as keyword arguments.
    """

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, org_id, *args, **kwargs) -> HttpResponse:
        org = _fetch_or_404(_VAULT_ORG_WITH_TIES, request.user, org_id)
        actor = actor_from_ties(request.user, org, org)
        if actor is None or actor.vault_membership is None:
            raise Http404
        if not org.enabled:
            raise OrgDisabled(
                "This organization is disabled. Its provider or the operator can enable it."
            )
        access = vault_access(actor)
        return view(request, *args, actor=actor, org=org, access=access, **kwargs)

    wrapper.required_capability = Capability.ITEMS_USE  # read by the access-matrix test
    wrapper.vault_view = True
    return wrapper


# --------------------------------------------------------------------------
# Policies: who a policy type leaves out (each type names one of these)
# --------------------------------------------------------------------------


class PolicyExemption(enum.StrEnum):
    NOBODY = "nobody"
    OWNERS = "owners"
    OWNERS_AND_ADMINS = "owners_and_admins"


POLICY_EXEMPT_ROLES: dict[PolicyExemption, frozenset[str]] = {
    PolicyExemption.NOBODY: frozenset(),
    PolicyExemption.OWNERS: frozenset({MemberRole.OWNER}),
    PolicyExemption.OWNERS_AND_ADMINS: frozenset({MemberRole.OWNER, MemberRole.ADMIN}),
}


def is_policy_exempt(membership: Membership, exemption: PolicyExemption) -> bool:
    return membership.role in POLICY_EXEMPT_ROLES[exemption]


def account_recovery_refusal(actor: Actor, membership: Membership) -> str | None:
    """Why `actor` may not set a new password for `membership` (None: they may).

    Owners and admins through their own membership, never provider access; an owner's
    account only by an owner; never one's own (change it from the account instead).
    """
    own = actor.membership
    if own is None or not actor.can(Capability.ACCOUNT_RECOVERY):
        return "Only the organization's owners and admins recover accounts."
    if own.pk == membership.pk:
        return "This is your own account: change your password from your account page."
    if membership.role == MemberRole.OWNER and own.role != MemberRole.OWNER:
        return f"Only an owner can recover {membership.email}'s account: they are an owner."
    if membership.status != MemberStatus.CONFIRMED or membership.user_id is None:
        return f"{membership.email} is not a confirmed member."
    return None
