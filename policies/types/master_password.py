"""Master password requirements: length, character classes, strength, enforced at login."""

from __future__ import annotations

import string

from django import forms
from zxcvbn import zxcvbn

from ..models import PolicyType
from .base import PolicyTypeBase

MIN_LENGTH, MAX_LENGTH = 12, 128
SCORE_CHOICES = [
    (0, "0 (no minimum)"),
    (1, "1 (weak)"),
    (2, "2 (fair)"),
    (3, "3 (good)"),
    (4, "4 (strong)"),
]


class MasterPasswordSettingsForm(forms.Form):
    min_length = forms.IntegerField(
        label="Minimum length",
        min_value=MIN_LENGTH,
        max_value=MAX_LENGTH,
        initial=MIN_LENGTH,
        help_text=f"From {MIN_LENGTH} to {MAX_LENGTH} characters.",
    )
    min_score = forms.TypedChoiceField(
        label="Minimum strength score",
        choices=SCORE_CHOICES,
        coerce=int,
        initial=0,
        help_text="Estimated by zxcvbn, from 0 (guessable) to 4 (very hard to guess).",
    )
    require_upper = forms.BooleanField(
        label="Require upper case (A-Z)", required=False, initial=False
    )
    require_lower = forms.BooleanField(
        label="Require lower case (a-z)", required=False, initial=False
    )
    require_digits = forms.BooleanField(label="Require digits (0-9)", required=False, initial=False)
    require_special = forms.BooleanField(
        label="Require special characters (!@#$%^&*)", required=False, initial=False
    )
    enforce_on_login = forms.BooleanField(
        label="Enforce at login",
        required=False,
        initial=False,
        help_text="Members whose password falls short must change it before anything else.",
    )


_CLASSES = {
    "require_upper": (str.isupper, "an upper-case letter"),
    "require_lower": (str.islower, "a lower-case letter"),
    "require_digits": (str.isdigit, "a digit"),
    "require_special": (lambda ch: ch in string.punctuation, "a special character (!@#$%^&*)"),
}


def strictest(settings_list: list[dict]) -> dict:
    """The requirements of several orgs at once: the highest numbers, every class."""
    merged = {"min_length": 0, "min_score": 0, "enforce_on_login": False}
    merged.update(dict.fromkeys(_CLASSES, False))
    for settings in settings_list:
        merged["min_length"] = max(merged["min_length"], settings.get("min_length") or 0)
        merged["min_score"] = max(merged["min_score"], settings.get("min_score") or 0)
        for key in [*_CLASSES, "enforce_on_login"]:
            merged[key] = merged[key] or bool(settings.get(key))
    return merged


def password_problems(password: str, requirements: dict, *, user_inputs=()) -> list[str]:
    """What the password lacks, in words; empty when it meets every requirement."""
    problems = []
    if len(password) < requirements["min_length"]:
        problems.append(f"at least {requirements['min_length']} characters")
    for key, (test, words) in _CLASSES.items():
        if requirements[key] and not any(test(ch) for ch in password):
            problems.append(words)
    if requirements["min_score"]:
        score = zxcvbn(password[:MAX_LENGTH], user_inputs=list(user_inputs))["score"]
        if score < requirements["min_score"]:
            problems.append(
                f"a strength score of at least {requirements['min_score']} (it has {score}): "
                "add more words or characters that are hard to guess"
            )
    return problems


class MasterPasswordPolicy(PolicyTypeBase):
    key = PolicyType.MASTER_PASSWORD
    title = "Master password requirements"
    description = (
        "Members' passwords must meet a minimum length, character classes and strength. "
        "Checked whenever a member sets a password; with “enforce at login”, a member whose "
        "password falls short must change it before anything else."
    )
    settings_form = MasterPasswordSettingsForm
    applies_to = "Every member, owners and admins included."

    def merge_settings(self, settings_list: list[dict]) -> dict:
        return strictest(settings_list)

    def password_problems(self, *, settings: dict, password: str, user) -> list[str]:
        """password_set hook: what the new password lacks under these settings."""
        return password_problems(
            password, strictest([settings]), user_inputs=[user.email, user.name]
        )

    def login_needs_password_change(self, *, settings: dict, password: str, user) -> bool:
        """login hook: True sends the member to change their password first."""
        return bool(settings.get("enforce_on_login")) and bool(
            self.password_problems(settings=settings, password=password, user=user)
        )
