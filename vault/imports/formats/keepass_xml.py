"""KeePass 2 XML, as KeePass 2.x ("KeePass XML (2.x)") and KeePassXC ("XML") export it.

    <KeePassFile>
      <Meta>… <RecycleBinEnabled>True</RecycleBinEnabled>
             <RecycleBinUUID>base64</RecycleBinUUID> …</Meta>
      <Root>
        <Group><UUID/><Name>Root</Name> …
          <Entry><UUID/> … <Times><LastModificationTime/></Times>
            <String><Key>Title</Key><Value>…</Value></String>
            <String><Key>Password</Key><Value ProtectInMemory="True">…</Value></String>
            … <AutoType/> <History><Entry>…</Entry></History>
          </Entry>
          <Group><Name>Child</Name> …</Group>
        </Group>
        <DeletedObjects/>
      </Root>
    </KeePassFile>

As Bitwarden's importer does, the root group's own name is dropped and nested groups
become "Parent/Child" collections; entries of the root group get none. The recycle bin
group (Meta's RecycleBinUUID) is skipped with everything in it. Title, UserName,
Password, URL, Notes and otp (KeePassXC's otpauth URI; KeePass's TimeOtp-Secret-Base32)
fill the login; KeePassXC's extra URLs (KP2A_URL*) become more URIs; other strings
become custom fields, hidden when marked ProtectInMemory="True". History entries give
the password history. A value marked Protected="True" is still encrypted by a KeePass
database's inner stream, which an XML export never leaves: such an entry is refused.

Parsed with defusedxml as a stream (iterparse): entries are handled and freed as they
end; a DTD, entities and external references are refused.
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import BinaryIO
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from vault.content import (
    PASSWORD_HISTORY_MAX,
    CustomField,
    CustomFieldKind,
    LoginUri,
    PasswordChange,
)

from .base import Format, ImportLimits, ImportRejected, Parsed, ParsedItem, RowError, register
from .common import head_text, login, name_or_default, secure_note

LABEL = "KeePass 2 (.xml)"
STANDARD_KEYS = {"Title", "UserName", "Password", "URL", "Notes", "otp"}
TOTP_KEYS = ("otp", "TimeOtp-Secret-Base32")
EXTRA_URL_PREFIX = "KP2A_URL"
# KeePass 2 binary times (KDBX 4 as XML): seconds since 0001-01-01, little-endian int64.
_KEEPASS_EPOCH = datetime(1, 1, 1, tzinfo=UTC)


def _export_again() -> str:
    return f"Export the database again as {LABEL} and upload that file; nothing was imported."


@dataclass
class _Group:
    name: str | None = None
    uuid: str | None = None
    path: str = ""  # "Parent/Child"; "" for the root group
    skipped: bool = False  # the recycle bin, or inside it
    is_root: bool = False


def detect(head: bytes) -> bool:
    text = head_text(head)
    return "<KeePassFile" in text


def parse(stream: BinaryIO, limits: ImportLimits) -> Parsed:
    try:
        yield from _parse(stream, limits)
    except DefusedXmlException as exc:
        raise ImportRejected(
            "The file declares a DTD, entities or external references, which KeePass never "
            "writes; it was refused for safety. " + _export_again()
        ) from exc
    except ParseError as exc:
        raise ImportRejected(_broken_xml(exc)) from exc
    except UnicodeDecodeError as exc:
        raise ImportRejected("The file is not UTF-8 text. " + _export_again()) from exc
    except LookupError as exc:  # an XML declaration naming an encoding that does not exist
        raise ImportRejected(
            "The file declares a text encoding that does not exist; KeePass writes UTF-8. "
            + _export_again()
        ) from exc


def _broken_xml(exc: ParseError) -> str:
    line = exc.position[0] if getattr(exc, "position", None) else "?"
    if "no element found" in str(exc) or "unclosed token" in str(exc):
        return f"The file ends too early (line {line}): it was cut short. " + _export_again()
    return f"The file is not valid XML (near line {line}). " + _export_again()


def _parse(stream: BinaryIO, limits: ImportLimits) -> Parsed:
    path: list[str] = []  # open element tags
    groups: list[_Group] = []
    recycle_bin: str | None = None
    entry_number = 0
    saw_root = False
    events = iterparse(stream, events=("start", "end"), forbid_dtd=True)
    for event, element in events:
        if event == "start":
            path.append(element.tag)
            if len(path) > limits.max_depth:
                raise ImportRejected(
                    f"The file is nested more than {limits.max_depth} levels deep. "
                    + _export_again()
                )
            if len(path) == 1 and element.tag != "KeePassFile":
                raise ImportRejected(f"This is not a {LABEL} export. " + _export_again())
            if element.tag == "Root" and path[:-1] == ["KeePassFile"]:
                saw_root = True
            if element.tag == "Group" and _in_group_tree(path[:-1]):
                inherited = bool(groups and groups[-1].skipped)
                groups.append(_Group(is_root=not groups, skipped=inherited))
            continue
        # "end": the element is complete.
        tag = element.tag
        parent = path[-2] if len(path) > 1 else None
        path.pop()
        if tag == "RecycleBinUUID" and parent == "Meta":
            recycle_bin = (element.text or "").strip() or None
        elif parent == "Group" and groups and tag in ("Name", "UUID"):
            _group_detail(groups, tag, element.text or "", recycle_bin)
        elif tag == "Entry" and parent == "Group" and groups:
            entry_number += 1
            group = groups[-1]
            if not group.skipped:
                yield _entry(element, group, limits, where=f"entry {entry_number}")
            element.clear()
        elif tag == "Group" and groups and _in_group_tree(path):
            groups.pop()
            element.clear()
    if not saw_root:
        raise ImportRejected(f"This is not a {LABEL} export: it has no Root. " + _export_again())


def _in_group_tree(path: list[str]) -> bool:
    """Whether the parent path is Root or a Group of the tree (not a History)."""
    return len(path) >= 2 and path[:2] == ["KeePassFile", "Root"] and path[-1] in ("Root", "Group")


def _group_detail(groups: list[_Group], tag: str, text: str, recycle_bin: str | None) -> None:
    group = groups[-1]
    if tag == "UUID":
        group.uuid = text.strip()
        if recycle_bin and group.uuid == recycle_bin:
            group.skipped = True
        return
    if group.name is not None:
        return
    group.name = text
    if group.is_root:
        return
    parent_path = groups[-2].path if len(groups) > 1 else ""
    own = text.strip() or "-"
    group.path = f"{parent_path}/{own}" if parent_path else own


def _strings(entry: Element, limits: ImportLimits) -> list[tuple[str, str, bool]]:
    """(key, value, protect in memory) of an entry's own String elements."""
    strings = []
    for string in entry.findall("String"):
        key = (string.findtext("Key") or "").strip()
        value_element = string.find("Value")
        value = value_element.text if value_element is not None and value_element.text else ""
        if value_element is not None and value_element.get("Protected", "").lower() == "true":
            raise _EntryError(
                'A value is still encrypted by the KeePass database (Protected="True"); '
                "export it as XML from KeePass or KeePassXC"
            )
        if len(value) > limits.max_field_chars or len(key) > limits.max_field_chars:
            raise _EntryError(f"A value is longer than {limits.max_field_chars:,} characters")
        protect = value_element is not None and (
            value_element.get("ProtectInMemory", "").lower() == "true"
        )
        if key:
            strings.append((key, value, protect))
    return strings


class _EntryError(ValueError):
    pass


def _entry(entry: Element, group: _Group, limits: ImportLimits, *, where: str):
    try:
        strings = _strings(entry, limits)
        history = _history(entry, limits, current=_value(strings, "Password"))
    except _EntryError as exc:
        return RowError(where, f"{exc}; skipped.")
    by_key = {key: value for key, value, _ in strings}
    uris = [by_key.get("URL", "").strip()]
    custom: list[CustomField] = []
    for key, value, protect in strings:
        if key in STANDARD_KEYS or (key == "TimeOtp-Secret-Base32" and not by_key.get("otp")):
            continue
        if key.startswith(EXTRA_URL_PREFIX):
            uris.append(value.strip())
            continue
        if not value.strip():
            continue  # as Bitwarden: empty strings are not kept
        kind = CustomFieldKind.HIDDEN if protect else CustomFieldKind.TEXT
        custom.append(CustomField(id=CustomField.new_id(), name=key, kind=kind, value=value))
    totp = next((by_key[key].strip() for key in TOTP_KEYS if by_key.get(key, "").strip()), "")
    if totp.startswith("key="):  # KeeOtp's "key=BASE32&step=30&size=6", as Bitwarden reads it
        totp = totp[4:].split("&", 1)[0]
    content = login(
        name_or_default(by_key.get("Title")),
        username=by_key.get("UserName", ""),
        password=by_key.get("Password", ""),
        totp=totp,
        uris=tuple(LoginUri(uri) for uri in dict.fromkeys(uris) if uri),
        notes=by_key.get("Notes", ""),
        custom_fields=tuple(custom),
    )
    if not content.fields and not content.uris and not content.custom_fields and not history:
        content = secure_note(content.name, content.notes)  # a KeePass entry used as a note
    else:
        content = replace(content, password_history=history)
    return ParsedItem(content=content, collections=(group.path,) if group.path else (), where=where)


def _value(strings: list[tuple[str, str, bool]], key: str) -> str:
    return next((value for k, value, _ in strings if k == key), "")


def _history(entry: Element, limits: ImportLimits, *, current: str) -> tuple[PasswordChange, ...]:
    """Old passwords of the entry's History, newest first, each once, never the current one."""
    history = entry.find("History")
    if history is None:
        return ()
    changes: list[PasswordChange] = []
    seen = {current}
    for old in reversed(history.findall("Entry")):
        password = _value(_strings(old, limits), "Password")
        if not password or password in seen:
            continue
        seen.add(password)
        changed_at = _time(old.findtext("Times/LastModificationTime") or "")
        changes.append(PasswordChange(password=password, changed_at=changed_at))
        if len(changes) == PASSWORD_HISTORY_MAX:
            break
    return tuple(changes)


def _time(text: str) -> str:
    """An ISO 8601 time from KeePass's ISO text or its base64 seconds (KDBX 4); "" if neither."""
    text = text.strip()
    if not text:
        return ""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            raw = base64.b64decode(text, validate=True)
            if len(raw) != 8:
                return ""
            moment = _KEEPASS_EPOCH + timedelta(seconds=struct.unpack("<q", raw)[0])
        except (binascii.Error, ValueError, OverflowError, struct.error):
            return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.isoformat()


FORMAT = register(Format(key="keepass_xml", label=LABEL, parse=parse, detect=detect))
