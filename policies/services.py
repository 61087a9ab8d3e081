"""Policy writes: switching a policy on or off, changing its settings, and what that does."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from clients.models import Membership, MemberStatus, Organization
from portal.access import Actor
from portal.events import record_event, record_org_event
from portal.models import EventType

from .baselines.drift import assignment_drift_refresh
from .models import AccountRecoveryEnrollment, Policy
from .selectors import recovery_policy_on
from .types import PolicyRefusal, PolicyTypeBase, registered_types


class PolicyError(Exception):
    """A policy change the user asked for and cannot have; the message says why."""


@transaction.atomic
def policy_update(
    *, actor: Actor, policy_type: PolicyTypeBase, enabled: bool, settings: dict
) -> tuple[Policy, str]:
    """Save one policy of the actor's org; (the policy, a sentence on what switching on did).

    The row is locked, so two admins saving at once apply one after the other; switching
    on runs the type's `switched_on` hook in the same transaction. One POLICY_UPDATED
    event names the old and new settings; nothing is written when nothing changed. The
    client's drift from its provider baseline (if any) is brought up to date.
    """
    org = actor.org
    Policy.objects.get_or_create(org=org, type=policy_type.key)
    policy = Policy.objects.select_for_update().get(org=org, type=policy_type.key)
    changes, switched_on = policy_change(
        policy=policy, policy_type=policy_type, enabled=enabled, settings=settings
    )
    if not changes:
        return policy, ""
    policy.save(update_fields=["enabled", "settings"])
    record_org_event(
        EventType.POLICY_UPDATED,
        actor=actor,
        obj=policy,
        details={"name": policy_type.title, "policy": policy_type.key, "changes": changes},
    )
    summary = policy_type.switched_on(policy=policy, actor=actor) if switched_on else ""
    assignment_drift_refresh(org=org)
    return policy, summary


def policy_change(
    *, policy: Policy, policy_type: PolicyTypeBase, enabled: bool, settings: dict
) -> tuple[dict, bool]:
    """Set one policy's state on the instance, unsaved: (the changes by setting name as
    [before, after], whether it is being switched on). Nothing is set without a change.

    The callers hold the row locked (or create it), save it, record the event and then
    run `switched_on` when it is: `policy_update` for one policy, a provider baseline
    (policies.baselines.services) for all of a client's at once.
    """
    before_settings = policy_type.settings_of(policy)
    after_settings = {**before_settings, **settings}
    changes = {}
    if policy.enabled != enabled:
        changes["enabled"] = [policy.enabled, enabled]
    for name, value in after_settings.items():
        if before_settings.get(name) != value:
            changes[name] = [before_settings.get(name), value]
    if not changes:
        return {}, False
    switched_on = enabled and not policy.enabled
    policy.enabled = enabled
    policy.settings = after_settings
    return changes, switched_on


def members_revoke_for_policy(
    *,
    members: Iterable[Membership],
    policy_type: PolicyTypeBase,
    user,
    acting_provider=None,
) -> int:
    """Revoke these members because `policy_type` requires it: one MEMBER_REVOKED event each
    (naming the policy), and an email telling each why once the transaction commits.

    The policy revokes, not the actor: it runs inside the caller's transaction, and the
    types never pass owners (no policy revokes owners, so every org keeps its owner).
    """
    from .tasks import send_policy_revocation

    count = 0
    ids = [member.pk for member in members]
    if not ids:
        return 0
    locked = Membership.objects.select_for_update().select_related("org").filter(pk__in=ids)
    for membership in locked:
        if membership.status == MemberStatus.REVOKED:
            continue
        before = membership.status
        membership.prior_status = before
        membership.status = MemberStatus.REVOKED
        membership.save(update_fields=["status", "prior_status"])
        record_event(
            EventType.MEMBER_REVOKED,
            user=user,
            acting_provider=acting_provider,
            org=membership.org,
            obj=membership,
            details={
                "email": membership.email,
                "policy": policy_type.key,
                "changes": {"status": [before, MemberStatus.REVOKED.value]},
            },
        )
        membership_id, key = str(membership.pk), policy_type.key
        transaction.on_commit(lambda m=membership_id, k=key: send_policy_revocation.delay(m, k))
        count += 1
    return count


# --- Account recovery administration ------------------------------------------------------


@transaction.atomic
def recovery_enrollment_set(*, actor: Actor, enrolled: bool) -> bool:
    """The actor enrols in (or withdraws from) account recovery; True when it changed."""
    membership = actor.membership
    if membership is None:
        raise PolicyError("Only members enrol in account recovery.")
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if enrolled and not recovery_policy_on(org=actor.org):
        raise PolicyError("This organization does not use account recovery.")
    before = AccountRecoveryEnrollment.objects.filter(membership=membership).exists()
    if before == enrolled:
        return False
    if enrolled:
        AccountRecoveryEnrollment.objects.create(membership=membership)
    else:
        AccountRecoveryEnrollment.objects.filter(membership=membership).delete()
    record_org_event(
        EventType.MEMBER_UPDATED,
        actor=actor,
        obj=membership,
        details={"email": membership.email, "changes": {"account_recovery": [before, enrolled]}},
    )
    return True


@transaction.atomic
def account_recover(*, actor: Actor, membership: Membership, password: str) -> None:
    """Set a new password for an enrolled member (the form has validated it against the
    password rules, the org's policies included). Their sessions end (Django checks the
    password hash per session); they are emailed; the event names no secret."""
    from portal.access import account_recovery_refusal

    from .tasks import send_account_recovered

    membership = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(pk=membership.pk, org=actor.org)
        .first()
    )
    if membership is None:
        raise PolicyError("That member is no longer in this organization.")
    refusal = account_recovery_refusal(actor, membership)
    if refusal:
        raise PolicyError(refusal)
    if not recovery_policy_on(org=actor.org):
        raise PolicyError("This organization does not use account recovery.")
    if not AccountRecoveryEnrollment.objects.filter(membership=membership).exists():
        raise PolicyError(f"{membership.email} has not enrolled in account recovery.")
    user = membership.user
    user.set_password(password)
    user.save(update_fields=["password"])
    record_org_event(
        EventType.MEMBER_ACCOUNT_RECOVERED,
        actor=actor,
        obj=membership,
        details={"email": membership.email},
    )
    transaction.on_commit(lambda: send_account_recovered.delay(str(membership.pk)))


# --- Enforcement entry points: called where the moment happens ----------------------------


def _enabled_policies(org: Organization) -> list[tuple[PolicyTypeBase, Policy]]:
    by_key = {policy.type: policy for policy in org.policies.filter(enabled=True)}
    return [(t, by_key[t.key]) for t in registered_types() if t.key in by_key]


def member_join_check(*, membership: Membership, user) -> None:
    """Before a member accepts, is confirmed or restored: PolicyRefusal if a policy of this
    org forbids it, or one of an org the user already belongs to."""
    for policy_type, policy in _enabled_policies(membership.org):
        policy_type.member_joining(policy=policy, membership=membership, user=user)
    if user is None:
        return
    own = (
        Membership.objects.filter(
            user=user, status__in=[MemberStatus.ACCEPTED, MemberStatus.CONFIRMED]
        )
        .exclude(pk=membership.pk)
        .filter(org__policies__enabled=True)
        .select_related("org")
        .distinct()
    )
    for own_membership in own:
        for policy_type, policy in _enabled_policies(own_membership.org):
            policy_type.member_joining_elsewhere(
                policy=policy, own_membership=own_membership, membership=membership, user=user
            )


def account_two_step_turned_off(*, user) -> int:
    """The account turned two-step login off: each org whose policies require it acts.
    Returns how many memberships were revoked."""
    revoked = 0
    memberships = Membership.objects.select_related("org").filter(
        user=user, status__in=[MemberStatus.ACCEPTED, MemberStatus.CONFIRMED]
    )
    for membership in memberships:
        for policy_type, policy in _enabled_policies(membership.org):
            revoked += policy_type.two_step_turned_off(policy=policy, membership=membership)
    return revoked


__all__ = [
    "PolicyError",
    "account_recover",
    "recovery_enrollment_set",
    "PolicyRefusal",
    "account_two_step_turned_off",
    "member_join_check",
    "members_revoke_for_policy",
    "policy_change",
    "policy_update",
]
