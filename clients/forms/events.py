"""Filters of event logs (the org's, and the provider's merged log)."""

from __future__ import annotations

from django import forms

from ..selectors.events import OBJECT_TYPES, ORG_EVENT_TYPES


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


class OrgEventFilterForm(EventFilterForm):
    """The org log's filters: date range, who did it, what happened, and to what."""

    actor_email = forms.CharField(label="By (email)", required=False, max_length=254)
    type = forms.ChoiceField(label="Event", required=False)
    object_type = forms.ChoiceField(label="Object type", required=False)
    object_id = forms.CharField(label="Object id", required=False, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["type"].choices = [("", "Any event"), *ORG_EVENT_TYPES]
        self.fields["object_type"].choices = [("", "Any object"), *OBJECT_TYPES.items()]

    def clean_actor_email(self) -> str:
        return self.cleaned_data["actor_email"].strip()

    def clean_object_id(self) -> str:
        return self.cleaned_data["object_id"].strip()
