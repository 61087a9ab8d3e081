"""The export form: the format, the account password again, and a file password if asked."""

from __future__ import annotations

from django import forms

from .services import FILE_PASSWORD_MIN, ExportFormat


def _password(label: str, *, autocomplete: str, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        max_length=1_000,
        help_text=help_text,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


class ExportForm(forms.Form):
    export_format = forms.ChoiceField(
        label="File format",
        choices=ExportFormat.choices,
        initial=ExportFormat.BITWARDEN_ENCRYPTED_JSON,
        widget=forms.RadioSelect,
    )
    file_password = _password(
        "File password",
        autocomplete="new-password",
        help_text=(
            f"For the password-protected format only; at least {FILE_PASSWORD_MIN} characters. "
            "Whoever imports the file needs it; it is not stored anywhere."
        ),
    )
    file_password_confirm = _password("Confirm the file password", autocomplete="new-password")
    # Checked by the view through `authenticate`, so that django-axes counts failures.
    account_password = forms.CharField(
        label="Your account password",
        strip=False,
        max_length=1_000,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def clean(self):
        data = super().clean()
        if data.get("export_format") == ExportFormat.BITWARDEN_ENCRYPTED_JSON:
            password = data.get("file_password", "")
            if len(password) < FILE_PASSWORD_MIN:
                self.add_error(
                    "file_password",
                    f"Choose a file password of at least {FILE_PASSWORD_MIN} characters.",
                )
            elif password != data.get("file_password_confirm", ""):
                self.add_error("file_password_confirm", "The two file passwords differ.")
        return data
