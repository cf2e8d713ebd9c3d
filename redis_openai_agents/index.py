"""The RedisVL MessageHistory index over every conversation under one key prefix."""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from redisvl.exceptions import RedisSearchError
from redisvl.index import AsyncSearchIndex
from redisvl.schema import IndexSchema

from .keys import TAG_SEPARATOR, message_index_name, message_index_prefix

_ready: set[tuple[str, str]] = set()


def message_index_schema(prefix: str) -> IndexSchema:
    """MessageHistory's fields, so `MessageHistory(name=..., create_index=False)` reads ours.

    Two deliberate differences: `session_tag` is case-sensitive and split only on a control
    character ids may not contain, because conversation ids differing only in case or
    containing commas are different conversations; and `timestamp` is sortable, so
    MessageHistory's newest-first queries do not sort a whole conversation each time.
    The full SDK item lives in `metadata`, which is stored but not tokenized.
    """
    return IndexSchema.from_dict(
        {
            "index": {
                "name": message_index_name(prefix),
                "prefix": message_index_prefix(prefix),
                "storage_type": "hash",
            },
            "fields": [
                {"name": "role", "type": "tag"},
                {"name": "content", "type": "text"},
                {"name": "tool_call_id", "type": "tag"},
                {"name": "timestamp", "type": "numeric", "attrs": {"sortable": True}},
                {
                    "name": "session_tag",
                    "type": "tag",
                    "attrs": {"case_sensitive": True, "separator": TAG_SEPARATOR},
                },
            ],
        }
    )


async def ensure_message_index(client: aioredis.Redis, server: str, prefix: str) -> None:
    """Create the index once per server and prefix in this process, if it is missing."""
    key = (server, prefix)
    if key in _ready:
        return
    index = AsyncSearchIndex(message_index_schema(prefix), redis_client=client)
    try:
        await index.create(overwrite=False)
    except RedisSearchError as exc:
        if "already exists" not in str(exc).lower():
            if isinstance(exc.__cause__, RedisError):
                raise exc.__cause__ from None
            raise
    _ready.add(key)


def forget_message_indexes() -> None:
    """Drop the per-process memory of created indexes (after FLUSHALL in tests)."""
    _ready.clear()
