"""Forms of the org's own pages."""

from __future__ import annotations

from django import forms


class OrgSettingsForm(forms.Form):
    """An owner's settings of their organization."""

    name = forms.CharField(max_length=100, help_text="Up to 100 characters.")
    admins_access_all_items = forms.BooleanField(
        label="Owners and admins can reach every item",
        required=False,
        help_text="When off, owners and admins see only the collections granted to them, "
        "like everyone else.",
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the organization a name.")
        return name
