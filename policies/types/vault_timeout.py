"""Vault timeout: after so many idle minutes a member's session locks or logs out."""

from __future__ import annotations

from django import forms

from portal.access import PolicyExemption

from ..models import PolicyType
from .base import PolicyTypeBase

MAX_MINUTES = 7 * 24 * 60
LOCK, LOG_OUT = "lock", "logout"
ACTIONS = [(LOCK, "Lock (ask for the password again)"), (LOG_OUT, "Log out")]


class VaultTimeoutSettingsForm(forms.Form):
    minutes = forms.IntegerField(
        label="Timeout in minutes",
        min_value=1,
        max_value=MAX_MINUTES,
        initial=15,
        help_text=f"Idle time before the action, from 1 to {MAX_MINUTES} (a week).",
    )
    action = forms.ChoiceField(label="Timeout action", choices=ACTIONS, initial=LOCK)


class VaultTimeoutPolicy(PolicyTypeBase):
    key = PolicyType.VAULT_TIMEOUT
    title = "Vault timeout"
    description = (
        "A member's session that stays idle this many minutes locks (the password is asked "
        "again) or logs out. Applies from the member's next sign-in."
    )
    settings_form = VaultTimeoutSettingsForm
    exemption = PolicyExemption.OWNERS
    applies_to = "Every member except owners."

    def merge_settings(self, settings_list: list[dict]) -> dict:
        """The shortest timeout; logging out is stricter than locking."""
        return {
            "minutes": min(int(s["minutes"]) for s in settings_list),
            "action": LOG_OUT if any(s["action"] == LOG_OUT for s in settings_list) else LOCK,
        }

    def session_timeout(self, *, settings: dict) -> tuple[int, str] | None:
        """session_used: the idle minutes and the action that bind a session."""
        return int(settings["minutes"]), settings["action"]
