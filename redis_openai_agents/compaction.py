"""The Agents SDK's compaction hook: replace a conversation's newest items atomically.

`OpenAIResponsesCompactionSession` summarises the latest model exchange and replaces the
items it covered with the summary. Over a store that offers `_get_compaction_snapshot`, it
replaces only that suffix, atomically, and skips the replacement when the suffix changed
in between (another process appended, popped or cleared); over any other store it rewrites
the whole history with `clear_session()` and `add_items()`, which another writer can
interleave with. Both session types offer the hook: the snapshot is one read, the
replacement one write-once script that checks the suffix and swaps it.

The hook and `_CompactionSnapshot` are private to the SDK, so the package pins the SDK
versions it was checked against (see `pyproject.toml`); with an SDK that lacks them the
sessions offer no snapshot and the SDK takes its own, non-atomic path.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from agents.items import TResponseInputItem

from . import _exact_json as exact
from . import items as item_codec
from .connection import RedisConnection
from .keys import ConversationKeys
from .scripts import LuaScript

try:
    from agents.memory.session import _CompactionSnapshot as Snapshot
except ImportError:  # pragma: no cover - an SDK outside the supported range
    Snapshot = None  # type: ignore[assignment,misc]

Pruner = Callable[[TResponseInputItem], bool]
"""The SDK's `prune_prefix`: whether an item at the start of the history may be dropped
(EncryptedSession: its envelope has expired)."""

READ = LuaScript("compaction_read")
REPLACE = LuaScript("ttl", "tag_sets", "item_hash", "replace_suffix", write_once=True)
JSON_READ = LuaScript("json_compaction_read")
JSON_REPLACE = LuaScript("json_stamp", "json_replace_suffix", write_once=True)

_JSON_CAPABILITY = "JSON data type (RedisJSON module, JSON.* commands)"
_HEAD_BATCH = 100
_NO_HEAD: tuple[int, str] = (0, "")


def _bytes(value: Any) -> bytes:
    """A reply value as the bytes Redis holds (clients may decode replies to `str`)."""
    return value if isinstance(value, bytes) else str(value).encode("utf-8")


def digest(entries: Iterable[bytes]) -> str:
    """SHA1 of the entries joined by newlines: what the replacing scripts recompute."""
    return hashlib.sha1(b"\n".join(entries)).hexdigest()


def _entry(raw: bytes, seq: bytes | None = None) -> bytes:
    """One item as the scripts digest it: its length, then its bytes, after its seq."""
    body = str(len(raw)).encode() + b"\n" + raw
    return body if seq is None else seq + b"\n" + body


def _own_storage(session: object) -> bool:
    """Whether items are read and written by this package's own methods.

    A subclass that transforms items on their way in or out would be bypassed by a
    replacement that writes them directly, so it offers no snapshot (as the SDK's own
    stores do for their subclasses).
    """
    cls = type(session)
    return all(
        getattr(cls, name).__module__.startswith(__package__ + ".")
        for name in ("get_items", "add_items")
    )


def _check_start(start: object) -> int:
    if not isinstance(start, int) or isinstance(start, bool) or start < 0:
        raise ValueError(f"start must be a non-negative integer, got {start!r}")
    return start


class ConversationCompaction:
    """AgentSession's snapshot: items in hashes, ordered by the conversation's order list.

    The snapshot carries the conversation's `created_at` (a cleared and recreated
    conversation has another) and each item's sequence number and stored bytes; the
    replacing script refuses unless the newest items are exactly those, and keeps the
    count, `updated_at`, the user's list, the expiry and the index fields as an append does.
    """

    user_id: str
    conversation_id: str
    _keys: ConversationKeys
    _entry_prefix: str
    _connection: RedisConnection
    _ttl_ms: int | None
    _with_tags: Callable[[Callable[[], Awaitable[Any]]], Awaitable[Any]]
    _tag_keys: Callable[[], list[str]]

    async def _get_compaction_snapshot(
        self, limit: int, *, prune_prefix: Pruner | None = None
    ) -> Snapshot | None:
        """The newest `limit` items and a replacement of any suffix of them (SDK hook)."""
        if Snapshot is None or not _own_storage(self) or limit < 1:
            return None
        generation, length, seqs, raws = await self._read_range(-limit, -1)
        if any(raw is None for raw in raws):
            return None  # an item listed but missing: leave the history to the SDK
        entries = [_entry(raw, seq) for seq, raw in zip(seqs, raws, strict=True)]
        items = item_codec.decode_many(raws)

        async def replace_suffix(start: int, output: list[TResponseInputItem]) -> bool:
            expected = entries[_check_start(start) :]
            if not expected:
                return False
            batch = item_codec.normalize_items(output)
            args: list[Any] = [
                self._keys.message_prefix,
                self._entry_prefix,
                self.user_id,
                self.conversation_id,
                generation,
                len(expected),
                digest(expected),
            ]
            head = _NO_HEAD
            if prune_prefix is not None:
                head = await self._expired_head(generation, len(expected), prune_prefix)
            args += [*head, len(batch)]
            for item, raw in zip(batch, item_codec.encode_items(batch), strict=True):
                view = item_codec.text_view(item)
                args += [
                    view.role,
                    item_codec.storable_text(view.content),
                    item_codec.storable_text(view.tool_call_id),
                    raw,
                ]
            keys = self._keys
            replaced = await self._with_tags(
                lambda: self._connection.write(
                    REPLACE,
                    keys.write_records,
                    [keys.meta, keys.user_index, keys.order, keys.branches, *self._tag_keys()],
                    args,
                    data_ttl_ms=self._ttl_ms,
                )
            )
            return bool(replaced)

        return Snapshot(items, length <= len(seqs), replace_suffix)

    async def _read_range(self, first: int, last: int) -> tuple[bytes, int, list[bytes], list[Any]]:
        keys = [self._keys.meta, self._keys.order]
        args = [self._keys.message_prefix, first, last]
        generation, length, seqs, raws = await self._connection.call(
            lambda client: READ(client, keys, args)
        )
        found = [None if raw is None else _bytes(raw) for raw in raws]
        return _bytes(generation), int(length), [_bytes(s) for s in seqs], found

    async def _expired_head(self, generation: bytes, suffix: int, prune: Pruner) -> tuple[int, str]:
        """The run of items at the start that `prune` accepts, before the suffix."""
        entries: list[bytes] = []
        while True:
            position = len(entries)
            seen, length, seqs, raws = await self._read_range(position, position + _HEAD_BATCH - 1)
            if seen != generation:
                return _NO_HEAD
            for seq, raw in zip(seqs, raws, strict=True):
                if position >= length - suffix or raw is None or not prune(item_codec.decode(raw)):
                    return len(entries), digest(entries)
                entries.append(_entry(raw, seq))
                position += 1
            if len(seqs) < _HEAD_BATCH:
                return len(entries), digest(entries)


class DocumentCompaction:
    """JSONSession's snapshot: items in the document's `items` array.

    The snapshot carries the document's `created_at` and each item's text as RedisJSON
    returns it; the replacing script refuses unless the newest items are exactly those,
    and sets the new array with one `JSON.SET`, so a refused value changes nothing.
    """

    key: str
    _write_records: str
    _connection: RedisConnection
    _ttl_ms: int | None

    async def _get_compaction_snapshot(
        self, limit: int, *, prune_prefix: Pruner | None = None
    ) -> Snapshot | None:
        """The newest `limit` items and a replacement of any suffix of them (SDK hook)."""
        if Snapshot is None or not _own_storage(self) or limit < 1:
            return None
        generation, length, raws = await self._read_items(-limit, limit)
        entries = [_entry(raw) for raw in raws]
        items = [exact.restore(item_codec.decode(raw)[0]) for raw in raws]

        async def replace_suffix(start: int, output: list[TResponseInputItem]) -> bool:
            expected = entries[_check_start(start) :]
            if not expected:
                return False
            batch = item_codec.normalize_items(output)
            encoded = [item_codec.encode_item(item, exact.encode) for item in batch]
            head = _NO_HEAD
            if prune_prefix is not None:
                head = await self._expired_head(generation, len(expected), prune_prefix)
            ttl = "" if self._ttl_ms is None else self._ttl_ms
            args = [ttl, generation, len(expected), digest(expected), *head, *encoded]
            replaced = await self._connection.write(
                JSON_REPLACE,
                self._write_records,
                [self.key],
                args,
                _JSON_CAPABILITY,
                data_ttl_ms=self._ttl_ms,
            )
            return bool(replaced)

        return Snapshot(items, length <= len(raws), replace_suffix)

    async def _read_items(self, first: int, most: int) -> tuple[bytes, int, list[bytes]]:
        keys, args = [self.key], [first, most]
        generation, length, raws = await self._connection.call(
            lambda client: JSON_READ(client, keys, args), _JSON_CAPABILITY
        )
        return _bytes(generation), int(length), [_bytes(raw) for raw in raws]

    async def _expired_head(self, generation: bytes, suffix: int, prune: Pruner) -> tuple[int, str]:
        """The run of items at the start that `prune` accepts, before the suffix."""
        entries: list[bytes] = []
        while True:
            seen, length, raws = await self._read_items(len(entries), _HEAD_BATCH)
            if seen != generation:
                return _NO_HEAD
            for raw in raws:
                item = exact.restore(item_codec.decode(raw)[0])
                if len(entries) >= length - suffix or not prune(item):
                    return len(entries), digest(entries)
                entries.append(_entry(raw))
            if len(raws) < _HEAD_BATCH:
                return len(entries), digest(entries)
