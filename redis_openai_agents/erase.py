"""Erasing a user: every conversation and JSON session of theirs gone, nobody else's touched.

All keys of one user share one Redis Cluster hash tag, so each step is one script that
deletes a batch of whole conversations atomically: a failure between steps leaves whole
conversations, never half of one. A final scan of the user's key space removes anything
the user's list did not name (a conversation whose entry was lost, stray item hashes).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import scripts
from ._bridge import run_sync, shielded
from .agent_session import AgentSession
from .connection import RedisClient
from .keys import (
    DEFAULT_PREFIX,
    TAG_SEPARATOR,
    ConversationKeys,
    conversation_meta_prefix,
    hash_tag,
    owned_json_prefix,
)

_GLOB_SPECIALS = re.compile(r"([*?\[\]\\])")
_SCAN_COUNT = 1000


@dataclass(frozen=True)
class ErasedUser:
    """What erasing a user removed; all zeros when there was nothing left to remove."""

    conversations: int
    """Conversations deleted (each with its metadata, items and order list)."""
    items: int
    """Items deleted, over all those conversations."""
    json_sessions: int
    """JSON sessions owned by the user (`JSONSession(..., user_id=...)`) deleted."""
    other_keys: int
    """Further keys of the user found by the final scan and deleted: the user's per-tag
    lists of conversations, and anything the user's list did not name."""


def _glob(text: str) -> str:
    return _GLOB_SPECIALS.sub(r"\\\1", text)


async def aerase_user(
    user_id: str,
    *,
    redis_url: str | None = None,
    redis_client: RedisClient | None = None,
    prefix: str = DEFAULT_PREFIX,
    batch: int = 100,
) -> ErasedUser:
    """Delete every conversation of `user_id` under `prefix`, in atomic batches.

    The final scan reads the whole key space once (SCAN, in steps), so erasing costs time
    in proportion to the database; the batches themselves cost what they delete.

    Args:
        user_id: Whose data to delete.
        redis_url: The server, as for `AgentSession`.
        redis_client: A client to use instead of a URL.
        prefix: The key prefix the conversations were written under.
        batch: Conversations per atomic step.

    Returns:
        Counts of what was deleted.

    Raises:
        ValueError: `batch` is not a positive integer.
    """
    if not isinstance(batch, int) or isinstance(batch, bool) or batch < 1:
        raise ValueError(f"batch must be a positive integer, got {batch!r}")
    probe = AgentSession(
        "_", user_id=user_id, redis_url=redis_url, redis_client=redis_client, prefix=prefix
    )
    conversations = items = json_sessions = other = 0
    meta_prefix = conversation_meta_prefix(probe.prefix, probe.user_id)
    try:
        async with probe._connection.errors():
            client = probe._client()
            uidx = probe._keys.user_index
            while True:
                ids = [_text(i) for i in await client.zrange(uidx, 0, batch - 1)]
                if not ids:
                    break
                done = await _erase(probe, ids)
                conversations, items = conversations + done[0], items + done[1]
            tag = hash_tag(probe.user_id)
            kinds = tuple(
                f"{probe.prefix}:{kind}:{tag}:"
                for kind in ("conv", "order", "msg", "json", "branches", "branch", "tag")
            )
            found = [
                key
                async for raw in client.scan_iter(
                    match=f"{_glob(probe.prefix)}:*", count=_SCAN_COUNT
                )
                if (key := _text(raw)).startswith(kinds)
            ]
            metas = [key[len(meta_prefix) :] for key in found if key.startswith(meta_prefix)]
            for start in range(0, len(metas), batch):
                done = await _erase(probe, metas[start : start + batch])
                conversations, items = conversations + done[0], items + done[1]
            json_prefix = owned_json_prefix(probe.prefix, probe.user_id)
            documents = [key for key in found if key.startswith(json_prefix)]
            for start in range(0, len(documents), _SCAN_COUNT):
                json_sessions += await shielded(
                    client.unlink(*documents[start : start + _SCAN_COUNT])
                )
            rest = [
                key
                for key in found
                if not key.startswith(meta_prefix) and not key.startswith(json_prefix)
            ]
            for start in range(0, len(rest), _SCAN_COUNT):
                other += await shielded(client.unlink(*rest[start : start + _SCAN_COUNT]))
            # The write records hold recent outcomes (a popped item, say): they go too.
            other += await shielded(client.unlink(probe._keys.write_records))
    finally:
        await probe.aclose()
    return ErasedUser(
        conversations=conversations, items=items, json_sessions=json_sessions, other_keys=other
    )


async def _erase(probe: AgentSession, conversation_ids: list[str]) -> list[int]:
    """One batch of whole conversations, each with every branch it had when looked up.

    A branch created after the look-up is left to the final scan.
    """
    conversations = [ConversationKeys(probe.prefix, probe.user_id, c) for c in conversation_ids]
    client = probe._client()
    async with client.pipeline(transaction=False) as pipe:
        for conversation in conversations:
            pipe.hget(conversation.branches, "branches")
        lives = await pipe.execute()
    keys = [probe._keys.user_index]
    args: list[str | int] = []
    for conversation, live in zip(conversations, lives, strict=True):
        branches = [b for b in _text(live or "").split(TAG_SEPARATOR) if b]
        keys += [conversation.meta, conversation.order, conversation.branches]
        keys += [conversation.branch_order(b) for b in branches]
        args += [conversation.conversation_id, conversation.message_prefix, len(branches)]
    counts = await shielded(scripts.ERASE(probe._client(), keys, args))
    return [int(n) for n in counts]


def erase_user(
    user_id: str,
    *,
    redis_url: str | None = None,
    redis_client: RedisClient | None = None,
    prefix: str = DEFAULT_PREFIX,
    batch: int = 100,
) -> ErasedUser:
    """Blocking version of [`aerase_user`][redis_openai_agents.erase.aerase_user]."""
    return run_sync(
        aerase_user(
            user_id, redis_url=redis_url, redis_client=redis_client, prefix=prefix, batch=batch
        )
    )


def _text(value: object) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)
