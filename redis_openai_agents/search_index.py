"""The opt-in full-text index over message text: created, dropped and awaited in one place.

The message index (`index.py`) leaves `content` untokenized, so that appends stay cheap for
applications that never search. This second index covers the same message hashes under
the same key prefix, with `content` as TEXT: creating it changes nothing on the write path
(the hashes already hold `content`); from then on the server tokenizes every message
written under that prefix, and it indexes the ones already stored in the background.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import redis.asyncio as aioredis
from redis.commands.search.field import Field, NumericField, TagField, TextField
from redis.commands.search.index_definition import IndexDefinition, IndexType
from redis.exceptions import MovedError, ResponseError

from .keys import TAG_SEPARATOR, message_index_prefix, search_index_name
from .topology import on_every_master

INDEXING_POLL_SECONDS = 0.02
SORT_TIME = "sort_time"
STOP_WORDS = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into",
        "is", "it", "no", "not", "of", "on", "or", "such", "that", "the", "their", "then",
        "there", "these", "they", "this", "to", "was", "will", "with",
    }
)  # fmt: skip
"""Words too common to index: the Query Engine's default English list, given explicitly so
that queries can drop them too (a query of stop words alone would otherwise match all)."""


def search_index_fields() -> list[Field]:
    """`content` as TEXT (English stemming and stop words, BM25 scoring), beside the tags
    that scope a query to one user, one conversation or one role, and a sortable copy of
    `timestamp` for newest-first results. Tag fields are case-sensitive and split only on
    a character ids may not contain, as in the message index. The sortable copy is named
    `sort_time` (`timestamp AS sort_time`): the Query Engine returns a sortable field's
    value rounded to 12 digits (10 ms), while `timestamp` itself is then read exact."""
    return [
        TextField("content"),
        TagField("user_tag", separator=TAG_SEPARATOR, case_sensitive=True),
        TagField("session_tag", separator=TAG_SEPARATOR, case_sensitive=True),
        TagField("role"),
        NumericField("timestamp", as_name=SORT_TIME, sortable=True),
    ]


async def create_search_index(client: aioredis.Redis, prefix: str) -> list[bool]:
    """Create the index on every master where it is missing; per master, whether it has it.

    The Query Engine of Redis Stack has no cross-shard coordinator and treats the index
    name as a key: on a cluster only the master owning the slot of the name accepts it,
    and the others answer MOVED (False here).
    """
    return await on_every_master(client, lambda node: _create_on(node, prefix))


async def _create_on(client: aioredis.Redis, prefix: str) -> bool:
    definition = IndexDefinition(  # type: ignore[no-untyped-call]
        prefix=[f"{message_index_prefix(prefix)}:"], index_type=IndexType.HASH
    )
    try:
        await client.ft(search_index_name(prefix)).create_index(
            search_index_fields(), definition=definition, stopwords=sorted(STOP_WORDS)
        )
    except MovedError:
        return False
    except ResponseError as exc:
        if "already exists" not in str(exc).lower():
            raise
    return True


async def drop_search_index(client: aioredis.Redis, prefix: str) -> bool:
    """Drop the index (never the messages) wherever it exists; whether one was dropped."""
    return any(await on_every_master(client, lambda node: _drop_on(node, prefix)))


async def _drop_on(client: aioredis.Redis, prefix: str) -> bool:
    try:
        await client.execute_command("FT.DROPINDEX", search_index_name(prefix))  # type: ignore[no-untyped-call]
    except MovedError:
        return False
    except ResponseError as exc:
        if is_missing_index(exc):
            return False
        raise
    return True


async def wait_until_indexed(client: aioredis.Redis, prefix: str, timeout: float) -> int:
    """Wait (up to `timeout` s) for the background indexing of stored messages to finish.

    Returns how many messages the index holds, over every master that has it.
    """
    deadline = time.monotonic() + timeout
    while True:
        states = [s for s in await on_every_master(client, lambda n: _state(n, prefix)) if s]
        if all(done for done, _ in states) or time.monotonic() > deadline:
            return sum(count for _, count in states)
        await asyncio.sleep(INDEXING_POLL_SECONDS)


async def _state(client: aioredis.Redis, prefix: str) -> tuple[bool, int] | None:
    try:
        info = await client.execute_command("FT.INFO", search_index_name(prefix))  # type: ignore[no-untyped-call]
    except MovedError:
        return None
    if not isinstance(info, dict):
        info = dict(zip(info[::2], info[1::2], strict=False))
    info = {_text(k): v for k, v in info.items()}
    return int(info.get("indexing", 0)) == 0, int(float(info.get("num_docs", 0)))


def is_missing_index(exc: BaseException) -> bool:
    """Whether Redis answered that the index does not exist (wording varies by version)."""
    message = str(exc).lower()
    return "no such index" in message or "unknown index name" in message


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
