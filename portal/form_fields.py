"""Form fields that more than one app's forms use."""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from .services import MAX_INVITATIONS_AT_ONCE

_SEPARATORS = re.compile(r"[\s,;]+")


class InvitationEmailsField(forms.CharField):
    """Up to 20 email addresses, separated by commas, semicolons or new lines.

    Cleans to a list of lower-cased addresses; every address that is malformed, too long
    for the column (`max_email_length`) or listed twice is named in one error message.
    """

    widget = forms.Textarea(attrs={"rows": 4})

    def __init__(self, *, max_email_length: int, **kwargs):
        self.max_email_length = max_email_length
        kwargs.setdefault("label", "Email addresses")
        kwargs.setdefault(
            "help_text", f"Up to {MAX_INVITATIONS_AT_ONCE}, separated by commas or new lines."
        )
        super().__init__(**kwargs)

    def clean(self, value) -> list[str]:
        text = super().clean(value)
        emails = [email.lower() for email in _SEPARATORS.split(text) if email]
        if not emails:
            raise ValidationError("Enter at least one email address.")
        if len(emails) > MAX_INVITATIONS_AT_ONCE:
            raise ValidationError(
                f"You entered {len(emails)} addresses; invite at most "
                f"{MAX_INVITATIONS_AT_ONCE} at once."
            )
        errors = [self._problem(email) for email in emails]
        errors = [error for error in errors if error]
        duplicates = sorted({email for email in emails if emails.count(email) > 1})
        if duplicates:
            errors.append(f"Listed more than once: {', '.join(duplicates)}.")
        if errors:
            raise ValidationError(errors)
        return emails

    def _problem(self, email: str) -> str | None:
        try:
            validate_email(email)
        except ValidationError:
            return f"“{email}” is not a valid email address."
        if len(email) > self.max_email_length:
            return (
                f"“{email[:40]}…” is longer than {self.max_email_length} characters, "
                "which no mailbox uses."
            )
        return None
