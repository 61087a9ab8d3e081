"""The registry of policy types: one instance per enforced type, keyed by PolicyType value.

Adding a type means writing its class (types/<key>.py), its tests, and listing it here.
Types of `PolicyType` that are not listed here are not offered: a policy that does
nothing is never shown.
"""

from __future__ import annotations

from .account_recovery import AccountRecoveryPolicy
from .base import PolicyRefusal, PolicyTypeBase
from .master_password import MasterPasswordPolicy
from .password_generator import PasswordGeneratorPolicy
from .remove_card import RemoveCardPolicy
from .single_org import SingleOrgPolicy
from .two_step_login import TwoStepLoginPolicy
from .vault_timeout import VaultTimeoutPolicy

REGISTRY: dict[str, PolicyTypeBase] = {
    policy_type.key: policy_type
    for policy_type in (
        TwoStepLoginPolicy(),
        MasterPasswordPolicy(),
        RemoveCardPolicy(),
        SingleOrgPolicy(),
        VaultTimeoutPolicy(),
        PasswordGeneratorPolicy(),
        AccountRecoveryPolicy(),
    )
}


def policy_type_for(key: str) -> PolicyTypeBase | None:
    return REGISTRY.get(key)


def registered_types() -> list[PolicyTypeBase]:
    return list(REGISTRY.values())


__all__ = ["REGISTRY", "PolicyRefusal", "PolicyTypeBase", "policy_type_for", "registered_types"]
