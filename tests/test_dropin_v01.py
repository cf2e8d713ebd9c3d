"""0.1.0's surface against a real Redis: JSONSession owners, messages, agents; track_agent."""

from __future__ import annotations

import asyncio

import pytest
import redis
from agents import Agent, RunConfig, Runner
from redis.crc import key_slot

from redis_openai_agents import (
    AgentSession,
    JSONSession,
    JSONSessionNotFoundError,
    SessionNotFoundError,
)
from redis_openai_agents.keys import user_index_key
from redis_openai_agents.offline import OfflineModelProvider


async def test_owned_json_sessions_are_per_user_and_listed(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    mine = JSONSession("cart", redis_url, user_id=user_id, prefix=prefix)
    theirs = JSONSession("cart", redis_url, user_id=f"{user_id}-b", prefix=prefix)
    nobodys = JSONSession("cart", redis_url, prefix=prefix)
    await mine.set("items", [1])
    await theirs.set("items", [2])
    await nobodys.set("items", [3])
    assert [await s.get("items") for s in (mine, theirs, nobodys)] == [[1], [2], [3]]
    assert len({mine.key, theirs.key, nobodys.key}) == 3
    # A user's JSON sessions share the slot of their conversations.
    assert key_slot(mine.key.encode()) == key_slot(user_index_key(prefix, user_id).encode())
    await JSONSession("second", redis_url, user_id=user_id, prefix=prefix).create()
    listed = await JSONSession.list_sessions(user_id, redis_url, prefix=prefix)
    assert listed == ["cart", "second"]
    assert await JSONSession.list_sessions(f"{user_id}-b", redis_url, prefix=prefix) == ["cart"]
    assert await JSONSession.list_sessions(f"{user_id}-none", redis_url, prefix=prefix) == []


async def test_messages_agents_tokens_and_metadata(
    redis_url: str, prefix: str, user_id: str
) -> None:
    session = JSONSession("chat", redis_url, user_id=user_id, prefix=prefix, ttl=60)
    await session.create()
    await session.set("preferences", {"theme": "dark"})
    await session.create()  # creating again keeps what is there
    assert await session.get("preferences") == {"theme": "dark"}
    meta = await session.get_metadata()
    assert (meta["user_id"], meta["message_count"], meta["total_tokens"]) == (user_id, 0, 0)
    assert (meta["current_agent"], meta["agents_used"]) == (None, [])

    await session.add_message("user", "Hello", tokens=10)
    await session.add_message("assistant", "Hi there", agent="support", tokens=5)
    await session.track_agent("billing")
    await session.track_agent("support")
    assert session.current_agent == "support"
    meta = await session.get_metadata()
    assert meta["message_count"] == 2 and meta["total_tokens"] == 15
    assert meta["agents_used"] == ["support", "billing"]
    assert meta["created_at"] <= meta["updated_at"]

    assert await session.to_agent_inputs() == [
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hi there"},
    ]
    assert [m["content"] for m in await session.get_messages(role="user")] == ["Hello"]
    assert [m["content"] for m in await session.get_messages(limit=1)] == ["Hi there"]
    with pytest.raises(TypeError):
        await session.add_message("user", "x", tokens="5")  # type: ignore[arg-type]

    loaded = await JSONSession.load("chat", redis_url, user_id=user_id, prefix=prefix)
    assert loaded.current_agent == "support"
    # What add_message stored is the conversation an SDK run continues.
    run = RunConfig(model_provider=OfflineModelProvider(), tracing_disabled=True)
    agent = Agent(name="support", instructions="Be brief.")
    await Runner.run(agent, "And now?", session=loaded, run_config=run)
    assert (await loaded.get_metadata())["message_count"] == 4


async def test_concurrent_messages_and_tokens_are_all_counted(
    redis_url: str, prefix: str, user_id: str
) -> None:
    session = JSONSession("busy", redis_url, user_id=user_id, prefix=prefix)
    await asyncio.gather(*(session.add_message("user", f"m{i}", tokens=100) for i in range(20)))
    meta = await session.get_metadata()
    assert (meta["message_count"], meta["total_tokens"]) == (20, 2000)


async def test_load_delete_and_not_found(redis_url: str, prefix: str, user_id: str) -> None:
    with pytest.raises(JSONSessionNotFoundError, match="not found") as caught:
        await JSONSession.load("nothing", redis_url, user_id=user_id, prefix=prefix)
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, SessionNotFoundError)
    session = JSONSession("gone", redis_url, user_id=user_id, prefix=prefix)
    await session.add_message("user", "bye")
    # Another user cannot load it under the same id.
    with pytest.raises(JSONSessionNotFoundError):
        await JSONSession.load("gone", redis_url, user_id=f"{user_id}-x", prefix=prefix)
    await session.set("kept", 1)
    assert await session.delete("kept") is True
    assert await session.exists()
    with pytest.raises(TypeError):
        await session.delete(None)  # type: ignore[arg-type]
    assert await session.delete() is True
    assert not await session.exists()
    assert await session.delete() is False
    assert await session.get_metadata() == {}


async def test_track_agent_on_agent_session_is_stored(
    redis_url: str, prefix: str, user_id: str
) -> None:
    session = await AgentSession.acreate(user_id=user_id, redis_url=redis_url, prefix=prefix)
    await session.atrack_agent("triage")
    session.track_agent("french")
    assert session.current_agent == "french"
    loaded = await AgentSession.aload(
        conversation_id=session.conversation_id, user_id=user_id, redis_url=redis_url, prefix=prefix
    )
    assert loaded.current_agent == "french"
    meta = await loaded.aget_metadata()
    assert (meta["agents_used"], meta["message_count"]) == (["triage", "french"], 0)
    (info,) = await AgentSession.alist_sessions(user_id=user_id, redis_url=redis_url, prefix=prefix)
    assert info.last_agent == "french"
    await loaded.aclose()
    await session.aclose()
