"""What a policy type is: its settings, who it leaves out, and the hooks where it acts.

A type is one class. The framework calls its hooks at the moments they name; a hook
that does nothing is not overridden. Only types in the registry (types/__init__.py) are
offered to orgs, and a type is registered only once every hook it declares is enforced.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, ClassVar

from django import forms

from portal.access import PolicyExemption, is_policy_exempt

if TYPE_CHECKING:
    from clients.models import Membership

    from ..models import Policy


class NoSettingsForm(forms.Form):
    """A type without settings: on or off is all there is."""


@cache
def _form_defaults(form_class: type[forms.Form]) -> dict:
    """A settings form's initial values (read once per form class: they never change)."""
    return {name: field.initial for name, field in form_class.base_fields.items()}


class PolicyRefusal(Exception):
    """A policy forbids what was asked; the message says why and what to do, and
    `remedy_url_name` names the page where the user can fix it (if any)."""

    def __init__(self, message: str, *, remedy_url_name: str | None = None):
        super().__init__(message)
        self.remedy_url_name = remedy_url_name


class PolicyTypeBase:
    key: ClassVar[str]  # a PolicyType value
    title: ClassVar[str]
    description: ClassVar[str]
    settings_form: ClassVar[type[forms.Form]] = NoSettingsForm
    exemption: ClassVar[PolicyExemption] = PolicyExemption.NOBODY
    # What the list page says about who it applies to.
    applies_to: ClassVar[str] = "Every member."
    # For a type that revokes members: the email's reason and the page that fixes it.
    revocation_reason: ClassVar[str] = ""
    remedy_url_name: ClassVar[str | None] = None
    remedy_label: ClassVar[str] = ""

    # --- settings ---------------------------------------------------------------------

    def default_settings(self) -> dict:
        return dict(_form_defaults(self.settings_form))

    def settings_of(self, policy: Policy | None) -> dict:
        """The policy's settings, defaults filled in for any the type added since."""
        return {**self.default_settings(), **(policy.settings if policy else {})}

    def merge_settings(self, settings_list: list[dict]) -> dict:
        """One user under this policy in several orgs: the settings that bind them.
        Types whose settings can differ override this with their strictest combination."""
        return settings_list[0]

    def is_exempt(self, membership: Membership) -> bool:
        return is_policy_exempt(membership, self.exemption)

    # --- hooks: each no-op unless a type overrides it ----------------------------------

    def switched_on(self, *, policy: Policy, actor) -> str:
        """Just enabled (under the policy row's lock): bring the org into line.
        Returns a sentence for the page ("" for nothing to say)."""
        return ""

    def member_joining(self, *, policy: Policy, membership: Membership, user) -> None:
        """A member accepts an invitation, is confirmed or restored: raise PolicyRefusal
        to forbid it."""

    def member_joining_elsewhere(
        self, *, policy: Policy, own_membership: Membership, membership: Membership, user
    ) -> None:
        """A member of this policy's org (`own_membership`) accepts, is confirmed or is
        restored in another org (`membership`): raise PolicyRefusal to forbid it."""

    def two_step_turned_off(self, *, policy: Policy, membership: Membership) -> bool:
        """The member's account lost its second step; True when the member was revoked."""
        return False

    # item_saved, org-wide: item types the vault refuses to create and hides from every
    # item query while the policy is on (portal.access.VaultAccess.hidden_item_types).
    hidden_item_types: ClassVar[frozenset[str]] = frozenset()
    # The vault's password generator follows this type's settings (see `generate`).
    generates_passwords: ClassVar[bool] = False

    @property
    def acts_in_vault(self) -> bool:
        return bool(self.hidden_item_types) or self.generates_passwords

    def generate(self, *, settings: dict) -> str:
        raise NotImplementedError

    # The hooks below get the settings that bind one user (merged over their orgs).

    def password_problems(self, *, settings: dict, password: str, user) -> list[str]:
        """password_set: what a new password lacks (empty: fine)."""
        return []

    def login_needs_password_change(self, *, settings: dict, password: str, user) -> bool:
        """login: True sends the member to change their password before anything else."""
        return False

    def session_timeout(self, *, settings: dict) -> tuple[int, str] | None:
        """session_used: (idle minutes, "lock" or "logout") for the member's sessions."""
        return None
