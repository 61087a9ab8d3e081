"""Forms of the group pages: the name, the members tab, the collections tab."""

from __future__ import annotations

import re
from uuid import UUID

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from ..models import AccessLevel
from .collections import LEVEL_CHOICES

MAX_EMAILS = 500


class GroupNameForm(forms.Form):
    name = forms.CharField(label="Name", max_length=100)


class GroupMembersForm(forms.Form):
    """Remove members ticked on this page; add members by email (one per line)."""

    remove = forms.TypedMultipleChoiceField(
        label="Remove from the group", required=False, coerce=UUID, choices=()
    )
    add_emails = forms.CharField(
        label="Add members by email",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One or more emails of this organization's members, separated by "
        "commas or new lines.",
    )

    def __init__(self, *args, members=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["remove"].choices = [(str(m.pk), m.email) for m in members]

    def clean_add_emails(self) -> list[str]:
        emails = [e for e in re.split(r"[\s,;]+", self.cleaned_data["add_emails"]) if e]
        if len(emails) > MAX_EMAILS:
            raise ValidationError(f"Add at most {MAX_EMAILS} emails at a time.")
        bad = []
        for email in emails:
            try:
                validate_email(email)
            except ValidationError:
                bad.append(email)
        if bad:
            raise ValidationError("Not an email address: " + ", ".join(bad))
        return emails


COLLECTION_FIELD = re.compile(
    r"^collection-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)


class GroupCollectionsForm(forms.Form):
    """The group's level on each collection of this page the actor manages, and one to add.

    Bound, the rows come from the posted names, so rows not posted never change.
    """

    add_collection = forms.TypedChoiceField(
        label="Add a collection", required=False, coerce=UUID, empty_value=None, choices=()
    )
    add_level = forms.ChoiceField(
        label="Level on the collection added", choices=AccessLevel.choices, required=False
    )

    def __init__(self, data=None, *, rows=(), addable=(), **kwargs):
        super().__init__(data, **kwargs)
        self.rows = list(rows)
        self.fields["add_collection"].choices = [("", "Choose a collection")] + [
            (str(pk), name) for pk, name in addable
        ]
        if data is not None:
            keys = [key for key in data if COLLECTION_FIELD.match(key)]
        else:
            keys = [f"collection-{row['principal']}" for row in self.rows if row["editable"]]
        initial = {f"collection-{row['principal']}": row["level"] for row in self.rows}
        labels = {f"collection-{row['principal']}": row["label"] for row in self.rows}
        for key in keys:
            self.fields[key] = forms.ChoiceField(
                label=f"Level on {labels.get(key, key)}",
                choices=LEVEL_CHOICES,
                required=False,
                initial=initial.get(key),
            )

    def row_fields(self):
        """(row, bound field or None when the actor cannot change it) per row shown."""
        for row in self.rows:
            name = f"collection-{row['principal']}"
            yield row, (self[name] if name in self.fields else None)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("add_collection") and not cleaned.get("add_level"):
            self.add_error("add_level", "Choose the level of access to give.")
        return cleaned

    def levels(self) -> dict[UUID, str | None]:
        result = {}
        for key, value in self.cleaned_data.items():
            match = COLLECTION_FIELD.match(key)
            if match:
                result[UUID(match.group(1))] = value or None
        if self.cleaned_data.get("add_collection"):
            result[self.cleaned_data["add_collection"]] = self.cleaned_data["add_level"]
        return result
