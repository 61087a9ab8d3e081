"""The org's item names in a few encrypted blobs, so that a search opens a handful of values.

Names are ciphertext in the database, one per item, so a search that opened them
one by one would cost one AES-GCM open (and a Python round) per item of the org.
The name index keeps the same names a second time, gathered into segments:

- A segment is a `NameIndexSegment` row: item ids, a short tag of each item's name
  ciphertext, and the names, as one AES-GCM value under one of the org's data keys
  (associated data: org, segment id, the purpose `name-index` and whether it is
  complete), like an item's fields (`vault.keys.encrypt_field`). The data key row's
  tag is checked before it is used, so someone who can write rows but holds no KEK
  cannot plant names.
- Every write that gives an item a name appends a segment in its own transaction:
  `item_create` and `item_update` (one entry, under the members' data key), an import
  (its batch, under the import's own data key: imports stay write-only).
- An entry counts only while its tag equals the last bytes of the item's current name
  ciphertext (the AES-GCM tag, new at every encryption): an entry outlived by an edit,
  or an item whose stored name was swapped, is opened from the item row instead.
  Moves, trash and restore leave the name ciphertext, and so the entry, as they are.
- A `complete` segment was built from every item of the org at one moment; the
  segments written after it cover the rest. New orgs start with an empty complete
  segment (`org_keys_create`); an org without one (older than the index), or with a
  segment that fails to open (recorded like an item that fails), is rebuilt by its
  next search. So is an org whose segments passed `COMPACT_AT`: the rebuild reuses
  every entry still valid, opens only the rest, writes one complete segment and
  deletes the segments it replaced.

A search opens the segments with the member's `VaultAccess`, matches the text in
memory, and then asks SQL which of the matching items the member reaches: names of
items the member cannot reach are dropped before anything leaves `vault.selectors`.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from uuid import UUID

import psycopg
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction

from portal.access import VaultAccess

from .crypto import ItemUnreadable, KeyChain, NameRow, open_names
from .keys import DecryptionFailed, decrypt_field, encrypt_field
from .models import DataKey, Item, NameIndexSegment

logger = logging.getLogger("vault")

PURPOSE = "name-index"
_HITS_DECODED_ONE_BY_ONE = 200  # past this many matches, decoding every name is quicker
COMPACT_AT = 16  # segments; past this a search rebuilds the org's index into one
TAG_LENGTH = 8  # bytes of the name ciphertext's 16-byte AES-GCM tag: enough to tell versions apart


def name_tag(name_ciphertext: bytes | memoryview) -> bytes:
    """What an entry records of the item's name ciphertext: the end of its AES-GCM tag."""
    return bytes(name_ciphertext[-TAG_LENGTH:])


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------

# (item id, name ciphertext, name)
Entry = tuple[UUID, bytes, str]


def _plaintext(entries: Iterable[tuple[bytes, bytes, str]]) -> bytes:
    """The count (4 bytes), the ids (16 bytes each), the tags, then a JSON string a line.

    JSON escapes every control character, so a raw newline is only ever a separator. A
    search looks for its text in that text itself (`_Opened.hits`) and decodes only the
    names found: 30,000 names cost a few C calls, not 30,000 steps.
    """
    ids, tags, names = [], [], []
    for key, tag, name in entries:
        ids.append(key)
        tags.append(tag)
        names.append(name)
    head = len(names).to_bytes(4, "big") + b"".join(ids) + b"".join(tags)
    return head + _lines(names).encode()


def _lines(names: list[str]) -> str:
    return "\n".join(json.dumps(name, ensure_ascii=False) for name in names)


def _seal(
    *,
    org_id: UUID,
    data_key_row: DataKey,
    data_key: bytes,
    entries: Iterable[tuple[bytes, bytes, str]],
    complete: bool,
) -> NameIndexSegment:
    segment_id = uuid.uuid4()
    entries = list(entries)
    ciphertext = encrypt_field(
        _plaintext(entries),
        data_key=data_key,
        org_id=org_id,
        item_id=segment_id,
        field=_field(complete=complete),
    )
    return NameIndexSegment(
        id=segment_id,
        org_id=org_id,
        data_key=data_key_row,
        complete=complete,
        entries=len(entries),
        ciphertext=ciphertext,
    )


def _field(*, complete: bool) -> str:
    # Whether a segment covers the whole org is sealed with it: a row flipped to
    # "complete" (to hide the names written before it) no longer opens.
    return f"{PURPOSE}|complete" if complete else PURPOSE


def names_record(
    *, org_id: UUID, data_key_row: DataKey, data_key: bytes, entries: Iterable[Entry]
) -> None:
    """Append the names just written (call it in the transaction that writes the items)."""
    rows = [(item_id.bytes, name_tag(blob), name) for item_id, blob, name in entries]
    if rows:
        _seal(
            org_id=org_id,
            data_key_row=data_key_row,
            data_key=data_key,
            entries=rows,
            complete=False,
        ).save(force_insert=True)


def index_start(*, org_id: UUID, data_key_row: DataKey, data_key: bytes) -> None:
    """A new org's index: complete, and empty."""
    _seal(
        org_id=org_id, data_key_row=data_key_row, data_key=data_key, entries=[], complete=True
    ).save(force_insert=True)


# --------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------


@dataclass
class _Opened:
    ids: bytes  # 16 bytes an item
    tags: bytes  # TAG_LENGTH bytes an item
    lines: str  # a JSON string a line: '"name"\n"name"'
    _names: list[str] | None = None

    @property
    def names(self) -> list[str]:
        if self._names is None:
            self._names = json.loads("[" + self.lines.replace("\n", ",") + "]")
        return self._names

    def key(self, i: int) -> bytes:
        return self.ids[i * 16 : (i + 1) * 16]

    def tag(self, i: int) -> bytes:
        return self.tags[i * TAG_LENGTH : (i + 1) * TAG_LENGTH]

    def hits(self, term: str) -> list[tuple[int, str]]:
        """(position, name) of every name containing the casefolded `term`."""
        if not term or any(c in '"\\' or c < " " for c in term):
            # Characters JSON escapes are not found as themselves in the text.
            return self._hits_by_name(term)
        text = self.lines
        folded = text.casefold()  # newlines stay newlines: positions of names stay countable
        same_widths = len(folded) == len(text)
        found, index, counted_to = [], 0, 0
        position = folded.find(term)
        while position != -1:
            index += folded.count("\n", counted_to, position)
            start = folded.rfind("\n", 0, position) + 1
            end = folded.find("\n", position)
            end = len(folded) if end == -1 else end
            if same_widths:
                name = json.loads(text[start:end])
            else:  # casefold changed some widths: take the name from the decoded lines
                name = self.names[index]
            if term in name.casefold():  # not the letters of an escape sequence
                found.append((index, name))
                if len(found) > _HITS_DECODED_ONE_BY_ONE:  # most names match: decode them all
                    return self._hits_by_name(term)
            counted_to = end
            position = folded.find(term, end)
        return found

    def _hits_by_name(self, term: str) -> list[tuple[int, str]]:
        return [(i, name) for i, name in enumerate(self.names) if term in name.casefold()]


@dataclass
class NameIndex:
    """The org's opened segments, oldest first. Lives for one request, like a KeyChain."""

    segments: list[_Opened]
    failures: list[ItemUnreadable] = field(default_factory=list)

    def matching(self, term: str) -> Matches:
        """Ids whose indexed name contains the casefolded term, with the newest such entry."""
        matches = Matches()
        for segment in self.segments:
            ids, tags = segment.ids, segment.tags
            found = {
                ids[i * 16 : i * 16 + 16]: (tags[i * TAG_LENGTH : (i + 1) * TAG_LENGTH], name)
                for i, name in segment.hits(term)
            }
            for key in found.keys() & matches.newest.keys():  # rare: an item written again
                matches.earlier.setdefault(key, []).append(matches.newest[key])
            matches.newest.update(found)
        return matches


@dataclass
class Matches:
    """By id bytes: the newest matching entry (tag, name), and the earlier ones, if any.

    The newest is the item's name unless the row changed without the index (a rollback
    of its ciphertext); an entry is shown only once its tag equals the row's.
    """

    newest: dict[bytes, tuple[bytes, str]] = field(default_factory=dict)
    earlier: dict[bytes, list[tuple[bytes, str]]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.newest)

    def name_for(self, key: bytes, tag: bytes) -> str | None:
        """The matching name an entry with this tag records for the item, if one does."""
        newest = self.newest.get(key)
        if newest is not None and newest[0] == tag:
            return newest[1]
        return next(
            (name for entry_tag, name in self.earlier.get(key, ()) if entry_tag == tag), None
        )


def index_for_search(*, access: VaultAccess, keychain: KeyChain) -> NameIndex:
    """The org's name index, opened; rebuilt first when it is incomplete or in many pieces."""
    if not isinstance(access, VaultAccess) or access.org.pk != keychain.org_id:
        raise PermissionDenied("The name index is opened with the org's vault access only.")
    segments = _segments_of(keychain.org_id)
    index = _open_segments(segments, keychain)
    opened_complete = any(
        s.complete for s, opened in zip(segments, index.segments, strict=True) if opened
    )
    index.segments = [opened for opened in index.segments if opened is not None]
    # A segment that failed to open leaves its names out: rebuilt (and recorded) too.
    if index.failures or not opened_complete or len(segments) > COMPACT_AT:
        index = _rebuild(access, keychain, segments, index)
    return index


_SEGMENT_COLUMNS = ("id", "org_id", "data_key_id", "complete", "ciphertext")


def _segments_of(org_id: UUID) -> list[NameIndexSegment]:
    """The org's segments, oldest first, in one query.

    On PostgreSQL the rows come in binary: a large org's segment is megabytes, which
    Django's text-protocol cursor would receive as hex at twice the size and parse.
    """
    query = NameIndexSegment.objects.filter(org_id=org_id).order_by("created_at", "pk")
    if connection.vendor != "postgresql":
        return list(query.only(*_SEGMENT_COLUMNS))
    sql, params = query.values_list(*_SEGMENT_COLUMNS).query.sql_with_params()
    connection.ensure_connection()
    started = time.monotonic()
    with psycopg.Cursor(connection.connection) as cursor:
        rows = cursor.execute(sql, params, binary=True).fetchall()
    if connection.queries_logged:  # counted like every other query (pinned in the tests)
        duration = time.monotonic() - started
        connection.queries_log.append({"sql": sql % tuple(params), "time": f"{duration:.3f}"})
    return [NameIndexSegment(**dict(zip(_SEGMENT_COLUMNS, row, strict=True))) for row in rows]


def _open_segments(segments: list[NameIndexSegment], keychain: KeyChain) -> NameIndex:
    keychain.load_data_keys({segment.data_key_id for segment in segments})  # one query
    opened: list[_Opened | None] = []
    failures: list[ItemUnreadable] = []
    for segment in segments:
        try:
            opened.append(_open_segment(segment, keychain))
        except ItemUnreadable as failure:
            opened.append(None)
            failures.append(failure)
    return NameIndex(segments=opened, failures=failures)  # type: ignore[arg-type]


def _open_segment(segment: NameIndexSegment, keychain: KeyChain) -> _Opened:
    data_key = keychain.data_key(segment.data_key_id)  # ItemUnreadable for a planted key
    try:
        plaintext = decrypt_field(
            segment.ciphertext,
            data_key=data_key,
            org_id=segment.org_id,
            item_id=segment.pk,
            field=_field(complete=segment.complete),
        )
        count = int.from_bytes(plaintext[:4], "big")
        lines_at = 4 + (16 + TAG_LENGTH) * count
        ids, tags = plaintext[4 : 4 + 16 * count], plaintext[4 + 16 * count : lines_at]
        lines = plaintext[lines_at:].decode()
    except (DecryptionFailed, ValueError) as exc:
        raise ItemUnreadable(
            "name index segment", org_id=segment.org_id, data_key_id=segment.data_key_id
        ) from exc
    opened = _Opened(ids=ids, tags=tags, lines=lines)
    names_counted = lines.count("\n") + 1 if lines else 0
    if len(ids) != 16 * count or len(tags) != TAG_LENGTH * count or names_counted != count:
        raise ItemUnreadable(
            "name index segment (malformed)", org_id=segment.org_id, data_key_id=segment.data_key_id
        )
    return opened


def name_index_verify(*, org_id: UUID, keychain: KeyChain) -> list[ItemUnreadable]:
    """For `verify_vault`: every segment of the org that fails to open."""
    return _open_segments(_segments_of(org_id), keychain).failures


def _rebuild(access, keychain, segments: list[NameIndexSegment], index: NameIndex) -> NameIndex:
    """One complete segment from every item of the org: valid entries reused, the rest opened.

    The item rows are read after the segments, so every segment read describes items
    no newer than the rows: deleting them loses nothing. Segments written meanwhile
    were not read, and stay.
    """
    known: dict[bytes, tuple[bytes, str]] = {}
    for opened in index.segments:  # oldest first: a newer entry replaces an older one
        for i, name in enumerate(opened.names):
            known[opened.key(i)] = (opened.tag(i), name)
    rows = Item.objects.filter(org_id=keychain.org_id).values_list(
        "pk", "data_key_id", "name_ciphertext"
    )
    entries: list[tuple[bytes, bytes, str]] = []
    to_open: list[NameRow] = []
    for item_id, data_key_id, blob in rows:
        tag = name_tag(blob)
        entry = known.get(item_id.bytes)
        if entry is not None and entry[0] == tag:
            entries.append((item_id.bytes, tag, entry[1]))
        else:
            to_open.append((item_id, data_key_id, bytes(blob)))
    opened, failures = open_names(access, to_open, keychain)
    for item_id, _data_key_id, blob in to_open:
        if item_id in opened:
            entries.append((item_id.bytes, name_tag(blob), opened[item_id]))
    data_key_row, data_key = keychain.members_data_key()
    fresh = _seal(
        org_id=keychain.org_id,
        data_key_row=data_key_row,
        data_key=data_key,
        entries=entries,
        complete=True,
    )
    try:
        with transaction.atomic():
            fresh.save(force_insert=True)
            NameIndexSegment.objects.filter(pk__in=[s.pk for s in segments]).delete()
    except DatabaseError as exc:  # a concurrent rebuild of the same segments, say
        # The search goes on with what it rebuilt; the next one writes it.
        logger.warning("Name index of org %s not saved: %s.", keychain.org_id, type(exc).__name__)
    logger.info(
        "Rebuilt the name index of org %s: %d names, %d opened from their items.",
        keychain.org_id,
        len(entries),
        len(to_open),
    )
    names = [e[2] for e in entries]
    rebuilt = _Opened(
        ids=b"".join(e[0] for e in entries),
        tags=b"".join(e[1] for e in entries),
        lines=_lines(names),
        _names=names,
    )
    return NameIndex(segments=[rebuilt], failures=index.failures + failures)
