"""The package's own asyncio connections: commands packed by hiredis, and sends bounded by
their timeout without a task each, with redis-py's bytes and errors."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
import redis.asyncio.connection as aio_connection
from fault_harness import BIG_VALUE, stopped
from redis.exceptions import DataError
from redis.exceptions import TimeoutError as RedisTimeoutError

from redis_openai_agents import AgentSession
from redis_openai_agents.embedded import EmbeddedRedis
from redis_openai_agents.fast_connections import (
    WAIT_FOR_RUNS_A_TASK,
    HiredisPacking,
    SendInCallersTask,
    fast_connection_class,
    use_fast_connections,
)

VALUES: list[object] = [
    b"bytes with \r\n inside",
    "text: é, 中文, emoji 🎉",
    0,
    -(2**70),
    1.5,
    1e-300,
    bytearray(b"array"),
    memoryview(b"view"),
    "",
]


def test_the_packed_bytes_are_redis_pys_own() -> None:
    plain = aio_connection.Connection()
    packed = fast_connection_class(aio_connection.Connection)()
    assert isinstance(packed, HiredisPacking)
    for value in VALUES:
        expected = b"".join(plain.pack_command("SET", "k", value))
        assert b"".join(packed.pack_command("SET", "k", value)) == expected, value
    hiredis_types = [v for v in VALUES if not isinstance(v, bytearray)]
    for values in (VALUES, hiredis_types):
        many: list[Any] = ["sha", 3, "k1", "k2", "k3", *values, *values]
        for name in ("CONFIG GET", "CONFIG\tGET", b"CONFIG GET", b"GET", "FT.SEARCH", "EVALSHA"):
            command = (name, *many)
            assert b"".join(packed.pack_command(*command)) == b"".join(
                plain.pack_command(*command)
            ), name
    for refused in (True, None, object()):
        with pytest.raises(DataError):
            packed.pack_command("SET", "k", refused)
        with pytest.raises(DataError):
            plain.pack_command("SET", "k", refused)


def test_another_encoding_keeps_redis_pys_packer() -> None:
    latin = fast_connection_class(aio_connection.Connection)(encoding="latin-1")
    assert (
        b"".join(latin.pack_command("SET", "k", "é"))
        == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n\xe9\r\n"
    )


async def test_sessions_opened_from_a_url_use_the_fast_connections_and_round_trip(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    session = AgentSession("c", user_id="u", redis_url=redis_url, prefix=prefix)
    client = session._client()
    assert issubclass(client.connection_pool.connection_class, HiredisPacking)
    if WAIT_FOR_RUNS_A_TASK:
        assert issubclass(client.connection_pool.connection_class, SendInCallersTask)
    items = [{"role": "user", "content": str(value)} for value in VALUES[1:6]]
    items.append({"role": "assistant", "content": "line\r\nbreak", "n": 2**70})
    await session.add_items(items)
    assert await session.get_items() == items
    for value in VALUES:
        await client.set(f"{prefix}:packed", value)  # type: ignore[arg-type]
        if isinstance(value, (bytes, bytearray, memoryview)):
            expected = bytes(value).decode()
        else:
            expected = str(value)
        assert r.get(f"{prefix}:packed") == expected
    await session.aclose()


async def test_a_callers_client_is_used_as_it_is(redis_url: str, prefix: str) -> None:
    mine = aioredis.from_url(redis_url)
    session = AgentSession("c", user_id="u", redis_client=mine, prefix=prefix)
    await session.add_items([{"role": "user", "content": "hi"}])
    assert mine.connection_pool.connection_class is aio_connection.Connection
    assert await session.get_items() == [{"role": "user", "content": "hi"}]
    await session.aclose()
    await mine.aclose()


def _client(url: str, *, fast: bool, **options: Any) -> aioredis.Redis:
    client = aioredis.Redis.from_url(url, retry=None, **options)
    return use_fast_connections(client) if fast else client


async def test_a_send_runs_in_the_callers_task(private_server: EmbeddedRedis) -> None:
    created = 0

    def counting_factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> Any:
        nonlocal created
        created += 1
        return asyncio.Task(coro, loop=loop, **kwargs)

    loop = asyncio.get_running_loop()
    for fast in (True, False):
        client = _client(private_server.url, fast=fast, socket_timeout=5)
        await client.ping()
        created = 0
        loop.set_task_factory(counting_factory)
        try:
            for _ in range(20):
                assert await client.ping()
        finally:
            loop.set_task_factory(None)
        if fast:
            assert created == 0
        elif WAIT_FOR_RUNS_A_TASK:
            assert created >= 20, "redis-py's own send no longer makes a task"
        await client.aclose()


@pytest.mark.parametrize("fast", [True, False], ids=["fast", "redis-py"])
async def test_a_send_that_overruns_its_timeout_closes_the_connection(
    private_server: EmbeddedRedis, fast: bool
) -> None:
    """The bound and the error are redis-py's own; the connection works again after."""
    client = _client(private_server.url, fast=fast, socket_timeout=0.5)
    await client.ping()
    connection = client.connection_pool._available_connections[0]
    with stopped(private_server):
        started = time.monotonic()
        with pytest.raises(RedisTimeoutError, match="Timeout writing to socket"):
            await client.set("big", BIG_VALUE)
        elapsed = time.monotonic() - started
    assert 0.5 <= elapsed < 10
    assert not connection.is_connected
    assert connection.socket_timeout == 0.5
    assert await client.set("small", "ok")
    assert await client.get("small") == b"ok"
    await client.aclose()


async def test_a_cancelled_send_stays_a_cancel(private_server: EmbeddedRedis) -> None:
    client = _client(private_server.url, fast=True, socket_timeout=30)
    await client.ping()
    connection = client.connection_pool._available_connections[0]
    with stopped(private_server):
        sending = asyncio.ensure_future(client.set("big", BIG_VALUE))
        await asyncio.sleep(0.3)
        assert not sending.done()
        sending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await sending
    assert not connection.is_connected
    assert connection.socket_timeout == 30
    assert await client.ping()
    await client.aclose()


async def test_without_a_timeout_a_send_is_redis_pys_own(private_server: EmbeddedRedis) -> None:
    client = _client(private_server.url, fast=True, socket_timeout=None)
    await client.set("k", "v")
    connection = client.connection_pool._available_connections[0]
    assert connection.socket_timeout is None
    assert await client.get("k") == b"v"
    await client.aclose()
