"""The opt-in RedisVL MessageHistory index over every conversation under one key prefix.

The sessions never read through it: it exists so that RedisVL's `MessageHistory` (and
`FT.SEARCH`, RedisInsight) can query the message hashes. While it exists, the Query
Engine indexes every message hash written under the prefix, which costs an append a sixth
to a quarter of its time (see the benchmarks), so it is created only on demand:
`AgentSession.enable_message_index` and `AgentSession.message_history`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis.commands.search.index_definition import IndexDefinition, IndexType
from redis.crc import key_slot
from redis.exceptions import MovedError, RedisError, ResponseError
from redisvl.exceptions import RedisSearchError
from redisvl.index import AsyncSearchIndex
from redisvl.schema import IndexSchema

from .errors import RedisUnavailableError
from .keys import TAG_SEPARATOR, hash_tag, message_index_name, message_index_prefix
from .topology import CLUSTER_CLIENT_TYPES, AsyncClient, MasterShard, describe, master_shards

INDEXING_TIMEOUT = 600.0
"""Seconds a wait for background indexing lasts at most (enabling search or the index)."""

INDEXING_POLL_SECONDS = 0.02
"""How often a wait for background indexing asks the server how far it got."""


_RETURNED_FIELDS = ("entry_id", "content", "metadata")
"""What MessageHistory returns besides the filtered fields; stored in the hash, not indexed."""


def message_index_schema(
    prefix: str, name: str | None = None, *, sharded: bool = False
) -> IndexSchema:
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

    `sharded` is the schema of one master of a cluster (see `shard_index_name`): there the
    Query Engine of Redis Stack loads a document's fields only when its key shares the
    slot of the index name, so every field MessageHistory returns is kept sortable, in the
    index itself, and returned from there for the documents of every slot.
    """
    kept = {"sortable": True, "unf": True} if sharded else {}
    fields: list[dict[str, object]] = [
        {"name": "role", "type": "tag", "attrs": {**kept}},
        {"name": "tool_call_id", "type": "tag", "attrs": {**kept}},
        {"name": "timestamp", "type": "numeric", "attrs": {"sortable": True}},
        {
            "name": "session_tag",
            "type": "tag",
            "attrs": {"case_sensitive": True, "separator": TAG_SEPARATOR, **kept},
        },
        {
            "name": "user_tag",
            "type": "tag",
            "attrs": {"case_sensitive": True, "separator": TAG_SEPARATOR},
        },
    ]
    if sharded:
        fields += [
            {"name": field, "type": "text", "attrs": {"no_index": True, **kept}}
            for field in _RETURNED_FIELDS
        ]
    return IndexSchema.from_dict(
        {
            "index": {
                "name": name or message_index_name(prefix),
                # Ends at the separator: `roa:msg` alone would also index `roa:msgx...`.
                "prefix": f"{message_index_prefix(prefix)}:",
                "storage_type": "hash",
            },
            "fields": fields,
        }
    )


def shard_index_name(prefix: str, shard: MasterShard) -> str:
    """The message index's name on one master of a cluster: `roa:messages{7}`.

    The Query Engine of Redis Stack treats an index name as a key, so only the master
    serving the name's slot accepts it; each master's name carries the first hash tag
    (`0`, `1`, ...) of a slot it serves. The name changes only when that slot moves.
    """
    if shard.slots is None:
        return message_index_name(prefix)
    for n in range(_TAG_SEARCH_LIMIT):
        if key_slot(str(n).encode()) in shard.slots:
            return f"{message_index_name(prefix)}{{{n}}}"
    raise ValueError("the master serves no slot")


_TAG_SEARCH_LIMIT = 1 << 20


async def message_index_name_for(client: AsyncClient, prefix: str, user_id: str) -> str:
    """The name of the index that holds `user_id`'s messages, for RedisVL MessageHistory.

    On a single server it is `roa:messages`; on a cluster, the index of the master that
    serves the user's slot (a conversation never spans masters).
    """
    slot = key_slot(hash_tag(user_id).encode())
    async with master_shards(client, refresh=False) as shards:
        for shard in shards:
            if shard.serves(slot):
                return shard_index_name(prefix, shard)
    where = describe(client) if isinstance(client, CLUSTER_CLIENT_TYPES) else "redis"
    raise RedisUnavailableError(where, f"no master serves hash slot {slot} of user {user_id!r}")


async def ensure_message_index(client: AsyncClient, prefix: str) -> list[bool]:
    """Create the index on every master serving slots, if missing; per master, whether
    it has it (False where a cluster moved the name's slot away meanwhile).

    On a cluster each master is asked, the master set read afresh, because each master's
    Query Engine indexes only its own keys.
    An index created by earlier versions covers the prefix without its final separator
    (`roa:msg`, which also matches other applications' `roa:msgx` keys): it is recreated
    over `roa:msg:` (dropping the index only, never the documents), and the server
    re-indexes the existing messages in the background.
    """
    present: list[bool] = []
    async with master_shards(client) as shards:
        for shard in shards:
            if shard.slots is not None:
                if not shard.slots:
                    continue
                await _drop_replaced(shard, prefix)
            present.append(await _create_on(shard, prefix))
    return present


async def drop_message_index(client: AsyncClient, prefix: str) -> bool:
    """Drop the index (never the messages) on every master; whether one was dropped."""
    return await drop_indexes_everywhere(client, message_index_name(prefix))


async def drop_indexes_everywhere(client: AsyncClient, base: str) -> bool:
    """Drop the indexes named `base` or `base{n}` (never their documents) on every
    master; whether any was."""
    dropped = False
    async with master_shards(client) as shards:
        for shard in shards:
            dropped = await drop_unused_indexes(shard, base, None) or dropped
    return dropped


async def wait_until_indexed(
    client: AsyncClient, name_on: Callable[[MasterShard], str], timeout: float
) -> int:
    """Wait (up to `timeout` s) until every master's index, named by `name_on`, has
    finished indexing the documents stored before it was created.

    Returns how many documents the indexes hold, over every master.
    """
    deadline = time.monotonic() + timeout
    while True:
        async with master_shards(client) as shards:
            states = [
                await _indexing_state(shard.client, name_on(shard))
                for shard in shards
                if shard.slots is None or shard.slots
            ]
        known = [state for state in states if state is not None]
        if all(done for done, _ in known) or time.monotonic() > deadline:
            return sum(count for _, count in known)
        await asyncio.sleep(INDEXING_POLL_SECONDS)


async def _indexing_state(client: aioredis.Redis, name: str) -> tuple[bool, int] | None:
    """Whether the index has finished its background scan, and its document count; None
    where it does not exist (or its name's slot is served elsewhere)."""
    try:
        info = await client.execute_command("FT.INFO", name)  # type: ignore[no-untyped-call]
    except (MovedError, ResponseError):
        return None
    return int(_field(info, "indexing") or 0) == 0, int(float(_field(info, "num_docs") or 0))


async def _create_on(shard: MasterShard, prefix: str) -> bool:
    """Create the index on one master; False where the cluster moved its name's slot away
    meanwhile (the next check names it anew)."""
    client = shard.client
    if shard.slots is not None:
        return await _create_sharded(client, prefix, shard_index_name(prefix, shard))
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


async def _create_sharded(client: aioredis.Redis, prefix: str, name: str) -> bool:
    """`FT.CREATE` of one master's index, every sortable field un-normalized (UNF).

    A sortable value is returned from the index only in its original form: RedisVL's tag
    fields have no UNF option, so the arguments are completed here.
    """
    schema = message_index_schema(prefix, name, sharded=True)
    fields = schema.redis_fields
    for field in fields:
        suffix = field.args_suffix
        if "SORTABLE" in suffix and "UNF" not in suffix:
            suffix.insert(suffix.index("SORTABLE") + 1, "UNF")
    return await create_hash_index(client, name, schema.index.prefix, fields)


async def create_hash_index(
    client: aioredis.Redis, name: str, key_prefix: str, fields: list[Any], **options: Any
) -> bool:
    """`FT.CREATE` of an index over hashes, done when it exists already; False where a
    cluster node answers MOVED (the name's slot is served elsewhere)."""
    definition = IndexDefinition(prefix=[key_prefix], index_type=IndexType.HASH)  # type: ignore[no-untyped-call]
    try:
        await client.ft(name).create_index(fields, definition=definition, **options)
    except MovedError:
        return False
    except ResponseError as exc:
        if "already exists" not in str(exc).lower():
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


async def _drop_replaced(shard: MasterShard, prefix: str) -> None:
    """Drop this master's message indexes under names it no longer uses (index only,
    never the documents), so that one index per master does the indexing work.

    That is the cluster-wide `roa:messages` of earlier versions, which returned fields
    only for documents in its own slot, and a name left behind when slots moved and a
    lower hash tag now lands on this master.
    """
    await drop_unused_indexes(shard, message_index_name(prefix), shard_index_name(prefix, shard))


async def drop_unused_indexes(shard: MasterShard, base: str, keep: str | None) -> bool:
    """Drop this master's indexes named `base` or `base{n}`, except `keep`; whether any was.

    A name whose slot this master no longer serves cannot be addressed here and stays
    until the slot returns.
    """
    try:
        names = await shard.client.execute_command("FT._LIST")  # type: ignore[no-untyped-call]
    except ResponseError:
        return False
    dropped = False
    for raw in names:
        name = raw.decode() if isinstance(raw, bytes) else str(raw)
        ours = name == base or (name.startswith(f"{base}{{") and name.endswith("}"))
        if not ours or name == keep or not shard.serves(key_slot(name.encode())):
            continue
        try:
            await shard.client.execute_command("FT.DROPINDEX", name)  # type: ignore[no-untyped-call]
        except ResponseError:
            continue
        dropped = True
    return dropped


def _field(reply: Any, name: str) -> Any:
    """A field of an FT.INFO reply, parsed (a dict) or raw (a flat list)."""
    if not isinstance(reply, dict):
        reply = dict(zip(reply[::2], reply[1::2], strict=False))
    return reply.get(name, reply.get(name.encode()))
