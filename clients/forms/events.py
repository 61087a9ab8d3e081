"""Filters of event logs (the org's, and the provider's merged log)."""

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
