"""Forms of the members pages. Choices come from the org's own rows and from what the
permission layer lets the actor give, so a forged id, role or flag is a form error."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from portal.access import role_has_flags
from portal.form_fields import InvitationEmailsField

from ..models import CUSTOM_PERMISSION_FLAGS, AccessLevel, Group, MemberRole, MemberStatus
from ..services.members import BULK_ACTIONS, MAX_EMAIL_LENGTH

COLLECTION_PREFIX = "collection_"
NO_ACCESS = ""


class MemberAccessForm(forms.Form):
    """Role, custom permissions, groups and per-collection access of a member."""

    role = forms.ChoiceField(
        widget=forms.RadioSelect,
        error_messages={
            "invalid_choice": "You cannot give that role. Choose one of the roles listed."
        },
    )
    flags = forms.MultipleChoiceField(
        label="Custom permissions",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Apply to the Custom role only.",
        error_messages={
            "invalid_choice": "You can only give permissions you hold yourself "
            "(%(value)s is not one of them)."
        },
    )
    groups = forms.ModelMultipleChoiceField(
        queryset=Group.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose groups of this organization only."},
    )

    def __init__(self, *args, org, roles, flags, collections, **kwargs):
        super().__init__(*args, **kwargs)
        self.org = org
        self.fields["role"].choices = [
            (value, label) for value, label in MemberRole.choices if value in roles
        ]
        self.fields["flags"].choices = [
            (flag, label) for flag, label in CUSTOM_PERMISSION_FLAGS if flag in flags
        ]
        self.fields["groups"].queryset = org.groups.order_by("name", "pk")
        levels = self.initial.get("collection_levels", {})
        self.collections = list(collections)
        for collection in self.collections:
            name = f"{COLLECTION_PREFIX}{collection.pk}"
            self.fields[name] = forms.ChoiceField(
                label=collection.name,
                required=False,
                choices=[(NO_ACCESS, "No access"), *AccessLevel.choices],
                initial=levels.get(collection.pk, NO_ACCESS),
            )

    def collection_fields(self):
        return [self[f"{COLLECTION_PREFIX}{c.pk}"] for c in self.collections]

    def clean(self):
        cleaned = super().clean()
        known = {f"{COLLECTION_PREFIX}{c.pk}" for c in self.collections}
        if any(key.startswith(COLLECTION_PREFIX) and key not in known for key in self.data):
            raise ValidationError("Choose collections of this organization only.")
        role = cleaned.get("role")
        if role and not role_has_flags(role):
            cleaned["flags"] = []
        cleaned["collection_levels"] = {
            collection: cleaned.get(f"{COLLECTION_PREFIX}{collection.pk}")
            for collection in self.collections
            if cleaned.get(f"{COLLECTION_PREFIX}{collection.pk}")
        }
        return cleaned

    def access(self) -> dict:
        """The cleaned values as the member services take them."""
        return {
            "role": self.cleaned_data["role"],
            "flags": self.cleaned_data["flags"],
            "groups": list(self.cleaned_data["groups"]),
            "collection_levels": self.cleaned_data["collection_levels"],
        }


class MemberInviteForm(MemberAccessForm):
    emails = InvitationEmailsField(max_email_length=MAX_EMAIL_LENGTH)
    field_order = ["emails", "role", "flags", "groups"]


ANY = ""


class MemberFilterForm(forms.Form):
    """The members list's search box and filters; an invalid value filters nothing."""

    q = forms.CharField(label="Search by name or email", required=False, max_length=100)
    status = forms.ChoiceField(
        label="Status", required=False, choices=[(ANY, "Any status"), *MemberStatus.choices]
    )
    role = forms.ChoiceField(
        label="Role", required=False, choices=[(ANY, "Any role"), *MemberRole.choices]
    )

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        data = self.cleaned_data
        return {"search": data["q"].strip(), "status": data["status"], "role": data["role"]}


class MemberBulkForm(forms.Form):
    action = forms.ChoiceField(
        choices=[(action, action) for action in BULK_ACTIONS],
        error_messages={"required": "Choose an action.", "invalid_choice": "Choose an action."},
    )
    members = forms.ModelMultipleChoiceField(
        queryset=None,
        error_messages={
            "required": "Tick the members to act on.",
            "invalid_choice": "Some of the ticked members are not in this organization any "
            "more. Nothing was changed; tick them again on the refreshed list.",
            "invalid_pk_value": "Tick the members to act on.",
        },
    )

    def __init__(self, *args, org, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["members"].queryset = org.memberships.order_by("email", "pk")
