"""Round trips per operation, counted by the server.

MONITOR reports every command a client sends, and marks the commands a Lua script runs
with the source "lua". The commands between two ECHO markers that did not come from a
script are the round trips one operation cost. Sessions are warmed first (connection
open, search index created, scripts cached), as in a long-running application.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
import redis
from agents import Agent, Runner
from agents.items import TResponseInputItem

from redis_openai_agents import AgentSession, JSONSession

ONE_SCRIPT = ["EVALSHA"]
ONE_SORT = ["SORT_RO"]


class ServerCommands:
    """The commands clients send to the server, as MONITOR sees them."""

    def __init__(self, url: str) -> None:
        self._monitor = redis.Redis.from_url(url, protocol=2, socket_timeout=20)
        self._marker = redis.Redis.from_url(url, protocol=2)

    def close(self) -> None:
        self._monitor.close()
        self._marker.close()

    @staticmethod
    def _read_until(monitor: Any, marker: str, into: list[str] | None) -> None:
        while True:
            command = monitor.next_command()
            if command["command"] == f"ECHO {marker}":
                return
            if into is not None and command["client_type"] != "lua":
                into.append(command["command"].split(" ", 1)[0].upper())

    @contextlib.contextmanager
    def capture(self) -> Iterator[list[str]]:
        """Yield a list that holds, after the block, the names of the commands sent in it."""
        token = uuid.uuid4().hex
        sent: list[str] = []
        with self._monitor.monitor() as monitor:
            self._marker.echo(f"{token}:start")
            self._read_until(monitor, f"{token}:start", None)
            yield sent
            self._marker.echo(f"{token}:end")
            self._read_until(monitor, f"{token}:end", sent)


@pytest.fixture
def server(redis_url: str) -> Iterator[ServerCommands]:
    commands = ServerCommands(redis_url)
    yield commands
    commands.close()


async def measure(server: ServerCommands, operation: Callable[[], Awaitable[Any]]) -> list[str]:
    with server.capture() as sent:
        await operation()
    return sent


def measure_sync(server: ServerCommands, operation: Callable[[], Any]) -> list[str]:
    with server.capture() as sent:
        operation()
    return sent


def user(text: str) -> TResponseInputItem:
    return {"role": "user", "content": text}


def test_the_probe_sees_script_commands_as_one_round_trip(
    server: ServerCommands, r: redis.Redis, prefix: str
) -> None:
    """The counting itself: a script with inner commands is one, two plain commands two."""
    r.ping()
    with server.capture() as sent:
        r.eval("redis.call('SET', KEYS[1], 1); return redis.call('GET', KEYS[1])", 1, f"{prefix}:k")
        r.get(f"{prefix}:k")
        r.delete(f"{prefix}:k")
    assert sent == ["EVAL", "GET", "DEL"]


async def test_agent_session_async_operations_are_one_round_trip_each(
    server: ServerCommands, redis_url: str, prefix: str, user_id: str
) -> None:
    session = await AgentSession.acreate(user_id, redis_url, ttl=600, prefix=prefix)
    cid = session.conversation_id
    batch = [user(f"m{i}") for i in range(20)]

    async def warm_up() -> None:
        await session.add_items(batch)
        await session.get_items()
        await session.get_items(limit=3)
        await session.pop_item()
        await AgentSession.alist_sessions(user_id, redis_url, prefix=prefix)
        await (await AgentSession.aload(cid, user_id, redis_url, prefix=prefix)).aclose()
        other = await AgentSession.acreate(user_id, redis_url, prefix=prefix)
        await other.clear_session()
        await other.aclose()

    await warm_up()
    measured = {
        "add_items": await measure(server, lambda: session.add_items(batch)),
        "add_items (1 item)": await measure(server, lambda: session.add_items(batch[:1])),
        "get_items": await measure(server, session.get_items),
        "get_items(limit=3)": await measure(server, lambda: session.get_items(limit=3)),
        "pop_item": await measure(server, session.pop_item),
        "alist_sessions": await measure(
            server, lambda: AgentSession.alist_sessions(user_id, redis_url, prefix=prefix)
        ),
    }
    loaded: list[AgentSession] = []

    async def load() -> None:
        loaded.append(await AgentSession.aload(cid, user_id, redis_url, prefix=prefix))

    measured["aload"] = await measure(server, load)
    created: list[AgentSession] = []

    async def create() -> None:
        created.append(await AgentSession.acreate(user_id, redis_url, prefix=prefix))

    measured["acreate"] = await measure(server, create)
    measured["clear_session"] = await measure(server, session.clear_session)
    assert measured == {
        "add_items": ONE_SCRIPT,
        "add_items (1 item)": ONE_SCRIPT,
        "get_items": ONE_SORT,
        "get_items(limit=3)": ONE_SORT,
        "pop_item": ONE_SCRIPT,
        "alist_sessions": ONE_SCRIPT,
        "aload": ["HMGET"],
        "acreate": ONE_SCRIPT,
        "clear_session": ONE_SCRIPT,
    }
    assert await session.get_items() == []
    for s in (session, *loaded, *created):
        await s.aclose()


def test_agent_session_sync_operations_are_one_round_trip_each(
    server: ServerCommands, redis_url: str, prefix: str, user_id: str
) -> None:
    with AgentSession.create(user_id, redis_url, prefix=prefix) as session:
        cid = session.conversation_id
        session.store_exchange("hi", "hello", agent_name="bot")
        session.get_messages()
        AgentSession.list_sessions(user_id, redis_url, prefix=prefix)
        AgentSession.load(cid, user_id, redis_url, prefix=prefix).close()

        measured = {
            "store_exchange": measure_sync(server, lambda: session.store_exchange("a", "b")),
            "add_message": measure_sync(server, lambda: session.add_message("user", "c")),
            "get_messages": measure_sync(server, session.get_messages),
            "to_agent_inputs": measure_sync(server, session.to_agent_inputs),
            "message_count": measure_sync(server, session.message_count),
            "list_sessions": measure_sync(
                server, lambda: AgentSession.list_sessions(user_id, redis_url, prefix=prefix)
            ),
        }
        loaded: list[AgentSession] = []
        measured["load"] = measure_sync(
            server,
            lambda: loaded.append(AgentSession.load(cid, user_id, redis_url, prefix=prefix)),
        )
        measured["create"] = measure_sync(
            server,
            lambda: loaded.append(AgentSession.create(user_id, redis_url, prefix=prefix)),
        )
        assert measured == {
            "store_exchange": ONE_SCRIPT,
            "add_message": ONE_SCRIPT,
            "get_messages": ONE_SORT,
            "to_agent_inputs": ONE_SORT,
            "message_count": ["HGET"],
            "list_sessions": ONE_SCRIPT,
            "load": ["HMGET"],
            "create": ONE_SCRIPT,
        }
        for s in loaded:
            s.close()


def test_list_sessions_alone_is_one_round_trip(
    server: ServerCommands, redis_url: str, prefix: str, user_id: str
) -> None:
    """An app that only lists conversations (no session object kept open).

    A URL of its own keeps other tests' open sessions from keeping the pool alive.
    """
    url = f"{redis_url}/0?client_name=roa-list-{uuid.uuid4().hex[:8]}"
    AgentSession.create(user_id, url, prefix=prefix).close()
    assert len(AgentSession.list_sessions(user_id, url, prefix=prefix)) == 1
    sent = measure_sync(server, lambda: AgentSession.list_sessions(user_id, url, prefix=prefix))
    assert sent == ONE_SCRIPT


async def test_json_session_operations_are_one_round_trip_each(
    server: ServerCommands, redis_url: str, prefix: str
) -> None:
    session = JSONSession(f"s-{uuid.uuid4().hex[:8]}", redis_url, ttl=600, prefix=prefix)
    batch = [user(f"m{i}") for i in range(20)]

    async def warm_up() -> None:
        await session.set("k", {"a": [1, 2]})
        await session.get("k")
        await session.delete("k")
        await session.add_items(batch)
        await session.get_items()
        await session.pop_item()
        await session.clear_session()

    await warm_up()
    measured = {
        "set": await measure(server, lambda: session.set("k", {"a": [1, 2, {"b": None}]})),
        "get": await measure(server, lambda: session.get("k")),
        "get_all": await measure(server, session.get_all),
        "delete": await measure(server, lambda: session.delete("k")),
        "add_items": await measure(server, lambda: session.add_items(batch)),
        "get_items": await measure(server, session.get_items),
        "get_items(limit=3)": await measure(server, lambda: session.get_items(limit=3)),
        "pop_item": await measure(server, session.pop_item),
        "clear_session": await measure(server, session.clear_session),
        "exists": await measure(server, session.exists),
        "clear": await measure(server, session.clear),
    }
    assert measured == {
        "set": ONE_SCRIPT,
        "get": ["JSON.GET"],
        "get_all": ["JSON.GET"],
        "delete": ONE_SCRIPT,
        "add_items": ONE_SCRIPT,
        "get_items": ["JSON.GET"],
        "get_items(limit=3)": ["JSON.GET"],
        "pop_item": ONE_SCRIPT,
        "clear_session": ONE_SCRIPT,
        "exists": ["EXISTS"],
        "clear": ONE_SCRIPT,
    }
    await session.aclose()


class CountingCalls:
    """Records which SDK session methods the runner called, in order."""

    calls: list[str]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls = []

    async def get_items(self, limit: int | None = None) -> list[TResponseInputItem]:
        self.calls.append("get_items")
        return await super().get_items(limit)  # type: ignore[misc,no-any-return]

    async def add_items(self, items: list[TResponseInputItem]) -> None:
        self.calls.append("add_items")
        await super().add_items(items)  # type: ignore[misc]


class CountingJSONSession(CountingCalls, JSONSession):
    pass


class CountingAgentSession(CountingCalls, AgentSession):
    pass


async def test_a_runner_turn_costs_one_round_trip_per_session_call(
    server: ServerCommands, redis_url: str, prefix: str, user_id: str, offline_model: None
) -> None:
    agent = Agent(name="assistant", instructions="Remember things.")
    json_session = CountingJSONSession(f"s-{uuid.uuid4().hex[:8]}", redis_url, prefix=prefix)
    agent_session = CountingAgentSession(
        uuid.uuid4().hex, user_id=user_id, redis_url=redis_url, prefix=prefix
    )
    for session in (json_session, agent_session):
        await Runner.run(agent, "My name is Alice and I live in Seattle.", session=session)
        session.calls.clear()
        with server.capture() as sent:
            result = await Runner.run(agent, "What's my name and where do I live?", session=session)
        assert result.final_output == "Your name is Alice and you live in Seattle."
        assert session.calls[0] == "get_items"
        read = "JSON.GET" if session is json_session else "SORT_RO"
        expected = [read if call == "get_items" else "EVALSHA" for call in session.calls]
        assert sent == expected, session.calls
        await session.aclose()
