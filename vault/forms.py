"""Item forms, one per type, plus the URI and custom-field rows and the list filters.

Secrets are write-only in edit forms: the form never shows a stored password,
TOTP key, card code, private key or hidden field (each reveal is its own
audited request). A secret left blank keeps its value; "Remove" clears it.
"except passwords" editors get no secret inputs at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from django import forms

from clients.models import Collection

from .content import (
    ALL_TYPE_FIELD_NAMES,
    CARD_BRANDS,
    CARD_CODE_MAX,
    CARD_NUMBER_MAX,
    CUSTOM_FIELDS_MAX,
    CUSTOM_NAME_MAX,
    CUSTOM_VALUE_MAX,
    IDENTITY_TITLES,
    NAME_MAX,
    NOTES_MAX,
    PASSWORD_MAX,
    SHORT_MAX,
    SSH_PRIVATE_KEY_MAX,
    SSH_PUBLIC_KEY_MAX,
    TOTP_MAX,
    URI_MAX,
    URIS_MAX,
    USERNAME_MAX,
    CustomField,
    CustomFieldKind,
    ItemContent,
    ItemType,
    LoginUri,
    UriMatch,
    field_specs,
    secret_field_names,
)
from .services import ItemEdit
from .totp import InvalidTotpSecret, parse_totp_secret


def _limit(n: int) -> str:
    return f"Up to {n:,} characters."


def _text(label: str, max_length: int = SHORT_MAX, **options) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=max_length, required=False, help_text=_limit(max_length), **options
    )


def _secret(label: str, max_length: int, *, textarea: bool = False) -> forms.CharField:
    # render_value: a rejected form keeps what the user typed; initial values never hold secrets.
    widget = (
        forms.Textarea(attrs={"rows": 6, "autocomplete": "off", "spellcheck": "false"})
        if textarea
        else forms.PasswordInput(render_value=True, attrs={"autocomplete": "new-password"})
    )
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=False,
        widget=widget,
        help_text=_limit(max_length),
        strip=False,
    )


def _choice(label: str, options) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, required=False, choices=[("", "—"), *options])


class ItemForm(forms.Form):
    """What every type has. Subclasses list their own fields explicitly."""

    item_type: ClassVar[str]

    name = forms.CharField(label="Name", max_length=NAME_MAX, help_text=_limit(NAME_MAX))
    notes = _text("Notes", NOTES_MAX, widget=forms.Textarea(attrs={"rows": 4}))
    reprompt = forms.BooleanField(
        label="Ask for my account password again before showing this item's secrets",
        required=False,
    )
    collections = forms.MultipleChoiceField(
        label="Collections",
        widget=forms.CheckboxSelectMultiple,
        help_text="The item lives in every collection ticked here.",
    )
    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args,
        collections: list[Collection] | None = None,
        editing: bool = False,
        can_see_secrets: bool = True,
        stored_secrets: frozenset[str] = frozenset(),
        stored_reprompt: bool = False,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.editing = editing
        if stored_reprompt:
            # Checked by the view (through django-axes) when the re-prompt is switched off.
            self.fields["account_password"] = forms.CharField(
                label="Your account password",
                required=False,
                strip=False,
                widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
                help_text="Needed only to stop asking for it on this item.",
            )
        self.secret_names = secret_field_names(self.item_type)
        if editing:
            del self.fields["collections"]  # moving is its own page
        else:
            del self.fields["revision"]
            self.fields["collections"].choices = [(str(c.pk), c.name) for c in collections or []]
        if not can_see_secrets:
            for name in self.secret_names:
                del self.fields[name]
        elif editing:
            self._offer_keep_or_remove(stored_secrets)

    def _offer_keep_or_remove(self, stored_secrets: frozenset[str]) -> None:
        for name in sorted(self.secret_names & stored_secrets):
            self.fields[name].help_text = "A value is stored. Leave blank to keep it."
            self.fields[f"clear_{name}"] = forms.BooleanField(
                label=f"Remove the stored {self.fields[name].label.lower()}", required=False
            )

    def clean(self):
        cleaned = super().clean()
        own = {spec.name for spec in field_specs(self.item_type)}
        foreign = sorted(
            name for name in ALL_TYPE_FIELD_NAMES - own if str(self.data.get(name, "")).strip()
        )
        if foreign:
            raise forms.ValidationError(
                f"These fields do not belong to a {ItemType(self.item_type).label.lower()}: "
                f"{', '.join(foreign)}. Nothing was saved."
            )
        return cleaned

    def type_fields(self) -> dict[str, str]:
        """The type's fields that were filled in; blank secrets are left out (kept on edit)."""
        values = {}
        for spec in field_specs(self.item_type):
            if spec.computed or spec.name not in self.cleaned_data:
                continue
            value = self.cleaned_data[spec.name]
            if value:
                values[spec.name] = value
        return values

    def cleared_secrets(self) -> frozenset[str]:
        return frozenset(n for n in self.secret_names if self.cleaned_data.get(f"clear_{n}"))

    def visible_type_fields(self):
        """Bound fields of this type, for the template (in the order the type lists them)."""
        return [self[spec.name] for spec in field_specs(self.item_type) if spec.name in self.fields]

    def clear_fields(self):
        return [self[name] for name in self.fields if name.startswith("clear_")]


class LoginForm(ItemForm):
    item_type = ItemType.LOGIN
    username = _text(
        "Username", USERNAME_MAX, widget=forms.TextInput(attrs={"autocomplete": "off"})
    )
    password = _secret("Password", PASSWORD_MAX)
    totp = _secret("Authenticator key (TOTP)", TOTP_MAX)

    def clean_totp(self) -> str:
        value = self.cleaned_data.get("totp", "").strip()
        if value:
            try:
                parse_totp_secret(value)
            except InvalidTotpSecret as exc:
                raise forms.ValidationError(str(exc)) from exc
        return value


class SecureNoteForm(ItemForm):
    item_type = ItemType.SECURE_NOTE


class CardForm(ItemForm):
    item_type = ItemType.CARD
    cardholder_name = _text("Cardholder name")
    brand = _choice("Brand", [(b, b) for b in CARD_BRANDS])
    number = _text("Number", CARD_NUMBER_MAX, widget=forms.TextInput(attrs={"autocomplete": "off"}))
    exp_month = _choice("Expiry month", [(f"{m:02d}", f"{m:02d}") for m in range(1, 13)])
    exp_year = forms.CharField(
        label="Expiry year", required=False, max_length=4, help_text="Four digits, e.g. 2030."
    )
    code = _secret("Security code", CARD_CODE_MAX)

    def clean_exp_year(self) -> str:
        year = self.cleaned_data.get("exp_year", "").strip()
        if year and not (len(year) == 4 and year.isdigit()):
            raise forms.ValidationError("Write the year with four digits, e.g. 2030.")
        return year


class IdentityForm(ItemForm):
    item_type = ItemType.IDENTITY
    title = _choice("Title", [(t, t) for t in IDENTITY_TITLES])
    first_name = _text("First name")
    middle_name = _text("Middle name")
    last_name = _text("Last name")
    address1 = _text("Address line 1")
    address2 = _text("Address line 2")
    address3 = _text("Address line 3")
    city = _text("City / town")
    state = _text("State / province")
    postal_code = _text("Postal code")
    country = _text("Country")
    company = _text("Company")
    email = _text("Email")
    phone = _text("Phone")
    ssn = _text("Social security number")
    username = _text("Username")
    passport_number = _text("Passport number")
    license_number = _text("Licence number")


class SshKeyForm(ItemForm):
    item_type = ItemType.SSH_KEY
    private_key = _secret("Private key", SSH_PRIVATE_KEY_MAX, textarea=True)
    public_key = _text(
        "Public key",
        SSH_PUBLIC_KEY_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["public_key"].help_text = (
            "'ssh-ed25519 AAAA… comment'. Left blank, it is derived from an unencrypted "
            f"private key. {_limit(SSH_PUBLIC_KEY_MAX)} The fingerprint is computed from it."
        )


ITEM_FORMS: dict[str, type[ItemForm]] = {
    form.item_type: form for form in (LoginForm, SecureNoteForm, CardForm, IdentityForm, SshKeyForm)
}


# --------------------------------------------------------------------------
# Rows: a login's URIs, every type's custom fields
# --------------------------------------------------------------------------


class UriForm(forms.Form):
    uri = forms.CharField(
        label="URI", max_length=URI_MAX, required=False, help_text=_limit(URI_MAX)
    )
    match = forms.ChoiceField(label="Match detection", choices=UriMatch.choices, required=False)


class CustomFieldForm(forms.Form):
    field_id = forms.CharField(widget=forms.HiddenInput, required=False, max_length=32)
    name = forms.CharField(label="Field name", max_length=CUSTOM_NAME_MAX, required=False)
    kind = forms.ChoiceField(label="Type", choices=CustomFieldKind.choices)
    value = forms.CharField(
        label="Value",
        max_length=CUSTOM_VALUE_MAX,
        required=False,
        strip=False,
        help_text=f"{_limit(CUSTOM_VALUE_MAX)} For yes / no fields write yes or no.",
    )

    def __init__(self, *args, allow_hidden: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not allow_hidden:
            self.fields["kind"].choices = [
                c for c in CustomFieldKind.choices if c[0] != CustomFieldKind.HIDDEN
            ]
        typed_kind = self.data.get(self.add_prefix("kind")) if self.is_bound else None
        if CustomFieldKind.HIDDEN in (self.initial.get("kind"), typed_kind):
            self.fields["value"].widget = forms.PasswordInput(
                render_value=True, attrs={"maxlength": CUSTOM_VALUE_MAX}
            )


UriFormSet = forms.formset_factory(
    UriForm, extra=2, max_num=URIS_MAX, absolute_max=URIS_MAX, validate_max=True
)
CustomFieldFormSet = forms.formset_factory(
    CustomFieldForm,
    extra=2,
    max_num=CUSTOM_FIELDS_MAX,
    absolute_max=CUSTOM_FIELDS_MAX,
    validate_max=True,
    can_delete=True,
)


@dataclass
class ItemEditor:
    """The item form and its row sets, validated and turned into an `ItemEdit` together."""

    form: ItemForm
    uris: forms.BaseFormSet | None
    custom_fields: forms.BaseFormSet

    def is_valid(self) -> bool:
        results = [self.form.is_valid(), self.custom_fields.is_valid()]
        if self.uris is not None:
            results.append(self.uris.is_valid())
        return all(results)

    def to_edit(self) -> ItemEdit:
        data = self.form.cleaned_data
        content = ItemContent(
            type=self.form.item_type,
            name=data["name"],
            fields=self.form.type_fields(),
            uris=self._uris(),
            notes=data.get("notes", ""),
            custom_fields=self._custom_fields(),
        )
        return ItemEdit(
            content=content,
            reprompt=data.get("reprompt", False),
            cleared_secrets=self.form.cleared_secrets(),
        )

    def collection_ids(self) -> list[str]:
        return self.form.cleaned_data.get("collections", [])

    def _uris(self) -> tuple[LoginUri, ...]:
        if self.uris is None:
            return ()
        rows = [row.cleaned_data for row in self.uris.forms if row.cleaned_data.get("uri")]
        return tuple(LoginUri(uri=r["uri"], match=r.get("match") or UriMatch.DEFAULT) for r in rows)

    def _custom_fields(self) -> tuple[CustomField, ...]:
        fields = []
        for row in self.custom_fields.forms:
            data = row.cleaned_data
            if data and not data.get("DELETE") and not _is_blank_row(data):
                fields.append(_custom_field(data))
        return tuple(fields)


def _is_blank_row(data: dict) -> bool:
    keeps_hidden_value = data.get("kind") == CustomFieldKind.HIDDEN and data.get("field_id")
    return not (data.get("name") or data.get("value") or keeps_hidden_value)


def _custom_field(data: dict) -> CustomField:
    kind = data["kind"]
    value = data.get("value", "")
    if kind == CustomFieldKind.BOOLEAN:
        value = "true" if value.strip().lower() in ("yes", "true", "y", "1", "on") else "false"
    elif kind == CustomFieldKind.HIDDEN and value == "" and data.get("field_id"):
        value = None  # a stored hidden value left blank is kept (see services._merge_edit)
    return CustomField(
        id=data.get("field_id") or CustomField.new_id(),
        name=data.get("name", ""),
        kind=kind,
        value=value,
    )


def item_editor(
    item_type: str,
    *,
    data=None,
    content: ItemContent | None = None,
    reprompt: bool = False,
    revision: int | None = None,
    collections: list[Collection] | None = None,
    can_see_secrets: bool = True,
) -> ItemEditor:
    """Build the editor for a new item (content None) or for editing `content`."""
    editing = content is not None
    form_class = ITEM_FORMS[item_type]
    initial = _initial(content, reprompt, revision) if editing else {}
    stored = frozenset(
        name for name in secret_field_names(item_type) if editing and content.get(name)
    )
    form = form_class(
        data,
        initial=initial,
        collections=collections,
        editing=editing,
        can_see_secrets=can_see_secrets,
        stored_secrets=stored,
        stored_reprompt=editing and reprompt,
    )
    uris = None
    if item_type == ItemType.LOGIN:
        uri_initial = [{"uri": u.uri, "match": u.match} for u in content.uris] if editing else []
        uris = UriFormSet(data, initial=uri_initial, prefix="uris")
    return ItemEditor(
        form=form, uris=uris, custom_fields=_custom_formset(data, content, can_see_secrets)
    )


def _initial(content: ItemContent, reprompt: bool, revision: int | None) -> dict:
    # Secrets are never initial values: see the module docstring.
    secret_names = secret_field_names(content.type)
    initial = {k: v for k, v in content.fields.items() if k not in secret_names}
    initial.update(name=content.name, notes=content.notes, reprompt=reprompt, revision=revision)
    return initial


def _custom_formset(data, content: ItemContent | None, can_see_secrets: bool) -> forms.BaseFormSet:
    rows = [
        _custom_initial(custom)
        for custom in (content.custom_fields if content else ())
        # Hidden fields never reach "except passwords" editors; the service keeps them.
        if can_see_secrets or custom.kind != CustomFieldKind.HIDDEN
    ]
    formset = CustomFieldFormSet(
        data, initial=rows, prefix="custom", form_kwargs={"allow_hidden": can_see_secrets}
    )
    for row, initial in zip(formset.forms, rows, strict=False):
        if initial["kind"] == CustomFieldKind.HIDDEN:
            row.fields["value"].help_text = "A hidden value is stored. Leave blank to keep it."
    return formset


def _custom_initial(custom: CustomField) -> dict[str, str]:
    if custom.kind == CustomFieldKind.HIDDEN:
        value = ""  # secrets are never initial values
    elif custom.kind == CustomFieldKind.BOOLEAN:
        value = "yes" if custom.value == "true" else "no"
    else:
        value = custom.value or ""
    return {"field_id": custom.id, "name": custom.name, "kind": custom.kind, "value": value}


# --------------------------------------------------------------------------
# The list page's filters
# --------------------------------------------------------------------------


class ItemFilterForm(forms.Form):
    collection = forms.TypedChoiceField(required=False, coerce=str, empty_value=None)
    type = forms.ChoiceField(required=False, choices=[("", "All types"), *ItemType.choices])
    favorites = forms.BooleanField(required=False)
    trash = forms.BooleanField(required=False)
    q = forms.CharField(required=False, max_length=100)

    def __init__(self, *args, collections: list[Collection], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collection"].choices = [("", "All collections")] + [
            (str(c.pk), c.name) for c in collections
        ]


class MoveForm(forms.Form):
    collections = forms.MultipleChoiceField(
        label="Collections",
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="The item lives in every collection ticked here (at least one).",
    )
    revision = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, collections: list[Collection], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collections"].choices = [(str(c.pk), c.name) for c in collections]
