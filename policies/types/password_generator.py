"""Password generator: the vault's generator makes passwords or passphrases to these rules."""

from __future__ import annotations

import secrets
from functools import cache

from django import forms

from ..models import PolicyType
from .base import PolicyTypeBase

PASSWORD, PASSPHRASE = "password", "passphrase"
MIN_LENGTH, MAX_LENGTH = 5, 128
MIN_WORDS, MAX_WORDS = 3, 20
SPECIALS = "!@#$%^&*"
# Without look-alike characters (as the vault's own alphabet).
UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
LOWER = "abcdefghijkmnopqrstuvwxyz"
DIGITS = "23456789"


class PasswordGeneratorSettingsForm(forms.Form):
    kind = forms.ChoiceField(
        label="Type",
        choices=[(PASSWORD, "Password"), (PASSPHRASE, "Passphrase")],
        initial=PASSWORD,
    )
    length = forms.IntegerField(
        label="Minimum password length", min_value=MIN_LENGTH, max_value=MAX_LENGTH, initial=14
    )
    use_upper = forms.BooleanField(label="Upper case (A-Z)", required=False, initial=True)
    use_lower = forms.BooleanField(label="Lower case (a-z)", required=False, initial=True)
    use_digits = forms.BooleanField(label="Digits (0-9)", required=False, initial=True)
    use_special = forms.BooleanField(label="Special (!@#$%^&*)", required=False, initial=False)
    min_digits = forms.IntegerField(label="Minimum digits", min_value=0, max_value=9, initial=1)
    min_special = forms.IntegerField(
        label="Minimum special characters", min_value=0, max_value=9, initial=0
    )
    word_count = forms.IntegerField(
        label="Minimum number of words (passphrase)",
        min_value=MIN_WORDS,
        max_value=MAX_WORDS,
        initial=MIN_WORDS,
    )
    capitalize = forms.BooleanField(label="Capitalise words", required=False, initial=False)
    include_number = forms.BooleanField(label="Include a number", required=False, initial=False)

    def clean(self):
        cleaned = super().clean()
        length = cleaned.get("length") or 0
        minimums = (cleaned.get("min_digits") or 0) + (cleaned.get("min_special") or 0)
        if minimums > length:
            self.add_error("length", "The length must fit the minimum digits and specials.")
        classes = ("use_upper", "use_lower", "use_digits", "use_special")
        if not any(cleaned.get(name) for name in classes):
            self.add_error(None, "Choose at least one kind of character.")
        return cleaned


def strictest(settings_list: list[dict]) -> dict:
    """Longest, every class asked for anywhere, the highest minimums; a passphrase only
    when every policy asks for one."""
    merged = dict(settings_list[0])
    for settings in settings_list[1:]:
        for key in ("length", "min_digits", "min_special", "word_count"):
            merged[key] = max(merged[key], settings[key])
        for key in ("use_upper", "use_lower", "use_digits", "use_special", "capitalize"):
            merged[key] = merged[key] or settings[key]
        merged["include_number"] = merged["include_number"] or settings["include_number"]
        if settings["kind"] == PASSWORD:
            merged["kind"] = PASSWORD
    return merged


@cache
def _words() -> tuple[str, ...]:
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    words = FREQUENCY_LISTS["english_wikipedia"][:20000]
    return tuple(w for w in words if w.isascii() and w.isalpha() and 4 <= len(w) <= 8)


def generate(settings: dict) -> str:
    """A password or passphrase that meets `settings` (CSPRNG throughout)."""
    if settings["kind"] == PASSPHRASE:
        words = [secrets.choice(_words()) for _ in range(settings["word_count"])]
        if settings["capitalize"]:
            words = [w.capitalize() for w in words]
        if settings["include_number"]:
            at = secrets.randbelow(len(words))
            words[at] += str(secrets.randbelow(10))
        return "-".join(words)
    pools = [
        pool
        for key, pool in (
            ("use_upper", UPPER),
            ("use_lower", LOWER),
            ("use_digits", DIGITS),
            ("use_special", SPECIALS),
        )
        if settings[key]
    ]
    chars = [secrets.choice(DIGITS) for _ in range(settings["min_digits"])]
    chars += [secrets.choice(SPECIALS) for _ in range(settings["min_special"])]
    chars += [secrets.choice(pool) for pool in pools]  # one of each class asked for
    alphabet = "".join(pools)
    while len(chars) < settings["length"]:
        chars.append(secrets.choice(alphabet))
    for i in range(len(chars) - 1, 0, -1):  # Fisher-Yates with the CSPRNG
        j = secrets.randbelow(i + 1)
        chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)


class PasswordGeneratorPolicy(PolicyTypeBase):
    key = PolicyType.PASSWORD_GENERATOR
    title = "Password generator"
    description = (
        "The vault's password generator makes passwords (or passphrases) to these rules "
        "for every member, in the vault of each organization they belong to (a member of "
        "several organizations with this policy gets the strictest rules of them all). The "
        "generator then runs on the server."
    )
    settings_form = PasswordGeneratorSettingsForm
    applies_to = "Every member, in each of their organizations' vaults."
    generates_passwords = True

    def merge_settings(self, settings_list: list[dict]) -> dict:
        return strictest(settings_list)

    def generate(self, *, settings: dict) -> str:
        """item_saved (the generator used while editing an item)."""
        return generate(settings)
