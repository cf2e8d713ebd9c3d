"""The single-node client that keeps a connection for its commands: redis-py's replies and
errors, one connection for sequential commands, the pool beside it for concurrent ones, and
a fresh connection after any failure of the kept one."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
from fault_harness import BIG_VALUE, stopped
from redis.credentials import UsernamePasswordCredentialProvider
from redis.exceptions import ConnectionError, NoScriptError, ReadOnlyError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from redis_openai_agents import AgentSession
from redis_openai_agents.embedded import EmbeddedRedis
from redis_openai_agents.fast_connections import use_fast_connections
from redis_openai_agents.kept_connection import KeptConnectionRedis


def _kept_client(url: str, **options: Any) -> KeptConnectionRedis:
    client = KeptConnectionRedis.from_url(url, **options)
    assert isinstance(client, KeptConnectionRedis)
    return client


@pytest.fixture
async def kept(redis_url: str) -> AsyncIterator[KeptConnectionRedis]:
    client = _kept_client(redis_url, retry=None)
    yield client
    await client.aclose()


async def _client_id(client: aioredis.Redis) -> int:
    return int(await client.client_id())


def _commands(key: str) -> list[Callable[[aioredis.Redis], Awaitable[Any]]]:
    return [
        lambda c: c.ping(),
        lambda c: c.set(f"{key}:s", "v", ex=60),
        lambda c: c.get(f"{key}:s"),
        lambda c: c.hset(f"{key}:h", mapping={"a": 1, "b": "é"}),
        lambda c: c.hgetall(f"{key}:h"),
        lambda c: c.zadd(f"{key}:z", {"m": 1.5}),
        lambda c: c.zrange(f"{key}:z", 0, -1, withscores=True),
        lambda c: c.incr(f"{key}:s"),
        lambda c: c.evalsha("0" * 40, 0),
        lambda c: c.execute_command("NO-SUCH-COMMAND"),
        lambda c: c.delete(f"{key}:s", f"{key}:h", f"{key}:z"),
    ]


async def _outcome(call: Awaitable[Any]) -> Any:
    try:
        return await call
    except Exception as exc:
        return (type(exc), str(exc))


async def test_replies_and_errors_are_redis_pys_own(
    redis_url: str, kept: KeptConnectionRedis
) -> None:
    plain = aioredis.Redis.from_url(redis_url, retry=None)
    key = f"kept:{uuid.uuid4().hex}"
    try:
        for ours, theirs in zip(_commands(f"{key}:k"), _commands(f"{key}:p"), strict=True):
            assert await _outcome(ours(kept)) == await _outcome(theirs(plain))
        with pytest.raises(NoScriptError):
            await kept.evalsha("0" * 40, 0)
        with pytest.raises(ResponseError, match="unknown command"):
            await kept.execute_command("NO-SUCH-COMMAND")
    finally:
        await plain.aclose()


async def test_sequential_commands_share_one_connection(kept: KeptConnectionRedis) -> None:
    first = await _client_id(kept)
    assert kept.kept_connection is not None
    for _ in range(5):
        await kept.set("kept:seq", "v", ex=10)
        assert await _client_id(kept) == first
    # An error reply about the command leaves the connection as it is.
    with pytest.raises(ResponseError):
        await kept.incr("kept:seq")
    assert await _client_id(kept) == first
    assert kept.connection_pool._available_connections == []


async def test_a_concurrent_command_takes_a_pooled_connection(
    kept: KeptConnectionRedis,
) -> None:
    kept_id = await _client_id(kept)
    key = f"kept:{uuid.uuid4().hex}"
    blocking = asyncio.ensure_future(kept.blpop([key], timeout=2))
    await asyncio.sleep(0.2)
    assert not blocking.done()
    # The kept connection waits on BLPOP: this command runs beside it, not after it.
    other_id = await asyncio.wait_for(_client_id(kept), timeout=1)
    assert other_id != kept_id
    await kept.rpush(key, "x")
    assert await blocking == (key.encode(), b"x")
    assert await _client_id(kept) == kept_id


async def test_a_connection_the_server_closed_while_idle_fails_as_redis_pys_would(
    redis_url: str, kept: KeptConnectionRedis
) -> None:
    plain = aioredis.Redis.from_url(redis_url, retry=None)
    outcomes = []
    try:
        for client in (kept, plain):
            before = await _client_id(client)
            with redis.Redis.from_url(redis_url) as admin:
                assert admin.client_kill_filter(_id=before) == 1
            await asyncio.sleep(0.1)  # idle: the close has reached the client
            outcomes.append(await _outcome(client.ping()))
            # The command after it runs on a new connection.
            assert await client.ping()
            assert await _client_id(client) != before
    finally:
        await plain.aclose()
    assert outcomes[0] == outcomes[1]


async def test_a_cancelled_command_never_leaves_its_reply_behind(
    kept: KeptConnectionRedis,
) -> None:
    key = f"kept:{uuid.uuid4().hex}"
    before = await _client_id(kept)
    waiting = asyncio.ensure_future(kept.blpop([key], timeout=5))
    await asyncio.sleep(0.2)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await kept.rpush(key, "late")
    await kept.set(f"{key}:other", "mine", ex=10)
    assert await kept.get(f"{key}:other") == b"mine"
    assert await kept.lrange(key, 0, -1) == [b"late"]
    assert await _client_id(kept) != before
    await kept.delete(key, f"{key}:other")


async def test_a_server_turned_read_only_closes_it(private_server: EmbeddedRedis) -> None:
    client = _kept_client(private_server.url, retry=None)
    admin = redis.Redis.from_url(private_server.url)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    try:
        await client.set("k", "v")
        connection = client.kept_connection
        assert connection is not None and connection.is_connected
        admin.replicaof("127.0.0.1", port)
        with pytest.raises(ReadOnlyError):
            await client.set("k", "w")
        assert not connection.is_connected
        admin.replicaof("NO", "ONE")
        assert await client.set("k", "w")
        assert await client.get("k") == b"w"
    finally:
        admin.replicaof("NO", "ONE")
        admin.close()
        await client.aclose()


async def test_closing_the_client_gives_the_connection_back(redis_url: str) -> None:
    pool = aioredis.ConnectionPool.from_url(redis_url, max_connections=1)
    first = KeptConnectionRedis(connection_pool=pool)
    assert await first.ping()
    await first.aclose(close_connection_pool=False)
    second = KeptConnectionRedis(connection_pool=pool)
    assert await second.ping()
    await second.aclose()


async def test_a_lost_server_raises_redis_pys_error(private_server: EmbeddedRedis) -> None:
    client = _kept_client(private_server.url, retry=None)
    assert await client.ping()
    private_server.stop()
    with pytest.raises(ConnectionError):
        await client.ping()
    await client.aclose()


async def test_a_credential_provider_keeps_the_pools_path(redis_url: str) -> None:
    client = _kept_client(
        redis_url, credential_provider=UsernamePasswordCredentialProvider("default", "x")
    )
    assert await client.ping()
    assert client.kept_connection is None
    assert len(client.connection_pool._available_connections) == 1
    await client.aclose()


async def test_sessions_from_a_url_keep_a_connection(redis_url: str, prefix: str) -> None:
    session = AgentSession("c", user_id="u", redis_url=redis_url, prefix=prefix)
    await session.add_items([{"role": "user", "content": "hi"}])
    client = session._connection.client()
    assert isinstance(client, KeptConnectionRedis)
    connection = client.kept_connection
    assert await session.get_items() == [{"role": "user", "content": "hi"}]
    assert client.kept_connection is connection
    await session.aclose()


BIG_KEY = "k" * (16 << 20)
"""A key name too long for loopback's socket buffers: a command naming it blocks its send
while the server is stopped."""


def _clients(url: str, **options: Any) -> list[aioredis.Redis]:
    """A kept-connection client (with this package's fast connections) and plain redis-py."""
    return [
        use_fast_connections(_kept_client(url, retry=None, **options)),
        aioredis.Redis.from_url(url, retry=None, **options),
    ]


async def test_a_reply_that_overruns_its_timeout_fails_as_redis_pys_does(redis_url: str) -> None:
    key = f"kept:{uuid.uuid4().hex}"
    outcomes = []
    for client in _clients(redis_url, socket_timeout=0.3):
        before = await _client_id(client)
        outcomes.append(await _outcome(client.blpop([key], timeout=2)))
        assert await client.ping()
        assert await _client_id(client) != before
        await client.aclose()
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] is RedisTimeoutError
    assert outcomes[0][1].startswith("Timeout reading from")


async def test_a_send_that_overruns_its_timeout_fails_as_redis_pys_does(
    private_server: EmbeddedRedis,
) -> None:
    outcomes = []
    for client in _clients(private_server.url, socket_timeout=0.5):
        assert await client.ping()
        with stopped(private_server):
            outcomes.append(await _outcome(client.set("big", BIG_VALUE)))
        assert await client.set("small", "ok")
        assert await client.get("small") == b"ok"
        await client.aclose()
    assert outcomes[0] == outcomes[1] == (RedisTimeoutError, "Timeout writing to socket")


async def test_a_slow_send_leaves_the_reply_its_whole_bound(
    private_server: EmbeddedRedis,
) -> None:
    """As in redis-py, the send and the reply each get `socket_timeout`: a send held up
    1.5 s and a reply 1 s after it succeed under a 2 s bound."""
    for client in _clients(private_server.url, socket_timeout=2.0):
        assert await client.ping()
        connection_id = await _client_id(client)
        with stopped(private_server):
            waiting = asyncio.ensure_future(client.blpop([BIG_KEY], timeout=1))
            await asyncio.sleep(1.5)
        assert await waiting is None
        assert await _client_id(client) == connection_id
        await client.aclose()
