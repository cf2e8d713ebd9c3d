"""Failure paths and lifetimes: refused writes, late TTLs, per-user search, loop churn."""

from __future__ import annotations

import asyncio

import pytest
import redis

from redis_openai_agents import (
    AgentSession,
    InvalidItemError,
    JSONSession,
    RedisCommandError,
)
from redis_openai_agents import connection as connection_module
from redis_openai_agents.keys import ConversationKeys, user_index_key


def nested(depth: int) -> object:
    value: object = "leaf"
    for _ in range(depth):
        value = [value]
    return value


async def test_json_values_nested_too_deep_are_refused_before_writing(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    session = JSONSession("deep", redis_url, prefix=prefix)
    with pytest.raises(TypeError):
        await session.set("k", nested(200))
    assert r.exists(session.key) == 0

    await session.add_items([{"role": "user", "content": "kept"}])
    before = r.execute_command("JSON.GET", session.key, "$")
    batch = [{"role": "user", "content": str(i)} for i in range(1200)]
    with pytest.raises(InvalidItemError):
        await session.add_items([*batch, {"role": "user", "content": nested(200)}])
    assert r.execute_command("JSON.GET", session.key, "$") == before
    await session.aclose()


async def test_the_users_list_expires_once_its_only_conversation_gets_a_ttl(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    forever = AgentSession("c1", user_id="u", redis_url=redis_url, prefix=prefix)
    await forever.aadd_message("user", "no expiry yet")
    assert r.pttl(user_index_key(prefix, "u")) == -1

    expiring = await AgentSession.aload("c1", "u", redis_url, prefix=prefix, ttl=60)
    await expiring.aadd_message("user", "now with a ttl")
    user_list_ttl = r.pttl(user_index_key(prefix, "u"))
    assert 59_000 < user_list_ttl <= 60_000
    assert abs(r.pttl(ConversationKeys(prefix, "u", "c1").meta) - user_list_ttl) < 1_000
    await forever.aclose()
    await expiring.aclose()


async def test_search_index_can_scope_a_conversation_id_to_its_user(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    await AgentSession.aenable_message_index(redis_url, prefix=prefix)
    for user in ("alice", "bob"):
        session = AgentSession("support", user_id=user, redis_url=redis_url, prefix=prefix)
        await session.aadd_message("user", f"{user} secret")
        await session.aclose()
    found = r.ft(f"{prefix}:messages").search("@user_tag:{alice} @session_tag:{support}")
    assert [doc.content for doc in found.docs] == ["alice secret"]


def test_asyncio_run_per_call_does_not_pile_up_clients(redis_url: str, prefix: str) -> None:
    session = AgentSession("c", user_id="u", redis_url=redis_url, prefix=prefix)
    for _ in range(5):
        asyncio.run(session.get_items())
    live = [loop for loop in connection_module._clients if not loop.is_closed()]
    assert len(connection_module._clients) <= len(live) + 1
    session.close()


async def test_refused_commands_raise_a_typed_error(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    session = AgentSession("c", user_id="u", redis_url=redis_url, prefix=prefix)
    r.set(ConversationKeys(prefix, "u", "c").order, "not a list")
    with pytest.raises(RedisCommandError) as error:
        await session.get_items()
    assert "WRONGTYPE" in str(error.value)
    assert isinstance(error.value.__cause__, redis.ResponseError)
    await session.aclose()


async def test_a_refused_append_stores_no_item(redis_url: str, prefix: str, r: redis.Redis) -> None:
    session = AgentSession("c", user_id="u", redis_url=redis_url, prefix=prefix)
    await session.aadd_message("user", "first")
    r.set(user_index_key(prefix, "u"), "not a sorted set")
    keys_before = sorted(r.scan_iter(f"{prefix}:*"))
    with pytest.raises(RedisCommandError):
        await session.aadd_message("user", "second")
    assert sorted(r.scan_iter(f"{prefix}:*")) == keys_before
    r.delete(user_index_key(prefix, "u"))
    assert [m["content"] for m in await session.aget_messages()] == ["first"]
    await session.aclose()
