"""Readers for the stores users arrive from: the SDK's SQLite and Redis sessions, 0.1.0.

Each reader only reads: it opens SQLite files read-only and sends Redis nothing but
SCAN, LRANGE, FT.INFO and a script of HMGETs, so a source can be imported from while the old
application still runs, and imported again later to bring over what it wrote meanwhile.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

from redis.exceptions import ResponseError

from .. import scripts
from ..connection import RedisClient, RedisConnection
from ..errors import TransferSourceError
from .conversation import Conversation

_SQL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_GLOB_SPECIALS = re.compile(r"([*?\[\]\\])")
_SCAN_COUNT = 1000
_BATCH = 500
_HISTORY_FIELDS = ("session_tag", "role", "content", "timestamp", "entry_id", "tool_call_id")


def _glob_escape(text: str) -> str:
    return _GLOB_SPECIALS.sub(r"\\\1", text)


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _parse_item(raw: str | bytes) -> dict[str, Any] | None:
    """One stored item, or None for a row the SDK itself would skip as corrupt."""
    try:
        item = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return item if isinstance(item, dict) else None


def _conversation(conversation_id: str, raws: list[Any], **metadata: Any) -> Conversation:
    parsed = [_parse_item(raw) for raw in raws]
    items = [item for item in parsed if item is not None]
    if len(items) != len(parsed):
        metadata["unreadable_items"] = len(parsed) - len(items)
    return Conversation(conversation_id, items, metadata=metadata)


def read_sqlite(
    path: str | Path,
    *,
    sessions_table: str = "agent_sessions",
    messages_table: str = "agent_messages",
) -> Iterator[Conversation]:
    """Every session of an SDK `SQLiteSession` (or `AdvancedSQLiteSession`) database file.

    Sessions come in id order, items in the order the SDK stored them; rows the SDK would
    skip as corrupt are skipped too and counted in `metadata["unreadable_items"]`.

    Raises:
        TransferSourceError: The file is missing, is not SQLite, or lacks the tables.
    """
    for name in (sessions_table, messages_table):
        if not _SQL_NAME.match(name):
            raise TransferSourceError(f"{name!r} is not a plain SQLite table name")
    file = Path(path)
    if not file.is_file():
        raise TransferSourceError(f"{file}: no such SQLite database file")
    try:
        db = sqlite3.connect(f"{file.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise TransferSourceError(f"{file}: cannot open it as SQLite ({exc})") from None
    try:
        try:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        except sqlite3.DatabaseError as exc:
            raise TransferSourceError(f"{file}: not a SQLite database ({exc})") from None
        if messages_table not in tables:
            raise TransferSourceError(
                f"{file}: no table {messages_table!r}; is it an Agents SDK SQLiteSession database?"
            )
        times: dict[str, tuple[Any, Any]] = {}
        if sessions_table in tables:
            query = f"SELECT session_id, created_at, updated_at FROM {sessions_table}"
            times = {row[0]: (row[1], row[2]) for row in db.execute(query)}
        ids = [
            row[0]
            for row in db.execute(
                f"SELECT DISTINCT session_id FROM {messages_table} ORDER BY session_id"
            )
        ]
        ids += sorted(set(times) - set(ids))
        for session_id in ids:
            rows = db.execute(
                f"SELECT message_data FROM {messages_table} WHERE session_id = ? ORDER BY id",
                (session_id,),
            )
            created, updated = times.get(session_id, (None, None))
            yield _conversation(
                str(session_id), [row[0] for row in rows], created_at=created, updated_at=updated
            )
    finally:
        db.close()


async def read_redis_sessions(
    key_prefix: str = "agents:session",
    *,
    redis_url: str | None = None,
    redis_client: RedisClient | None = None,
) -> AsyncIterator[Conversation]:
    """Every session the SDK's `RedisSession` stored under `key_prefix`.

    It keeps each session's items in a list at `<key_prefix>:<session_id>:messages`.

    Raises:
        RedisUnavailableError: The server cannot be reached.
    """
    connection = RedisConnection(redis_url, redis_client)
    suffix = ":messages"
    start = len(key_prefix) + 1
    try:
        async with connection.errors():
            client = connection.client()
            keys = sorted(
                {
                    _text(key)
                    async for key in client.scan_iter(
                        match=f"{_glob_escape(key_prefix)}:*{suffix}",
                        count=_SCAN_COUNT,
                        _type="list",
                    )
                }
            )
        for key in keys:
            async with connection.errors():
                raws = await client.lrange(key, 0, -1)
            yield _conversation(key[start : -len(suffix)], raws)
    finally:
        await connection.aclose()


async def read_message_history(
    name: str = "agent_sessions",
    *,
    redis_url: str | None = None,
    redis_client: RedisClient | None = None,
) -> AsyncIterator[Conversation]:
    """Every conversation in a RedisVL `MessageHistory` index, such as 0.1.0's.

    redis-openai-agents 0.1.0 kept all conversations in the index `agent_sessions`, one
    hash per message with `role` and `content`, its conversation id as `session_tag`.
    Messages are ordered by their `timestamp`, as MessageHistory orders them.

    Raises:
        TransferSourceError: The server has no index of that name.
        RedisUnavailableError: The server cannot be reached.
    """
    connection = RedisConnection(redis_url, redis_client)
    try:
        async with connection.errors():
            client = connection.client()
            try:
                info = await client.execute_command("FT.INFO", name)  # type: ignore[no-untyped-call]
            except ResponseError as exc:
                if "unknown index" in str(exc).lower() or "no such index" in str(exc).lower():
                    raise TransferSourceError(
                        f"no MessageHistory index {name!r} at {connection.display_url}"
                    ) from None
                raise
            prefixes = _index_prefixes(info) or [name]
            grouped: dict[str, list[tuple[float, str, dict[str, str]]]] = {}
            for prefix in prefixes:
                pattern = f"{_glob_escape(prefix.rstrip(':'))}:*"
                keys = [
                    key
                    async for key in client.scan_iter(
                        match=pattern, count=_SCAN_COUNT, _type="hash"
                    )
                ]
                for start in range(0, len(keys), _BATCH):
                    rows = await scripts.HISTORY_READ(
                        client, keys[start : start + _BATCH], list(_HISTORY_FIELDS)
                    )
                    for values in json.loads(rows):
                        fields = dict(zip(_HISTORY_FIELDS, values, strict=True))
                        if not fields["session_tag"] or not fields["role"]:
                            continue
                        order = (float(fields["timestamp"] or 0), fields["entry_id"])
                        grouped.setdefault(fields["session_tag"], []).append((*order, fields))
        for conversation_id in sorted(grouped):
            items = []
            for _, _, fields in sorted(grouped[conversation_id], key=lambda row: row[:2]):
                item: dict[str, Any] = {
                    "role": fields["role"],
                    "content": fields.get("content", ""),
                }
                if fields.get("tool_call_id"):
                    item["tool_call_id"] = fields["tool_call_id"]
                items.append(item)
            yield Conversation(conversation_id, items)
    finally:
        await connection.aclose()


def _index_prefixes(info: Any) -> list[str]:
    """The key prefixes in an FT.INFO reply (a flat list of names and values)."""
    pairs = dict(zip(info[::2], info[1::2], strict=False)) if isinstance(info, list) else {}
    definition = {_text(k): v for k, v in pairs.items()}.get("index_definition")
    if not isinstance(definition, list):
        return []
    fields = {_text(k): v for k, v in zip(definition[::2], definition[1::2], strict=False)}
    return [_text(p) for p in fields.get("prefixes") or []]
