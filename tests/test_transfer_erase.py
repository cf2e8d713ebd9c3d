"""Erasing a user against a real Redis: everything of theirs goes, nothing of anyone else's."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import pytest
import redis
from redis.commands.search.query import Query

from redis_openai_agents import AgentSession, JSONSession, aerase_user, erase_user
from redis_openai_agents.keys import hash_tag


def keys_of(r: redis.Redis, prefix: str, user_id: str) -> set[str]:
    tag = hash_tag(user_id)
    kinds = ("conv", "order", "msg", "user", "json", "writes")
    starts = tuple(f"{prefix}:{kind}:{tag}" for kind in kinds)
    return {k for k in r.scan_iter(f"{prefix}:*", count=1000) if k.startswith(starts)}


def snapshot(r: redis.Redis, keys: set[str]) -> dict[str, Any]:
    """Every key with its type and content, to show it was not touched."""
    out: dict[str, Any] = {}
    for key in sorted(keys):
        kind = r.type(key)
        if kind == "hash":
            out[key] = r.hgetall(key)
        elif kind == "list":
            out[key] = r.lrange(key, 0, -1)
        elif kind == "ReJSON-RL":
            out[key] = r.execute_command("JSON.GET", key)
        elif kind == "zset":
            out[key] = r.zrange(key, 0, -1, withscores=True)
        else:
            out[key] = kind
    return out


async def test_erasing_a_user_with_1000_conversations(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    await AgentSession.aenable_message_index(redis_url, prefix=prefix)

    async def conversation(owner: str, number: int) -> None:
        session = AgentSession(f"c{number}", user_id=owner, redis_url=redis_url, prefix=prefix)
        await session.add_items(
            [{"role": "user", "content": f"hi {number}"}, {"role": "assistant", "content": "yo"}]
        )
        session._connection.release()

    for start in range(0, 1000, 100):
        await asyncio.gather(*(conversation(user_id, n) for n in range(start, start + 100)))
    # Another user, with a conversation id equal to the erased user's tag and to one of
    # their conversation ids: key patterns must not reach it.
    neighbour = f"{user_id}-neighbour"
    for conversation_id in ("c1", hash_tag(user_id), f"{hash_tag(user_id)}:x"):
        session = AgentSession(
            conversation_id, user_id=neighbour, redis_url=redis_url, prefix=prefix
        )
        await session.add_items([{"role": "user", "content": "keep me"}])
        await session.aclose()
    for n in range(3):
        await JSONSession(f"j{n}", redis_url, user_id=user_id, prefix=prefix).set("cart", [n])
    await JSONSession("j0", redis_url, user_id=neighbour, prefix=prefix).set("cart", ["keep"])
    await JSONSession("j1", redis_url, prefix=prefix).set("nobody's", True)
    theirs = keys_of(r, prefix, user_id)
    untouched = snapshot(r, {k for k in r.scan_iter(f"{prefix}:*", count=1000) if k not in theirs})
    # Three conversations of one item each, their list and write records; two JSON
    # sessions, and the write records of the one without an owner.
    assert len(untouched) == 3 * 3 + 1 + 1 + 2 + 1, sorted(untouched)
    # A stray item hash of the user that no list names: the final scan removes it.
    r.hset(f"{prefix}:msg:{hash_tag(user_id)}:ghost:0", mapping={"role": "user"})
    assert len(keys_of(r, prefix, user_id)) == 1000 * 4 + 1 + 1 + 3 + 1

    erased = await aerase_user(user_id, redis_url=redis_url, prefix=prefix)
    assert (erased.conversations, erased.items) == (1000, 2000)
    assert (erased.json_sessions, erased.other_keys) == (3, 2)
    assert keys_of(r, prefix, user_id) == set()
    assert (
        await AgentSession.alist_sessions(user_id=user_id, redis_url=redis_url, prefix=prefix) == []
    )
    assert snapshot(r, set(untouched)) == untouched
    for owner, expected in ((user_id, 0), (neighbour, 3)):
        escaped = re.sub(r"([^A-Za-z0-9_])", r"\\\1", owner)
        query = Query(f"@user_tag:{{{escaped}}}").paging(0, 0)
        assert r.ft(f"{prefix}:messages").search(query).total == expected

    again = erase_user(user_id, redis_url=redis_url, prefix=prefix)
    assert (again.conversations, again.items, again.json_sessions, again.other_keys) == (0,) * 4
    infos = await AgentSession.alist_sessions(user_id=neighbour, redis_url=redis_url, prefix=prefix)
    assert len(infos) == 3


async def test_erase_steps_are_atomic_batches(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    for n in range(5):
        session = AgentSession(f"c{n}", user_id=user_id, redis_url=redis_url, prefix=prefix)
        await session.add_items([{"role": "user", "content": str(n)}] * 3)
        await session.aclose()
    erased = await aerase_user(user_id, redis_url=redis_url, prefix=prefix, batch=2)
    assert (erased.conversations, erased.items) == (5, 15)
    assert keys_of(r, prefix, user_id) == set()
    with pytest.raises(ValueError, match="batch"):
        await aerase_user(user_id, redis_url=redis_url, prefix=prefix, batch=0)
