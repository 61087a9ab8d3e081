"""The import form: a file, its format (or detection), and where the items go."""

from __future__ import annotations

from django import forms
from django.conf import settings

from clients.models import Collection, Organization
from vault.models import ImportTarget

from .formats.base import REGISTRY

DETECT = ""


def format_choices() -> list[tuple[str, str]]:
    return [(DETECT, "Detect from the file"), *((f.key, f.label) for f in REGISTRY.values())]


class ImportForm(forms.Form):
    file = forms.FileField(
        label="Export file",
        help_text="The file your password manager exported (.json or .csv).",
    )
    format = forms.ChoiceField(label="Format", required=False, choices=())
    file_password = forms.CharField(
        label="File password",
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text="Only for a password-protected Bitwarden export: the password set when "
        "it was exported.",
    )
    target = forms.ChoiceField(
        label="Where the items go",
        choices=[
            (
                ImportTarget.FROM_FILE,
                "Into the collections named in the file (missing ones are "
                "created, existing ones are reused by name)",
            ),
            (ImportTarget.COLLECTION, "Everything into one collection:"),
        ],
        initial=ImportTarget.FROM_FILE,
        widget=forms.RadioSelect,
    )
    collection = forms.ModelChoiceField(
        label="Collection", queryset=Collection.objects.none(), required=False
    )

    def __init__(self, *args, org: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["format"].choices = format_choices()
        self.fields["collection"].queryset = Collection.objects.filter(org=org).order_by("name")
        megabytes = settings.VAULT_IMPORT_MAX_BYTES / (1024 * 1024)
        self.fields["file"].help_text += f" At most {megabytes:,.0f} MB."

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if getattr(upload, "disk_full", False):  # the upload handler found no room to keep it
            raise forms.ValidationError(
                "The server's disk is full, so the file could not be received and nothing "
                "was imported. Try again later; if it keeps happening, tell the portal's "
                "operator."
            )
        # The size the upload handler counted; checked before anything reads the file whole.
        if upload.size > settings.VAULT_IMPORT_MAX_BYTES:
            megabytes = settings.VAULT_IMPORT_MAX_BYTES / (1024 * 1024)
            raise forms.ValidationError(
                f"The file is larger than {megabytes:,.0f} MB, the most one import takes. "
                "Split the export into smaller files and import them one by one."
            )
        return upload

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("target") == ImportTarget.COLLECTION and not cleaned.get("collection"):
            self.add_error("collection", "Choose the collection the items go into.")
        if cleaned.get("target") == ImportTarget.FROM_FILE:
            cleaned["collection"] = None
        return cleaned
