"""The opt-in full-text index over message text: created, dropped and awaited in one place.

The message index (`index.py`) leaves `content` untokenized, so that appends stay cheap for
applications that never search. This second index covers the same message hashes under
the same key prefix, with `content` as TEXT: creating it changes nothing on the write path
(the hashes already hold `content`); from then on the server tokenizes every message
written under that prefix, and it indexes the ones already stored in the background.
"""

from __future__ import annotations

import redis.asyncio as aioredis
from redis.commands.search.field import Field, NumericField, TagField, TextField

from .index import (
    create_hash_index,
    drop_indexes_everywhere,
    drop_unused_indexes,
    shard_index_name,
    wait_until_indexed,
)
from .keys import TAG_SEPARATOR, message_index_name, message_index_prefix, search_index_name
from .topology import AsyncClient, MasterShard, master_shards

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


def search_index_name_on(prefix: str, shard: MasterShard) -> str:
    """The search index's name on one master: `roa:search` on a single server, and on a
    cluster `roa:search{7}`, with the hash tag the message index uses on that master
    (`index.shard_index_name`). The Query Engine of Redis Stack has no cross-shard
    coordinator and treats an index name as a key: each master indexes only its own keys,
    and accepts only a name whose slot it serves."""
    tag = shard_index_name(prefix, shard)[len(message_index_name(prefix)) :]
    return search_index_name(prefix) + tag


async def create_search_index(client: AsyncClient, prefix: str) -> list[bool]:
    """Create the index on every master serving slots; per master, whether it has it.

    A master also drops the search indexes it no longer uses (a name left behind when
    slots moved), so that one index per master does the tokenizing. False marks a master
    whose name's slot moved away meanwhile.
    """
    found: list[bool] = []
    async with master_shards(client) as shards:
        for shard in shards:
            if shard.slots is not None and not shard.slots:
                continue
            name = search_index_name_on(prefix, shard)
            await drop_unused_indexes(shard, search_index_name(prefix), keep=name)
            found.append(await _create_on(shard.client, prefix, name))
    return found


async def _create_on(client: aioredis.Redis, prefix: str, name: str) -> bool:
    return await create_hash_index(
        client,
        name,
        f"{message_index_prefix(prefix)}:",
        search_index_fields(),
        stopwords=sorted(STOP_WORDS),
    )


async def drop_search_index(client: AsyncClient, prefix: str) -> bool:
    """Drop the index (never the messages) wherever it exists; whether one was dropped."""
    return await drop_indexes_everywhere(client, search_index_name(prefix))


async def wait_until_search_indexed(client: AsyncClient, prefix: str, timeout: float) -> int:
    """Wait (up to `timeout` s) for the background indexing of stored messages to finish.

    Returns how many messages the index holds, over every master.
    """
    return await wait_until_indexed(
        client, lambda shard: search_index_name_on(prefix, shard), timeout
    )


def is_missing_index(exc: BaseException) -> bool:
    """Whether Redis answered that the index does not exist (wording varies by version)."""
    message = str(exc).lower()
    return "no such index" in message or "unknown index name" in message
