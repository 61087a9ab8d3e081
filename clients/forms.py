from __future__ import annotations

from django import forms


class EventFilterForm(forms.Form):
    """A date range for an event log; both ends optional and inclusive."""

    start = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and start > end:
            self.add_error("end", "The end date must not be before the start date.")
        return cleaned

    def filters(self) -> dict:
        """The cleaned filters, or none at all when the form is invalid."""
        if not self.is_valid():
            return {}
        return {name: value for name, value in self.cleaned_data.items() if value}


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
