"""The baseline editor (a name, then per policy type: on or off and the type's own
settings form, the one the org policy pages use) and the apply form."""

from __future__ import annotations

from dataclasses import dataclass

from django import forms

from ..forms import PolicyEnabledForm
from ..types import PolicyTypeBase, registered_types

NAME_MAX_LENGTH = 100


class BaselineNameForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=NAME_MAX_LENGTH,
        help_text="For example “Standard” or “Strict (finance clients)”.",
    )


@dataclass
class TypeSection:
    policy_type: PolicyTypeBase
    enabled_form: PolicyEnabledForm
    settings_form: forms.Form

    @property
    def has_settings(self) -> bool:
        return bool(self.settings_form.fields)


class BaselineEditor:
    """The whole editor: valid when the name and every type's forms are."""

    def __init__(self, data=None, *, initial_name: str = "", initial_settings: dict | None = None):
        initial_settings = initial_settings or {}
        self.name_form = BaselineNameForm(data, initial={"name": initial_name})
        self.sections = []
        for policy_type in registered_types():
            entry = initial_settings.get(policy_type.key, {})
            settings = {**policy_type.default_settings(), **entry.get("settings", {})}
            self.sections.append(
                TypeSection(
                    policy_type,
                    PolicyEnabledForm(
                        data, prefix=policy_type.key, initial={"enabled": entry.get("enabled")}
                    ),
                    policy_type.settings_form(data, prefix=policy_type.key, initial=settings),
                )
            )

    def is_valid(self) -> bool:
        valid = self.name_form.is_valid()
        for section in self.sections:
            # Every form validates (no short cut), so each shows its own errors.
            valid = section.enabled_form.is_valid() & valid
            valid = section.settings_form.is_valid() & valid
        return valid

    @property
    def has_errors(self) -> bool:
        return bool(self.name_form.errors) or any(
            s.enabled_form.errors or s.settings_form.errors for s in self.sections
        )

    @property
    def name(self) -> str:
        return self.name_form.cleaned_data["name"]

    @property
    def settings(self) -> dict:
        return {
            s.policy_type.key: {
                "enabled": s.enabled_form.cleaned_data["enabled"],
                "settings": dict(s.settings_form.cleaned_data),
            }
            for s in self.sections
        }


ALL, CHOSEN = "all", "chosen"


class BaselineApplyForm(forms.Form):
    """Which clients: the ones ticked (ids of clients the actor reaches), or all of them."""

    scope = forms.ChoiceField(
        label="Apply to",
        choices=[(CHOSEN, "The clients ticked below"), (ALL, "All clients")],
        initial=CHOSEN,
        widget=forms.RadioSelect,
    )
    clients = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        error_messages={
            "invalid_choice": "One of the ticked clients is not a client you manage; "
            "reload the page and tick again.",
            "invalid_pk_value": "Tick clients from the list.",
        },
    )

    def __init__(self, *args, clients, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clients"].queryset = clients

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("scope") == CHOSEN and not cleaned.get("clients") and not self.errors:
            raise forms.ValidationError("Tick at least one client, or choose “All clients”.")
        return cleaned
