"""Write ids, refused input, the index prefix, cancellation and TTL edge cases."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
import redis

from redis_openai_agents import AgentSession, InvalidItemError, JSONSession, scripts
from redis_openai_agents.items import MAX_DEPTH
from redis_openai_agents.write_ids import RECORD_TTL_MS


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = [value]
    return value


async def resend(session: AgentSession, script: scripts.LuaScript, args: list[Any], times: int):
    """The same write sent `times` times under one write id, as a retry would."""
    client = session._client()
    keys = [*session._conversation_keys, session._keys.write_records]
    return [
        await script(client, keys, [*args, "the-write-id", RECORD_TTL_MS]) for _ in range(times)
    ]


async def test_a_re_sent_pop_returns_the_same_item_and_removes_nothing_more(
    redis_url: str, prefix: str
) -> None:
    session = AgentSession("c", user_id="u", redis_url=redis_url, prefix=prefix)
    items = [{"role": "user", "content": str(i)} for i in range(3)]
    await session.add_items(items)
    replies = await resend(
        session, scripts.POP, [session._keys.message_prefix, session.conversation_id, "main", ""], 3
    )
    assert [json.loads(r) for r in replies] == [items[2]] * 3
    assert await session.get_items() == items[:2]
    assert await session.amessage_count() == 2
    await session.aclose()


async def test_a_re_sent_append_is_stored_once(redis_url: str, prefix: str, r: redis.Redis) -> None:
    session = AgentSession("c", user_id="u", redis_url=redis_url, prefix=prefix)
    await session.add_items([{"role": "user", "content": "first"}])
    captured: list[list[Any]] = []
    original = session._connection.write

    async def capture(
        script: Any, records: str, keys: list[str], args: list[Any], *a: Any, **k: Any
    ):
        captured.append(args)
        return await original(script, records, keys, args, *a, **k)

    session._connection.write = capture  # type: ignore[method-assign]
    await session.add_items([{"role": "user", "content": "again"}])
    # The same append sent twice more under one new write id: stored once more.
    replies = await resend(session, scripts.APPEND, captured[0], 2)
    assert replies[0] == replies[1]
    assert [i["content"] for i in await session.get_items()] == ["first", "again", "again"]
    assert await session.amessage_count() == 3
    # The record expires on its own.
    records = session._keys.write_records
    ttls = r.execute_command("HPTTL", records, "FIELDS", 1, "the-write-id")
    assert 0 < ttls[0] <= RECORD_TTL_MS
    await session.aclose()


async def test_a_users_write_records_are_a_hash_table_from_the_first(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    """A record is found and added in the same time however many the user has: the hash
    never starts as a listpack, whose lookups and inserts scan every record. The first,
    padded record still answers a re-sent write with its outcome."""
    session = AgentSession("c", user_id="u", redis_url=redis_url, prefix=prefix)
    records = session._keys.write_records
    args = [
        session._keys.message_prefix,
        session._entry_prefix,
        session.user_id,
        session.conversation_id,
        "",
        "",
        "",
        1,
        "user",
        "only",
        "",
        json.dumps({"role": "user", "content": "only"}),
        "",
        "main",
        "",
        1,
        0,
    ]
    replies = await resend(session, scripts.APPEND, args, 3)
    assert replies == [[1, 1, 1]] * 3
    assert r.object("encoding", records) == "hashtable"
    assert r.hlen(records) == 1
    assert await session.get_items() == [{"role": "user", "content": "only"}]
    for i in range(20):
        await session.add_items([{"role": "user", "content": str(i)}])
    assert r.object("encoding", records) == "hashtable"
    assert r.hlen(records) == 21
    await session.aclose()


async def test_write_records_leave_with_their_last_record(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    """A record lasts no longer than the conversation it protects, and the record hash
    is deleted by Redis with its last record: nothing of an expired user stays."""
    session = AgentSession("c", user_id="u", redis_url=redis_url, prefix=prefix, ttl=0.5)
    await session.add_items([{"role": "user", "content": "brief"}])
    records = session._keys.write_records
    assert r.hlen(records) == 1
    deadline = time.monotonic() + 5
    while r.exists(records) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not r.exists(records)
    assert list(r.scan_iter(f"{prefix}:*{{u}}*")) == []
    await session.aclose()


async def test_a_re_sent_clear_does_not_delete_what_was_written_after_it(
    redis_url: str, prefix: str
) -> None:
    session = AgentSession("c", user_id="u", redis_url=redis_url, prefix=prefix)
    await session.add_items([{"role": "user", "content": "old"}])
    args = [
        session._keys.message_prefix,
        session.conversation_id,
        f"{prefix}:conv:{{u}}:",
        "",
    ]
    await resend(session, scripts.CLEAR, args, 1)
    await session.add_items([{"role": "user", "content": "new"}])
    await resend(session, scripts.CLEAR, args, 2)
    assert await session.get_items() == [{"role": "user", "content": "new"}]
    await session.aclose()


async def test_json_writes_re_sent_apply_once(redis_url: str, prefix: str) -> None:
    session = JSONSession("j", redis_url, prefix=prefix)
    await session.add_items([{"n": 1}, {"n": 2}])
    client = session._client()
    keys = [session.key, session._write_records]
    for _ in range(3):
        popped = await scripts.JSON_WRITE(client, keys, ["pop", "", "pop-id", RECORD_TTL_MS])
        assert json.loads(popped) == {"n": 2}
        await scripts.JSON_WRITE(client, keys, ["append", "", "{}", "append-id", RECORD_TTL_MS])
    assert await session.get_items() == [{"n": 1}, {}]
    await session.clear()
    await session.aclose()


async def test_the_write_id_of_an_unknown_outcome_is_reused_by_the_same_call_only(
    redis_url: str, prefix: str
) -> None:
    session = AgentSession("c", user_id="u", redis_url=redis_url, prefix=prefix)
    pending = session._connection._pending
    pending.unsettled("call-a", "id-a")
    assert pending.id_for("call-a") == "id-a"
    assert pending.id_for("call-b") != "id-a"
    pending.settled("call-a")
    assert pending.id_for("call-a") != "id-a"
    await session.aclose()


def test_only_a_call_to_the_same_script_and_keys_is_looked_up_among_unsettled_ones() -> None:
    from redis_openai_agents.write_ids import PendingWrites

    pending = PendingWrites()
    assert not pending.may_hold("sha-a", ["k1"])
    pending.unsettled("call-a", "id-a", "sha-a", ["k1", "k2"])
    assert pending.may_hold("sha-a", ["k1", "k2"])
    assert not pending.may_hold("sha-b", ["k1", "k2"])
    assert not pending.may_hold("sha-a", ["k1"])
    pending.unsettled("call-a", "id-a2", "sha-a", ["k1", "k2"])
    pending.settled("call-a")
    assert not pending.may_hold("sha-a", ["k1", "k2"])
    assert len(pending) == 0
    pending.unsettled("call-x", "id-x")
    assert pending.may_hold("sha-b", ["anything"])


# Input that cannot round-trip is refused, with nothing written


@pytest.mark.parametrize(
    "content",
    [{1: "a", "1": "b"}, {1: "a"}, {(1, 2): "a"}, "\ud800\udfff", ["x", {"k": "\udbff\udc00"}]],
    ids=["int-and-str-key", "int-key", "tuple-key", "surrogate-pair", "nested-pair"],
)
async def test_values_json_would_change_are_refused(
    redis_url: str, prefix: str, r: redis.Redis, content: Any
) -> None:
    agent = AgentSession("c", user_id="u", redis_url=redis_url, prefix=prefix)
    with pytest.raises(InvalidItemError):
        await agent.add_items([{"role": "user", "content": content}])
    with pytest.raises(InvalidItemError):
        await agent.aadd_message("user", "text", extra=content)
    doc = JSONSession("j", redis_url, prefix=prefix)
    with pytest.raises(TypeError):
        await doc.set("k", content)
    with pytest.raises(InvalidItemError):
        await doc.add_items([{"content": content}])
    assert list(r.scan_iter(f"{prefix}:*")) == []
    await agent.aclose()
    await doc.aclose()


async def test_lone_surrogates_round_trip_exactly_and_titles_stay_storable(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    items = [
        {"role": "user", "content": "hi \ud800"},
        {"role": "assistant", "content": [{"type": "output_text", "text": "\udfff x \ud800"}]},
    ]
    agent = AgentSession("c", user_id="u", redis_url=redis_url, prefix=prefix)
    await agent.add_items(items)
    assert await agent.get_items() == items
    assert (await agent.aget_metadata())["title"] == "hi ?"
    with pytest.raises(InvalidItemError):
        await agent.astore_exchange("q", "a", agent_name="bad \udc00")
    assert await agent.amessage_count() == 2
    doc = JSONSession("j", redis_url, prefix=prefix)
    await doc.set("k", "a \ud800 b")
    assert await doc.get("k") == "a \ud800 b"
    with pytest.raises(TypeError):
        await doc.set("key \ud800", 1)
    await doc.clear()
    await agent.aclose()
    await doc.aclose()


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 128, 400, 5000])
async def test_one_nesting_limit_with_one_typed_error(
    redis_url: str, prefix: str, r: redis.Redis, depth: int
) -> None:
    agent = AgentSession("c", user_id="u", redis_url=redis_url, prefix=prefix)
    doc = JSONSession("j", redis_url, prefix=prefix)
    with pytest.raises(InvalidItemError, match=f"deeper than {MAX_DEPTH}"):
        await agent.add_items([{"role": "user", "content": nested(depth)}])
    with pytest.raises(InvalidItemError, match=f"deeper than {MAX_DEPTH}"):
        await doc.add_items([{"content": nested(depth)}])
    with pytest.raises(TypeError, match=f"deeper than {MAX_DEPTH}"):
        await doc.set("k", nested(depth))
    assert list(r.scan_iter(f"{prefix}:*")) == []
    # The limit itself is stored and read back by both.
    deepest = {"role": "user", "content": nested(MAX_DEPTH - 1)}
    await agent.add_items([deepest])
    assert await agent.get_items() == [deepest]
    await doc.set("k", nested(MAX_DEPTH))
    assert await doc.get("k") == nested(MAX_DEPTH)
    await doc.add_items([deepest])
    assert await doc.get_items() == [deepest]
    await agent.aclear()
    await doc.clear()
    await agent.aclose()
    await doc.aclose()


# The index, cancellation, TTL


async def test_the_index_covers_only_keys_under_its_separator(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    """An index of earlier versions over `roa:msg` (which also matches `roa:msgx...`) is
    recreated over `roa:msg:`, and enabling returns once the stored messages are in it."""
    r.execute_command(
        "FT.CREATE", f"{prefix}:messages", "ON", "HASH", "PREFIX", 1, f"{prefix}:msg",
        "SCHEMA", "role", "TAG",
    )  # fmt: skip
    r.hset(f"{prefix}:msgx:other-app", mapping={"role": "user"})
    session = AgentSession("c", user_id="u", redis_url=redis_url, prefix=prefix)
    await session.add_items([{"role": "user", "content": "hello"}])
    assert await AgentSession.aenable_message_index(redis_url, prefix=prefix) == 1
    definition = r.ft(f"{prefix}:messages").info()["index_definition"]
    if not isinstance(definition, dict):
        definition = dict(zip(definition[::2], definition[1::2], strict=False))
    assert definition["prefixes"] == [f"{prefix}:msg:"]
    found = r.ft(f"{prefix}:messages").search("*")
    assert [doc.id for doc in found.docs] == [f"{session._keys.message_prefix}0"]
    await session.aclose()


@pytest.mark.parametrize("kind", ["agent", "json"])
async def test_a_write_cancelled_on_the_wire_is_stored_once_before_the_cancel_is_raised(
    redis_url: str, prefix: str, r: redis.Redis, kind: str
) -> None:
    """The server holds the append (CLIENT PAUSE WRITE) while its caller is cancelled,
    twice: the cancel waits for the write's outcome, which is one stored batch."""
    session: AgentSession | JSONSession = (
        AgentSession("c", user_id="u", redis_url=redis_url, prefix=prefix)
        if kind == "agent"
        else JSONSession("c", redis_url, prefix=prefix)
    )
    await session.add_items([{"role": "user", "content": "before"}])
    batch = [{"role": "assistant", "content": str(i)} for i in range(3)]
    r.execute_command("CLIENT", "PAUSE", 400, "WRITE")
    started = time.monotonic()
    task = asyncio.ensure_future(session.add_items(batch))
    await asyncio.sleep(0.1)
    task.cancel()
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started >= 0.35
    items = await session.get_items()
    assert items == [{"role": "user", "content": "before"}, *batch]
    await session.add_items([{"role": "user", "content": "after"}])
    assert (await session.get_items(limit=1)) == [{"role": "user", "content": "after"}]
    await session.aclose()


async def test_a_json_session_emptied_by_pops_and_deletes_keeps_its_ttl(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    session = JSONSession("j", redis_url, ttl=60, prefix=prefix)
    await session.add_items([{"n": 1}])
    await session.set("k", 1)
    await session.pop_item()
    await session.delete("k")
    assert 59_000 < r.pttl(session.key) <= 60_000
    later = JSONSession("j", redis_url, prefix=prefix)
    assert await later.pop_item() is None
    assert await later.delete("missing") is False
    assert 59_000 < r.pttl(session.key) <= 60_000
    await session.clear()
    await session.aclose()
    await later.aclose()


@pytest.mark.parametrize(
    "options",
    [
        {"wait_replicas": -1},
        {"wait_replicas": True},
        {"wait_timeout": 0},
        {"wait_timeout": float("nan")},
        {"retry_timeout": -1},
        {"retry_timeout": "5"},
    ],
)
def test_retry_and_replication_settings_are_checked(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        AgentSession("c", user_id="u", **options)
    with pytest.raises(ValueError):
        JSONSession("j", **options)


async def test_a_server_never_reached_fails_at_once(redis_url: str, prefix: str) -> None:
    from redis_openai_agents import RedisUnavailableError

    started = asyncio.get_running_loop().time()
    with pytest.raises(RedisUnavailableError) as never:
        await AgentSession("c", user_id="u", redis_url="redis://127.0.0.1:1").get_items()
    assert asyncio.get_running_loop().time() - started < 2
    assert "unreachable for" not in str(never.value)


async def test_writes_and_reads_after_the_server_forgot_its_scripts(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    """After `SCRIPT FLUSH` (a restart, a failover to a replica that never ran them), each
    script is sent in full once and its write is applied once."""
    session = AgentSession("c", user_id="u", redis_url=redis_url, prefix=prefix)
    await session.add_items([{"role": "user", "content": "before"}])
    r.script_flush()
    assert r.script_exists(scripts.APPEND.sha) == [False]
    await session.add_items([{"role": "user", "content": "after"}])
    assert r.script_exists(scripts.APPEND.sha) == [True]
    assert [i["content"] for i in await session.get_items()] == ["before", "after"]
    assert await session.amessage_count() == 2
    await session.aclose()
