"""Forms of the collection pages: the name, and the access tab (one form per page)."""

from __future__ import annotations

import re
from uuid import UUID

from django import forms

from ..models import AccessLevel

NO_ACCESS = ""
LEVEL_CHOICES = [(NO_ACCESS, "No access"), *AccessLevel.choices]


class CollectionNameForm(forms.Form):
    name = forms.CharField(
        label="Name",
        max_length=200,
        help_text="Nest with a slash: “Finance/Banking” shows under “Finance”.",
    )


# One select per row of the page: "group-<uuid>" or "member-<uuid>".
ROW_FIELD = re.compile(
    r"^(group|member)-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)


def row_field_name(kind: str, principal: UUID) -> str:
    return f"{kind}-{principal}"


class AccessForm(forms.Form):
    """The levels of the rows on this page, and one member or group to add.

    Bound, the form takes its rows from the posted field names, so rows that are not
    posted never change, whatever moved between pages meanwhile.
    """

    add_member_email = forms.EmailField(
        label="Add a member (email)", required=False, max_length=254
    )
    add_group_name = forms.CharField(label="Add a group (name)", required=False, max_length=100)
    add_level = forms.ChoiceField(
        label="Level for the member or group added", choices=AccessLevel.choices, required=False
    )

    def __init__(self, data=None, *, rows=(), **kwargs):
        super().__init__(data, **kwargs)
        self.rows = list(rows)
        keys = (
            [key for key in data if ROW_FIELD.match(key)]
            if data is not None
            else [row_field_name(row["kind"], row["principal"]) for row in self.rows]
        )
        initial = {row_field_name(row["kind"], row["principal"]): row["level"] for row in self.rows}
        labels = {row_field_name(row["kind"], row["principal"]): row["label"] for row in self.rows}
        for key in keys:
            self.fields[key] = forms.ChoiceField(
                label=f"Level of {labels.get(key, key)}",
                choices=LEVEL_CHOICES,
                required=False,
                initial=initial.get(key),
            )

    def row_fields(self):
        """(row, bound field) for the rows shown on the page."""
        for row in self.rows:
            name = row_field_name(row["kind"], row["principal"])
            if name in self.fields:
                yield row, self[name]

    def clean(self):
        cleaned = super().clean()
        adding = cleaned.get("add_member_email") or cleaned.get("add_group_name")
        if adding and not cleaned.get("add_level"):
            self.add_error("add_level", "Choose the level of access to give.")
        return cleaned

    def levels(self) -> dict[tuple[str, UUID], str | None]:
        """Posted levels per (kind, id); None is "no access"."""
        result = {}
        for key, value in self.cleaned_data.items():
            match = ROW_FIELD.match(key)
            if match:
                result[(match.group(1), UUID(match.group(2)))] = value or None
        return result
