"""Drop-in for the SDK's sessions: `close()` awaited or not, `session_settings`, `ping()`."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis
from agents.memory import SessionSettings

from redis_openai_agents import AgentSession, JSONSession
from redis_openai_agents._base import RedisBackedSession


def make(kind: type[RedisBackedSession], url: str, prefix: str, **options: Any) -> Any:
    if kind is AgentSession:
        return AgentSession("c", user_id="u", redis_url=url, prefix=prefix, **options)
    return JSONSession("j", redis_url=url, prefix=prefix, **options)


def clients_named(r: redis.Redis, name: str) -> int:
    return sum(1 for client in r.client_list() if client.get("name") == name)


KINDS = [AgentSession, JSONSession]


def readable(r: redis.Redis, key: str) -> str:
    """Everything Redis holds under `key`, as text."""
    kind = r.type(key)
    if kind == "hash":
        return str(r.hgetall(key))
    if kind == "list":
        return str(r.lrange(key, 0, -1))
    if kind == "zset":
        return str(r.zrange(key, 0, -1))
    if kind == "ReJSON-RL":
        return str(r.execute_command("JSON.GET", key))
    return str(r.get(key)) if kind == "string" else ""


@pytest.mark.parametrize("kind", KINDS)
async def test_await_close_works_as_with_the_sdk_redis_session(
    kind: type[RedisBackedSession], redis_url: str, prefix: str, r: redis.Redis
) -> None:
    name = f"{prefix}-await"
    session = make(kind, f"{redis_url}/0?client_name={name}", prefix)
    await session.add_items([{"role": "user", "content": "hi"}])
    assert clients_named(r, name) == 1
    closing = session.close()
    assert not closing.done()
    await closing
    assert closing.done()
    for _ in range(200):
        if clients_named(r, name) == 0:
            break
        await asyncio.sleep(0.01)
    assert clients_named(r, name) == 0
    await session.close()  # closing again is harmless


@pytest.mark.parametrize("kind", KINDS)
def test_close_without_await_in_synchronous_code_is_done_when_it_returns(
    kind: type[RedisBackedSession], redis_url: str, prefix: str, r: redis.Redis
) -> None:
    name = f"{prefix}-sync"
    session = make(kind, f"{redis_url}/0?client_name={name}", prefix)
    asyncio.run(session.add_items([{"role": "user", "content": "hi"}]))
    closing = session.close()
    assert closing.done()
    assert repr(closing) == "<session close: done>"
    with make(kind, redis_url, prefix) as again:
        assert again.session_id


async def test_close_without_await_in_async_code_finishes_on_the_loop(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    name = f"{prefix}-bg"
    session = make(AgentSession, f"{redis_url}/0?client_name={name}", prefix)
    await session.add_items([{"role": "user", "content": "hi"}])
    closing = session.close()
    for _ in range(200):
        if closing.done() and clients_named(r, name) == 0:
            break
        await asyncio.sleep(0.01)
    assert closing.done() and clients_named(r, name) == 0
    async with make(AgentSession, redis_url, prefix) as again:
        assert await again.get_items() == [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize("kind", KINDS)
async def test_session_settings_follow_the_sdk_backends(
    kind: type[RedisBackedSession], redis_url: str, prefix: str
) -> None:
    assert make(kind, redis_url, prefix).session_settings == SessionSettings()
    from_dict = make(kind, redis_url, prefix, session_settings={"limit": 2})
    assert isinstance(from_dict.session_settings, SessionSettings)
    assert from_dict.session_settings.limit == 2
    await from_dict.add_items([{"role": "user", "content": str(n)} for n in range(4)])
    assert [i["content"] for i in await from_dict.get_items()] == ["2", "3"]
    with pytest.raises(TypeError, match="limitt"):
        make(kind, redis_url, prefix, session_settings={"limitt": 1})
    with pytest.raises(TypeError):
        make(kind, redis_url, prefix, session_settings=5)


@pytest.mark.parametrize("kind", KINDS)
async def test_ping_reports_whether_the_server_answers(
    kind: type[RedisBackedSession], redis_url: str, prefix: str
) -> None:
    assert await make(kind, redis_url, prefix).ping() is True
    assert await make(kind, "redis://127.0.0.1:1", prefix).ping() is False


@pytest.mark.parametrize("kind", KINDS)
async def test_the_sdk_encrypted_session_wraps_both_classes(
    kind: type[RedisBackedSession], redis_url: str, prefix: str, r: redis.Redis
) -> None:
    from agents import Agent, RunConfig, Runner
    from agents.extensions.memory import EncryptedSession

    from redis_openai_agents.offline import OfflineModelProvider

    store = make(kind, redis_url, prefix)
    session = EncryptedSession(
        session_id=store.session_id,
        underlying_session=store,
        encryption_key="correct horse battery staple, but longer and random",
        ttl=3600,
    )
    secret = {"role": "user", "content": "My card ends in 4242.", "n": 1}
    await session.add_items([secret])
    run = RunConfig(model_provider=OfflineModelProvider(), tracing_disabled=True)
    await Runner.run(
        Agent(name="bank"), "What does my card end in?", session=session, run_config=run
    )
    items = await session.get_items()
    assert items[0] == secret and len(items) == 3
    assert await session.pop_item() == items[-1]
    # Redis holds only ciphertext: neither the items nor their readable copies leak it.
    stored = [readable(r, key) for key in r.scan_iter(f"{prefix}:*")]
    assert any("payload" in value for value in stored)
    assert not any("4242" in value for value in stored)
    assert len(await store.get_items()) == 2
    await session.clear_session()
    assert await store.get_items() == []
    await store.aclose()
