"""Policy reads, always scoped by org."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from clients.models import Membership, MemberStatus, Organization
from portal.prepared import PreparedQuery

from .models import AccountRecoveryEnrollment, Policy
from .types import PolicyTypeBase, policy_type_for, registered_types


@dataclass(frozen=True)
class PolicyState:
    policy_type: PolicyTypeBase
    policy: Policy | None

    @property
    def enabled(self) -> bool:
        return self.policy is not None and self.policy.enabled

    @property
    def settings(self) -> dict:
        return self.policy_type.settings_of(self.policy)


def policy_states(*, org: Organization) -> list[PolicyState]:
    """Every offered type with the org's row for it (or None): one query."""
    rows = {policy.type: policy for policy in org.policies.all()}
    return [PolicyState(t, rows.get(t.key)) for t in registered_types()]


def policy_state(*, org: Organization, policy_type: PolicyTypeBase) -> PolicyState:
    return PolicyState(policy_type, org.policies.filter(type=policy_type.key).first())


def _binding_rows(user_id) -> QuerySet:
    """(role, policy type, settings) of each enabled policy of the orgs `user_id` is an
    accepted or confirmed member of."""
    memberships = Q(user_id=user_id, status__in=[MemberStatus.ACCEPTED, MemberStatus.CONFIRMED])
    return _policies_of(memberships)


def _binding_rows_with_invitations(user_id, email) -> QuerySet:
    """The same, with the orgs that invited `email` (an account being created for them)."""
    memberships = Q(user_id=user_id, status__in=[MemberStatus.ACCEPTED, MemberStatus.CONFIRMED])
    memberships |= Q(email__iexact=email, status=MemberStatus.INVITED)
    return _policies_of(memberships)


def _policies_of(memberships: Q) -> QuerySet:
    return (
        Membership.objects.filter(memberships)
        .filter(org__policies__enabled=True)
        .order_by()
        .values_list("role", "org__policies__type", "org__policies__settings")
    )


# Vault pages of orgs with policies read these on every request: prepared once per
# process (portal/prepared.py).
_BINDING_ROWS = PreparedQuery(_binding_rows)
_BINDING_ROWS_WITH_INVITATIONS = PreparedQuery(_binding_rows_with_invitations)
_VAULT_POLICIES = PreparedQuery(
    lambda org_id: Policy.objects.filter(
        org_id=org_id, enabled=True, type__in=_vault_type_keys()
    ).order_by()
)


def binding_settings(*, user) -> dict[str, dict]:
    """Per policy type, the settings that bind `user`: from every org where they are a
    member (or invited, by email: an account being created for an invitation), enabled,
    and not exempt for their role there; merged by the type. One query."""
    if user.email:
        rows = _BINDING_ROWS_WITH_INVITATIONS.fetch(user.pk, user.email)
    else:
        rows = _BINDING_ROWS.fetch(user.pk)
    found: dict[str, list[dict]] = {}
    for role, type_key, type_settings in rows:
        policy_type = policy_type_for(type_key)
        if policy_type is None or policy_type.is_exempt(Membership(role=role)):
            continue
        settings = {**policy_type.default_settings(), **type_settings}
        found.setdefault(policy_type.key, []).append(settings)
    return {key: policy_type_for(key).merge_settings(found[key]) for key in found}


def _vault_type_keys() -> list[str]:
    return [t.key for t in registered_types() if t.acts_in_vault]


# Bits of `vault_policies_annotation`: which reads the vault's rules need. Each policy type
# that removes item types (cards) has a bit of its own too (`_hiding_bits`).
OWN_VAULT_POLICIES, GENERATOR_POLICIES = 1, 2


def _hiding_bits() -> dict[str, int]:
    hiding = sorted(t.key for t in registered_types() if t.hidden_item_types)
    return {key: 4 << n for n, key in enumerate(hiding)}


def vault_policies_annotation(*, user_id=None):
    """For the org query of vault pages: whether any policy that shapes the vault is on
    (bit OWN_VAULT_POLICIES), which policies that remove item types are (a bit each), and,
    for the user `user_id`, whether a password generator policy of any org they are a
    member of is (bit GENERATOR_POLICIES). Pages that show items then know the types to
    hide without a query, and only the forms that generate read the generator's rules."""
    from django.db.models import Case, Exists, IntegerField, OuterRef, Value, When

    def bit_if(exists, bit: int) -> Case:
        return Case(When(exists, then=Value(bit)), default=Value(0), output_field=IntegerField())

    def own(keys) -> Exists:
        return Exists(Policy.objects.filter(org=OuterRef("pk"), enabled=True, type__in=keys))

    flags = bit_if(own(_vault_type_keys()), OWN_VAULT_POLICIES)
    for key, bit in _hiding_bits().items():
        flags = flags + bit_if(own([key]), bit)
    if user_id is not None:
        flags = flags + bit_if(Exists(_generator_policies_of(user_id)), GENERATOR_POLICIES)
    return flags


def _generator_policies_of(user_id):
    from .models import PolicyType

    return Policy.objects.filter(
        enabled=True,
        type=PolicyType.PASSWORD_GENERATOR,
        org__memberships__user_id=user_id,
        org__memberships__status__in=[MemberStatus.ACCEPTED, MemberStatus.CONFIRMED],
    )


def vault_hidden_item_types(*, org: Organization) -> frozenset[str]:
    """The item types the org's policies remove (cards). No query when the org was read
    with `vault_policies_annotation`: its bits say which of those policies are on."""
    flags = getattr(org, "vault_policies_on", None)
    if flags is not None:
        keys = [key for key, bit in _hiding_bits().items() if flags & bit]
    else:
        keys = [policy.type for policy in _VAULT_POLICIES.fetch(org.pk)]
    return frozenset(t for key in keys for t in policy_type_for(key).hidden_item_types)


def generator_settings_for(*, org: Organization, user) -> dict | None:
    """The password generator's rules in the org's vault: the strictest of the generator
    policies of every org `user` belongs to, else this org's own, else None (the vault's
    own generator). Reads only what the org query (`vault_policies_annotation`) says is on."""
    from .models import PolicyType

    flags = getattr(org, "vault_policies_on", None)  # None: not asked, so read
    own = None
    if flags is None or flags & OWN_VAULT_POLICIES:
        for policy in _VAULT_POLICIES.fetch(org.pk):
            policy_type = policy_type_for(policy.type)
            if policy_type.generates_passwords:
                own = policy_type.settings_of(policy)
    if flags is not None and not flags & GENERATOR_POLICIES:
        return own
    return binding_settings(user=user).get(PolicyType.PASSWORD_GENERATOR, own)


def item_types_refused(*, org: Organization) -> dict[str, str]:
    """Item types that a policy of `org` removes (cards), each with that policy's title:
    what an import skips, saying why. One query."""
    refused: dict[str, str] = {}
    for policy in org.policies.filter(enabled=True, type__in=_vault_type_keys()):
        policy_type = policy_type_for(policy.type)
        refused.update(dict.fromkeys(policy_type.hidden_item_types, policy_type.title))
    return refused


def recovery_policy_on(*, org: Organization) -> bool:
    from .models import PolicyType

    return org.policies.filter(type=PolicyType.ACCOUNT_RECOVERY, enabled=True).exists()


def recovery_enrolled(*, membership: Membership) -> bool:
    return AccountRecoveryEnrollment.objects.filter(membership=membership).exists()


def recovery_enrolled_members(*, org: Organization):
    """The org's confirmed members enrolled in account recovery, one query a page."""
    return (
        org.memberships.filter(recovery_enrollment__isnull=False, status=MemberStatus.CONFIRMED)
        .select_related("user")
        .order_by("email", "pk")
    )
