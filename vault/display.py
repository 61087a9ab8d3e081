"""What the item page shows: plain rows for the template, secrets masked unless revealed.

The template receives these rows and never the decrypted item, so a secret
reaches the HTML only when it is the one the request revealed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from portal.access import ItemGrant

from .content import (
    CustomFieldKind,
    ItemContent,
    UriMatch,
    field_specs,
)
from .totp import TotpCode, current_code

MASK = "••••••••"


@dataclass(frozen=True)
class DisplayRow:
    label: str
    value: str | None = field(repr=False)  # None while masked
    reveal_target: str | None = None  # set for a secret: the reveal form's `field`
    withheld: bool = False  # a secret the access level never shows
    copyable: bool = False  # plain text the browser may copy (no request needed)
    copy_password: bool = False  # the copy button asks the server (audited)
    multiline: bool = False
    link: bool = False  # a safe (http/https) URI
    note: str = ""


@dataclass(frozen=True)
class ItemDisplay:
    rows: list[DisplayRow]
    uris: list[DisplayRow]
    custom_fields: list[DisplayRow]
    history: list[DisplayRow]
    notes: str = field(repr=False)
    totp: TotpCode | None
    totp_needs_reveal: bool  # re-prompt: the code appears after the account password


def item_display(
    content: ItemContent, grant: ItemGrant, *, reprompt: bool, revealed: dict[str, str]
) -> ItemDisplay:
    """`revealed` maps a reveal target to the one secret value this response may show."""
    show_totp_code = bool(content.get("totp")) and ("totp_code" in revealed or not reprompt)
    return ItemDisplay(
        rows=_type_rows(content, grant, reprompt=reprompt, revealed=revealed),
        uris=[_uri_row(uri) for uri in content.uris],
        custom_fields=[_custom_row(f, grant, revealed) for f in content.custom_fields],
        history=[
            DisplayRow(
                label=change.changed_at[:16].replace("T", " "),
                value=revealed.get(f"history:{index}"),
                reveal_target=f"history:{index}" if grant.can_see_secrets else None,
                withheld=not grant.can_see_secrets,
            )
            for index, change in enumerate(content.password_history)
        ],
        notes=content.notes,
        totp=current_code(content.get("totp")) if show_totp_code else None,
        totp_needs_reveal=bool(content.get("totp")) and reprompt and "totp_code" not in revealed,
    )


def _type_rows(content, grant, *, reprompt: bool, revealed: dict[str, str]) -> list[DisplayRow]:
    rows = []
    for spec in field_specs(content.type):
        value = content.get(spec.name)
        if spec.name in _CARD_EXPIRY:
            continue  # shown as one "Expiry" row below
        if spec.secret and not grant.can_see_secrets:
            rows.append(DisplayRow(spec.label, None, withheld=True))
        elif (spec.secret or spec.masked) and value:
            rows.append(
                DisplayRow(
                    spec.label,
                    revealed.get(spec.name),
                    reveal_target=spec.name,
                    copy_password=spec.name == "password" and not reprompt,
                    multiline=spec.multiline,
                )
            )
        elif value:
            rows.append(DisplayRow(spec.label, value, copyable=True, multiline=spec.multiline))
    expiry = " / ".join(content.get(name) for name in _CARD_EXPIRY if content.get(name))
    if expiry:
        rows.append(DisplayRow("Expiry", expiry))
    return rows


_CARD_EXPIRY = ("exp_month", "exp_year")


def _uri_row(uri) -> DisplayRow:
    note = "" if uri.match == UriMatch.DEFAULT else f"match: {UriMatch(uri.match).label.lower()}"
    return DisplayRow("URI", uri.uri, copyable=True, link=uri.is_safe_link, note=note)


def _custom_row(custom, grant: ItemGrant, revealed: dict[str, str]) -> DisplayRow:
    label = custom.name or "(unnamed field)"
    if custom.kind == CustomFieldKind.HIDDEN:
        if not grant.can_see_secrets:
            return DisplayRow(label, None, withheld=True)
        target = f"custom:{custom.id}"
        return DisplayRow(label, revealed.get(target), reveal_target=target)
    if custom.kind == CustomFieldKind.BOOLEAN:
        return DisplayRow(label, "Yes" if custom.value == "true" else "No")
    return DisplayRow(label, custom.value or "", copyable=True)
