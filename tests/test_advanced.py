"""AgentSession's turns, usage and branches against the SDK's AdvancedSQLiteSession.

The same Runner conversation runs against both and every report is compared; then what
only Redis adds: several processes on one conversation, retried writes, expiry, erasing,
round trips, and conversations written before turns were kept.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import redis
from advanced_scenario import AGENT, RUN, TURNS, check_substance, run_scenario, run_turn
from agents import Runner
from agents.extensions.memory import AdvancedSQLiteSession
from test_round_trips import ServerCommands, measure

from redis_openai_agents import (
    AgentSession,
    BranchDeletionError,
    BranchExistsError,
    BranchNotFoundError,
    InvalidIdentifierError,
    TurnNotFoundError,
    erase_user,
    scripts,
)
from redis_openai_agents.write_ids import RECORD_TTL_MS


def sdk_session() -> AdvancedSQLiteSession:
    return AdvancedSQLiteSession(session_id="scenario", create_tables=True)


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def keys_of_user(r: redis.Redis, prefix: str, user_id: str) -> list[str]:
    return sorted(k for k in r.scan_iter(f"{prefix}:*", count=1000) if f"{{{user_id}}}" in k)


async def test_the_scenario_reports_what_advanced_sqlite_session_reports(
    redis_url: str, prefix: str, user_id: str
) -> None:
    expected = await run_scenario(sdk_session())
    session = AgentSession("scenario", user_id=user_id, redis_url=redis_url, prefix=prefix)
    seen = await run_scenario(session)
    check_substance(expected)
    assert seen.keys() == expected.keys()
    for name, value in expected.items():
        assert seen[name] == value, name
    await session.aclose()


@pytest.mark.parametrize("kind", ["sdk", "redis"])
async def test_bad_branch_input_raises_value_errors_like_the_sdk(
    kind: str, redis_url: str, prefix: str, user_id: str
) -> None:
    session: Any = (
        sdk_session()
        if kind == "sdk"
        else AgentSession("errors", user_id=user_id, redis_url=redis_url, prefix=prefix)
    )
    await session.add_items([user("one"), user("two")])
    await session.create_branch_from_turn(2, "b")
    cases: list[tuple[Any, type[Exception]]] = [
        (lambda: session.switch_to_branch("nope"), BranchNotFoundError),
        (lambda: session.create_branch_from_turn(9), TurnNotFoundError),
        (lambda: session.create_branch_from_turn(0), TurnNotFoundError),
        (lambda: session.create_branch_from_content("absent"), TurnNotFoundError),
        (lambda: session.create_branch_from_turn(1, "b"), BranchExistsError),
        (lambda: session.create_branch_from_turn(1, "  "), InvalidIdentifierError),
        (lambda: session.delete_branch("b"), BranchDeletionError),
        (lambda: session.delete_branch("main"), BranchDeletionError),
        (lambda: session.delete_branch("nope"), BranchNotFoundError),
        (lambda: session.delete_branch(""), InvalidIdentifierError),
    ]
    for call, error in cases:
        with pytest.raises(error if kind == "redis" else ValueError) as raised:
            await call()
        assert isinstance(raised.value, ValueError)
    assert session._current_branch_id if kind == "sdk" else session.current_branch_id == "b"
    await session.delete_branch("b", force=True)
    branches = await session.list_branches()
    assert [b["branch_id"] for b in branches] == ["main"]
    # Deleted ids stay used.
    with pytest.raises(BranchExistsError if kind == "redis" else ValueError):
        await session.create_branch_from_turn(1, "b")
    assert len(await session.get_items()) == 2
    if kind == "redis":
        await session.aclose()


async def test_another_process_sees_and_continues_a_branch(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    here = AgentSession("shared", user_id=user_id, redis_url=redis_url, prefix=prefix)
    stale = AgentSession("shared", user_id=user_id, redis_url=redis_url, prefix=prefix)
    for text in TURNS[:2]:
        await run_turn(here, text)
    await stale.get_items()  # knows of no branch
    branch = await here.create_branch_from_turn(2)
    assert branch.startswith("branch_from_turn_2_")
    code = textwrap.dedent(
        f"""
        import asyncio, json, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from advanced_scenario import run_turn
        from redis_openai_agents import AgentSession

        async def main():
            session = AgentSession("shared", user_id={user_id!r}, redis_url={redis_url!r},
                                   prefix={prefix!r})
            assert session.current_branch_id == "main"
            await session.switch_to_branch({branch!r})
            await run_turn(session, "What is the weather in Oslo?")
            print(json.dumps(await session.list_branches()))
            await session.aclose()

        asyncio.run(main())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    listed = {b["branch_id"]: b for b in json.loads(done.stdout.splitlines()[-1])}
    assert listed[branch]["user_turns"] == 2 and listed["main"]["user_turns"] == 2
    items = await here.get_items()
    assert "Oslo" in json.dumps(items) and "Paris" not in json.dumps(items)
    assert (await here.get_session_usage(branch_id=branch) or {})["total_turns"] == 1
    # An object that knew of no branch writes on main, then clears everything.
    await stale.add_items([user("later on main")])
    assert (await stale.get_items())[-1] == user("later on main")
    assert len(await here.get_items()) == len(items)
    # The branch is deleted elsewhere: writing to it fails and stores nothing.
    await stale.delete_branch(branch)
    with pytest.raises(BranchNotFoundError):
        await here.add_items([user("lost?")])
    with pytest.raises(BranchNotFoundError):
        await here.store_run_usage(await Runner.run(AGENT, "hi", run_config=RUN))
    assert "lost?" not in json.dumps(await stale.get_items())
    await stale.aclear()
    assert keys_of_user(r, prefix, user_id) == [f"{prefix}:writes:{{{user_id}}}"]
    await here.aclose()
    await stale.aclose()


async def test_re_sent_branch_writes_apply_once(redis_url: str, prefix: str, user_id: str) -> None:
    session = AgentSession("retry", user_id=user_id, redis_url=redis_url, prefix=prefix)
    for text in TURNS[:2]:
        await run_turn(session, text)
    sent: list[tuple[scripts.LuaScript, list[str], list[Any]]] = []
    original = session._connection.write

    async def capture(script: Any, records: str, keys: list[str], args: list[Any], **kw: Any):
        sent.append((script, [*keys, records], args))
        return await original(script, records, keys, args, **kw)

    session._connection.write = capture  # type: ignore[method-assign]
    await session.create_branch_from_turn(2, "b")
    await session.add_items([user("on b")])
    await session.store_run_usage(await Runner.run(AGENT, "x", run_config=RUN))
    await session.switch_to_branch("main")
    await session.delete_branch("b")
    client = session._client()
    for n, (script, keys, args) in enumerate(sent):
        replies = [await script(client, keys, [*args, f"id-{n}", RECORD_TTL_MS]) for _ in range(3)]
        assert replies[0] == replies[1] == replies[2]
    # Each re-sent twice more under one id: all applied once, then the first deletion wins.
    branches = await session.list_branches()
    assert [b["branch_id"] for b in branches] == ["main"]
    assert [b["message_count"] for b in branches] == [len(await session.get_items())]
    assert (await session.get_session_usage() or {})["total_turns"] == 2
    await session.aclose()


async def test_branch_keys_expire_with_the_conversation(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    session = AgentSession("ttl", user_id=user_id, redis_url=redis_url, prefix=prefix, ttl=600)
    await session.add_items([user("one"), user("two")])
    await session.create_branch_from_turn(2, "b")
    await session.add_items([user("only on b")])

    def expiries(count: int) -> set[int]:
        keys = [k for k in keys_of_user(r, prefix, user_id) if ":writes:" not in k]
        assert len(keys) == count  # meta, user list, order, branches, b's order, items
        return {r.pexpiretime(k) for k in keys}

    (first,) = expiries(8)
    assert first > 0
    # A new ttl re-stamps every key, the branch's own items included.
    longer = AgentSession("ttl", user_id=user_id, redis_url=redis_url, prefix=prefix, ttl=1200)
    await longer.add_items([user("three")])
    (second,) = expiries(9)
    assert second > first + 500_000
    await session.aclear()
    await longer.aclose()


async def test_erasing_leaves_nothing_of_turns_branches_or_usage(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    for name in ("one", "two"):
        session = AgentSession(name, user_id=user_id, redis_url=redis_url, prefix=prefix)
        for text in TURNS[:3]:
            await run_turn(session, text)
        await session.create_branch_from_turn(2)
        await run_turn(session, "What is the weather in Rome?")
        await session.aclose()
    assert any(":branch:" in k for k in keys_of_user(r, prefix, user_id))
    erased = erase_user(user_id, redis_url=redis_url, prefix=prefix)
    assert erased.conversations == 2 and erased.other_keys == 1
    assert keys_of_user(r, prefix, user_id) == []


async def test_branch_items_are_not_part_of_the_main_messagehistory_view(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    session = AgentSession("view", user_id=user_id, redis_url=redis_url, prefix=prefix)
    await session.add_items([user("one"), user("two")])
    await session.create_branch_from_turn(2, "b")
    await session.add_items([user("branch only")])
    await session.switch_to_branch("main")
    await session.pop_item()  # "two": only on main
    await session.switch_to_branch("b")
    assert await session.pop_item() == user("branch only")
    assert await session.get_items() == [user("one")]
    await session.switch_to_branch("main")
    assert await session.get_items() == [user("one")]
    await session.create_branch_from_turn(1, "empty")
    assert await session.get_items() == []
    await session.add_items([user("fresh start")])
    await session.switch_to_branch("main")
    await session.pop_item()  # "one", still held by b
    tags = [r.hget(k, "session_tag") for k in r.scan_iter(f"{prefix}:msg:*")]
    assert tags.count("view") == 0 and len(tags) == 2
    assert await session.get_items(branch_id="b") == [user("one")]
    assert await session.get_items(branch_id="empty") == [user("fresh start")]
    await session.aclose()


async def test_older_conversations_get_their_turns_on_first_use(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    session = AgentSession("old", user_id=user_id, redis_url=redis_url, prefix=prefix)
    await session.add_items([{"type": "message", "role": "system", "content": "s"}])
    await session.add_items([user("a"), {"role": "assistant", "content": "b"}, user("c")])
    assert not r.exists(session._keys.branches)  # plain appends keep the original keys
    turns = await session.get_conversation_turns()
    assert [t["full_content"] for t in turns] == ["a", "c"]
    await session.add_items([user("d")])
    assert await session.create_branch_from_turn(3, "d") == "d"
    assert await session.get_items() == (await session.get_items(branch_id="main"))[:4]
    assert (await session.get_conversation_by_turns())[0] == [
        {"type": "message", "tool_name": None}
    ]
    await session.aclose()


async def test_branch_operations_are_one_round_trip_each(
    redis_url: str, prefix: str, user_id: str
) -> None:
    server = ServerCommands(redis_url)
    session = AgentSession("trips", user_id=user_id, redis_url=redis_url, prefix=prefix)
    result = await Runner.run(AGENT, TURNS[0], session=session, run_config=RUN)
    await run_turn(session, TURNS[1])
    await session.create_branch_from_turn(2, "warm")
    await session.switch_to_branch("main")
    measured = {
        "create_branch_from_turn": await measure(
            server, lambda: session.create_branch_from_turn(2, "b")
        ),
        "get_items on a branch": await measure(server, session.get_items),
        "add_items on a branch": await measure(server, lambda: session.add_items([user("x")])),
        "store_run_usage": await measure(server, lambda: session.store_run_usage(result)),
        "switch_to_branch": await measure(server, lambda: session.switch_to_branch("warm")),
        "list_branches": await measure(server, session.list_branches),
        "get_conversation_turns": await measure(server, session.get_conversation_turns),
        "get_tool_usage": await measure(server, session.get_tool_usage),
        "get_session_usage": await measure(server, session.get_session_usage),
        "delete_branch": await measure(server, lambda: session.delete_branch("b")),
    }
    assert measured["get_items on a branch"] == ["SORT_RO"]
    # Main always exists: switching to it sends nothing.
    assert await measure(server, lambda: session.switch_to_branch("main")) == []
    for name, sent in measured.items():
        assert len(sent) == 1, (name, sent)
    server.close()
    await session.aclose()
