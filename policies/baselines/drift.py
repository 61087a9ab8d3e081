"""Comparing a client's policies with the baseline settings it was given.

A policy's state is "off", or "on with these settings" (its declared settings only, the
defaults filled in): the settings of a policy that is off do nothing, so they never
count as a difference. Pure functions, plus the refresh every policy change calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from django import forms

from ..models import BaselineAssignment, Policy
from ..types import PolicyTypeBase, policy_type_for, registered_types

OFF = (False, None)


@cache
def _defaults(key: str) -> dict:
    return policy_type_for(key).default_settings()


def state(policy_type: PolicyTypeBase, *, enabled: bool, settings: Mapping | None) -> tuple:
    """(enabled, settings) with the type's declared settings only, defaults filled in."""
    if not enabled:
        return OFF
    defaults = _defaults(policy_type.key)
    merged = {**defaults, **(settings or {})}
    return True, {name: merged[name] for name in defaults}


def wanted_state(policy_type: PolicyTypeBase, entry: Mapping) -> tuple:
    """The state a baseline entry ({"enabled", "settings"}) asks for."""
    return state(policy_type, enabled=bool(entry.get("enabled")), settings=entry.get("settings"))


def policy_state(policy_type: PolicyTypeBase, policy: Policy | None) -> tuple:
    if policy is None:
        return OFF
    return state(policy_type, enabled=policy.enabled, settings=policy.settings)


def differing_types(applied: Mapping, policies: Mapping[str, Policy]) -> list[str]:
    """Keys of the types whose state in `policies` (by type key) is not what `applied`
    (a baseline's settings) asked for, in the registry's order."""
    keys = []
    for policy_type in registered_types():
        entry = applied.get(policy_type.key)
        if entry is None:
            continue
        if wanted_state(policy_type, entry) != policy_state(
            policy_type, policies.get(policy_type.key)
        ):
            keys.append(policy_type.key)
    return keys


def assignment_drift_refresh(*, org) -> None:
    """After a policy of `org` changed (in the caller's transaction): the client's
    precomputed drift from its baseline, if it was given one. One query without one."""
    assignment = BaselineAssignment.objects.select_for_update().filter(org=org).first()
    if assignment is None:
        return
    policies = {policy.type: policy for policy in Policy.objects.filter(org=org)}
    drift = differing_types(assignment.applied_settings, policies)
    if drift != assignment.drift:
        assignment.drift = drift
        assignment.save(update_fields=["drift"])


# --- In words, for the pages --------------------------------------------------------------


def _value_text(field: forms.Field, value) -> str:
    if isinstance(field, forms.BooleanField):
        return "Yes" if value else "No"
    choices = getattr(field, "choices", None)
    if choices:
        for choice, label in choices:
            if str(choice) == str(value):
                return str(label)
    return "" if value is None else str(value)


@dataclass(frozen=True)
class SettingRow:
    label: str
    baseline: str
    current: str

    @property
    def differs(self) -> bool:
        return self.baseline != self.current


@dataclass(frozen=True)
class TypeComparison:
    policy_type: PolicyTypeBase
    differs: bool
    rows: list[SettingRow]


def compare(applied: Mapping, policies: Mapping[str, Policy]) -> list[TypeComparison]:
    """Per type the baseline set: its state then and now, setting by setting."""
    comparisons = []
    for policy_type in registered_types():
        entry = applied.get(policy_type.key)
        if entry is None:
            continue
        wanted = wanted_state(policy_type, entry)
        current = policy_state(policy_type, policies.get(policy_type.key))
        rows = [SettingRow("On", "Yes" if wanted[0] else "No", "Yes" if current[0] else "No")]
        fields = policy_type.settings_form().fields
        for name, field in fields.items():
            rows.append(
                SettingRow(
                    str(field.label),
                    _value_text(field, wanted[1][name]) if wanted[0] else "–",
                    _value_text(field, current[1][name]) if current[0] else "–",
                )
            )
        comparisons.append(TypeComparison(policy_type, wanted != current, rows))
    return comparisons


def describe(policy_type: PolicyTypeBase, entry: Mapping) -> str:
    """ "Off", or "On" with the settings in words: for the baseline list and pages."""
    enabled, settings = wanted_state(policy_type, entry)
    if not enabled:
        return "Off"
    fields = policy_type.settings_form().fields
    parts = [
        f"{field.label}: {_value_text(field, settings[name])}" for name, field in fields.items()
    ]
    return "On" + (" (" + "; ".join(parts) + ")" if parts else "")
