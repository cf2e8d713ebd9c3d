"""The RedisVL MessageHistory index over every conversation under one key prefix."""

from __future__ import annotations

import time
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import MovedError, RedisError
from redisvl.exceptions import RedisSearchError
from redisvl.index import AsyncSearchIndex
from redisvl.schema import IndexSchema

from .keys import TAG_SEPARATOR, message_index_name, message_index_prefix
from .topology import on_every_master

RECHECK_SECONDS = 60.0

_checked_at: dict[tuple[str, str], float] = {}


def message_index_schema(prefix: str) -> IndexSchema:
    """The index MessageHistory queries, so `MessageHistory(name=..., create_index=False)`
    reads our conversations: every hash carries all of MessageHistory's fields.

    It indexes what MessageHistory filters and sorts on, as cheap tag and numeric fields.
    `session_tag` is case-sensitive and split only on a control character ids may not
    contain, because ids differing only in case or containing commas are different
    conversations; `timestamp` is sortable, so newest-first queries need no sort. The
    extra `user_tag` scopes a query to one user: conversation ids are per user, so the
    same `session_tag` may name conversations of several users.
    `content` and `metadata` are stored in each hash and returned by queries but not
    tokenized: full-text indexing would triple the server's cost of every append. To
    search message text, create a second index with `content` as TEXT over the same prefix.
    """
    return IndexSchema.from_dict(
        {
            "index": {
                "name": message_index_name(prefix),
                # Ends at the separator: `roa:msg` alone would also index `roa:msgx...`.
                "prefix": f"{message_index_prefix(prefix)}:",
                "storage_type": "hash",
            },
            "fields": [
                {"name": "role", "type": "tag"},
                {"name": "tool_call_id", "type": "tag"},
                {"name": "timestamp", "type": "numeric", "attrs": {"sortable": True}},
                {
                    "name": "session_tag",
                    "type": "tag",
                    "attrs": {"case_sensitive": True, "separator": TAG_SEPARATOR},
                },
                {
                    "name": "user_tag",
                    "type": "tag",
                    "attrs": {"case_sensitive": True, "separator": TAG_SEPARATOR},
                },
            ],
        }
    )


def check_is_due(server: str, prefix: str) -> bool:
    """Whether `ensure_message_index` would check the server now (cheap, no I/O)."""
    return time.monotonic() - _checked_at.get((server, prefix), -RECHECK_SECONDS) >= RECHECK_SECONDS


async def ensure_message_index(client: aioredis.Redis, server: str, prefix: str) -> None:
    """Create the index if it is missing, checking at most once a minute per server.

    Checking on every write would double its round trips; checking only once per process
    would never bring back an index dropped (or flushed) while the process runs. On a
    cluster each master is asked, the master set read afresh each time, because each
    master's Query Engine indexes only its own keys.
    An index created by earlier versions covers the prefix without its final separator
    (`roa:msg`, which also matches other applications' `roa:msgx` keys): it is recreated
    over `roa:msg:` (dropping the index only, never the documents), and the server
    re-indexes the existing messages in the background.
    """
    key = (server, prefix)
    now = time.monotonic()
    if now - _checked_at.get(key, -RECHECK_SECONDS) < RECHECK_SECONDS:
        return
    await on_every_master(client, lambda node: _create_on(node, prefix))
    _checked_at[key] = now


async def _create_on(client: aioredis.Redis, prefix: str) -> bool:
    """Create the index on one server; False where a cluster node routes it elsewhere.

    The Query Engine of Redis Stack has no cross-shard coordinator and treats the index
    name as a key: only the master owning the slot of that name accepts it, and the others
    answer MOVED.
    """
    schema = message_index_schema(prefix)
    index = AsyncSearchIndex(schema, redis_client=client)
    try:
        overwrite = await index.exists() and await _covers_other_prefixes(
            client, schema.index.name, f"{message_index_prefix(prefix)}:"
        )
        await index.create(overwrite=overwrite)
    except RedisSearchError as exc:
        if isinstance(exc.__cause__, MovedError) or str(exc).startswith("MOVED"):
            return False
        if "already exists" not in str(exc).lower():
            if isinstance(exc.__cause__, RedisError):
                raise exc.__cause__ from None
            raise
    return True


async def _covers_other_prefixes(client: aioredis.Redis, name: str, wanted: str) -> bool:
    """Whether the existing index covers other key prefixes than `wanted` (FT.INFO)."""
    try:
        info = await client.execute_command("FT.INFO", name)  # type: ignore[no-untyped-call]
    except RedisError:
        return False
    definition = _field(info, "index_definition") or []
    prefixes = _field(definition, "prefixes") or []
    found = [p.decode() if isinstance(p, bytes) else str(p) for p in prefixes]
    return found != [wanted]


def _field(reply: Any, name: str) -> Any:
    """A field of an FT.INFO reply, parsed (a dict) or raw (a flat list)."""
    if not isinstance(reply, dict):
        reply = dict(zip(reply[::2], reply[1::2], strict=False))
    return reply.get(name, reply.get(name.encode()))


def forget_message_indexes() -> None:
    """Check for the index again on the next write (after FLUSHALL, say)."""
    _checked_at.clear()
