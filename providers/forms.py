"""Forms of the provider portal. Choices always come from the provider's own rows, so a
forged id or role is a form error and nothing changes."""

from __future__ import annotations

from django import forms

from clients.forms import EventFilterForm
from clients.models import Organization, Plan
from portal.form_fields import InvitationEmailsField

from .models import ProviderRole, ProviderUser
from .services import MAX_EMAIL_LENGTH


class ProviderUserInviteForm(forms.Form):
    emails = InvitationEmailsField(max_email_length=MAX_EMAIL_LENGTH)
    role = forms.ChoiceField(choices=ProviderRole.choices, initial=ProviderRole.SERVICE_USER)


class ProviderUserRoleForm(forms.Form):
    role = forms.ChoiceField(choices=ProviderRole.choices)


class ProviderUserScopeForm(forms.Form):
    ALL, CHOSEN = "all", "chosen"
    scope = forms.ChoiceField(
        label="Clients this service user reaches",
        choices=[(ALL, "All clients"), (CHOSEN, "Only the clients chosen below")],
        widget=forms.RadioSelect,
    )
    clients = forms.ModelMultipleChoiceField(
        queryset=Organization.objects.none(),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 12}),
        help_text="Hold Ctrl (Cmd on a Mac) to choose several.",
    )

    def __init__(self, *args, clients, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["clients"].queryset = clients

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("scope") == self.CHOSEN and not cleaned.get("clients"):
            self.add_error("clients", "Choose at least one client, or give access to all clients.")
        return cleaned


class ResendInvitationsForm(forms.Form):
    provider_users = forms.ModelMultipleChoiceField(
        queryset=ProviderUser.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "Tick the invitations to send again.",
            # A ticked row was accepted, removed or is not this provider's meanwhile.
            "invalid_choice": "Some of the ticked people are no longer waiting for an "
            "invitation (they accepted it or were removed). Nothing was sent; "
            "tick them again on the refreshed list.",
            "invalid_pk_value": "Tick the invitations to send again.",
        },
    )

    def __init__(self, *args, invited, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider_users"].queryset = invited


class ClientCreateForm(forms.Form):
    name = forms.CharField(max_length=100)
    plan = forms.ChoiceField(choices=Plan.choices)
    seats = forms.IntegerField(
        min_value=1, max_value=100_000, initial=10, help_text="At least 1: the owner uses a seat."
    )
    owner_email = forms.EmailField(
        label="Owner's email",
        max_length=MAX_EMAIL_LENGTH,
        help_text="The owner is invited by email to manage the client.",
    )


class ClientAddForm(forms.Form):
    org = forms.ModelChoiceField(
        label="Organization", queryset=Organization.objects.none(), empty_label=None
    )

    def __init__(self, *args, orgs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = orgs


class ClientUpdateForm(forms.Form):
    name = forms.CharField(max_length=100)
    seats = forms.IntegerField(min_value=1, max_value=100_000)

    def __init__(self, *args, can_manage_seats: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_manage_seats:
            # Service users rename only: a seats value they post is not even read.
            del self.fields["seats"]


class InternalOrgForm(forms.Form):
    org = forms.ModelChoiceField(
        label="Internal team",
        queryset=Organization.objects.none(),
        required=False,
        empty_label="None: every organization is a client",
    )

    def __init__(self, *args, orgs, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["org"].queryset = orgs


class ProviderTwoStepForm(forms.Form):
    require_two_step = forms.BooleanField(
        label="Require two-step login for every provider user",
        required=False,
        help_text=(
            "Provider users without two-step login are sent to turn it on at their next "
            "request, before they reach anything else."
        ),
    )


class ProviderEventFilterForm(EventFilterForm):
    # The query parameters that make a filtered log (a page number alone does not).
    FILTER_FIELDS = ("start", "end", "user", "client")

    user = forms.ModelChoiceField(queryset=None, required=False, empty_label="Anyone")
    client = forms.ModelChoiceField(
        queryset=Organization.objects.none(), required=False, empty_label="All clients"
    )

    def __init__(self, *args, users=None, clients, **kwargs):
        super().__init__(*args, **kwargs)
        if users is None:
            del self.fields["user"]
        else:
            self.fields["user"].queryset = users
        self.fields["client"].queryset = clients
