"""Many writers on one conversation, cancelled writers, and keys that expire together."""

from __future__ import annotations

import asyncio
import itertools
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import redis

from redis_openai_agents import AgentSession, SessionNotFoundError

WRITERS = 50
BATCH = 3


def tag(user_id: str) -> str:
    escaped = user_id.replace("%", "%25").replace("{", "%7B").replace("}", "%7D")
    return "{" + escaped + "}"


def meta_key(prefix: str, user_id: str, conversation_id: str) -> str:
    return f"{prefix}:conv:{tag(user_id)}:{conversation_id}"


def message_key(prefix: str, user_id: str, conversation_id: str, seq: int) -> str:
    return f"{prefix}:msg:{tag(user_id)}:{conversation_id}:{seq}"


def user_index_key(prefix: str, user_id: str) -> str:
    return f"{prefix}:user:{tag(user_id)}"


def message_keys(r: redis.Redis, prefix: str, user_id: str, conversation_id: str) -> list[str]:
    start = message_key(prefix, user_id, conversation_id, 0)[:-1]
    found = [
        k
        for k in r.scan_iter(f"{prefix}:msg:*", count=1000)
        if k.startswith(start) and k[len(start) :].isdigit()
    ]
    return sorted(found, key=lambda k: int(k[len(start) :]))


def new(
    redis_url: str, prefix: str, user_id: str, conversation_id: str = "conv", **kw: Any
) -> AgentSession:
    return AgentSession(conversation_id, user_id=user_id, redis_url=redis_url, prefix=prefix, **kw)


def batch(name: str, size: int = BATCH) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"{name}/{i:03d}"} for i in range(size)]


def assert_whole_batches(items: list[Any], size: int) -> list[str]:
    """Items come in whole batches: `size` items of one batch, contiguous and in order."""
    contents = [item["content"] for item in items]
    assert len(contents) % size == 0, f"{len(contents)} items is not a whole number of batches"
    names = []
    for start in range(0, len(contents), size):
        name = contents[start].split("/")[0]
        assert contents[start : start + size] == [f"{name}/{i:03d}" for i in range(size)]
        names.append(name)
    assert len(set(names)) == len(names), "a batch was stored twice"
    return names


def assert_sequence_and_clock_order(
    r: redis.Redis,
    prefix: str,
    user_id: str,
    conversation_id: str,
    items: list[Any],
    *,
    check_clock: bool = True,
) -> None:
    """Redis holds the items under strictly increasing seq and timestamp, in read order."""
    keys = message_keys(r, prefix, user_id, conversation_id)
    assert len(keys) == len(items)
    rows = [r.hmget(k, "entry_id", "timestamp", "content") for k in keys]
    seqs = [int(entry_id.rsplit(":", 1)[1]) for entry_id, _, _ in rows]
    stamps = [float(ts) for _, ts, _ in rows]
    assert seqs == sorted(set(seqs))
    if check_clock:
        ties = [(a, b) for a, b in itertools.pairwise(stamps) if a >= b]
        assert not ties, f"{len(ties)} timestamps do not increase, e.g. {ties[0]}"
    assert [content for _, _, content in rows] == [item["content"] for item in items]
    assert int(r.hget(meta_key(prefix, user_id, conversation_id), "count")) == len(items)


# Concurrent writers


async def test_concurrent_async_writers_keep_every_batch_whole_and_ordered(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    writers = [new(redis_url, prefix, user_id) for _ in range(WRITERS)]
    await asyncio.gather(*(w.add_items(batch(f"w{i:02d}")) for i, w in enumerate(writers)))

    items = await new(redis_url, prefix, user_id).get_items()
    assert len(items) == WRITERS * BATCH
    names = assert_whole_batches(items, BATCH)
    assert sorted(names) == [f"w{i:02d}" for i in range(WRITERS)]
    assert_sequence_and_clock_order(r, prefix, user_id, "conv", items)
    messages = await writers[0].aget_messages()
    stamps = [m["timestamp"] for m in messages]
    assert all(a < b for a, b in itertools.pairwise(stamps))
    for w in writers:
        await w.aclose()


async def test_concurrent_writers_sharing_one_session_object(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    session = new(redis_url, prefix, user_id)
    await asyncio.gather(*(session.add_items(batch(f"s{i:02d}")) for i in range(WRITERS)))
    items = await session.get_items()
    assert len(assert_whole_batches(items, BATCH)) == WRITERS
    assert_sequence_and_clock_order(r, prefix, user_id, "conv", items)
    await session.aclose()


def test_threads_using_the_sync_api_keep_every_exchange_whole(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    shared = AgentSession.create(user_id, redis_url, prefix=prefix, conversation_id="conv")
    start = threading.Barrier(WRITERS)

    def write(i: int) -> None:
        own = AgentSession("conv", user_id=user_id, redis_url=redis_url, prefix=prefix)
        start.wait()
        target = shared if i % 2 else own
        target.store_exchange(f"t{i:02d}/000", f"t{i:02d}/001", agent_name=f"agent-{i}")
        own.close()

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        list(pool.map(write, range(WRITERS)))

    items = shared.to_agent_inputs()
    assert len(items) == WRITERS * 2
    names = assert_whole_batches(items, 2)
    assert [item["role"] for item in items] == ["user", "assistant"] * WRITERS
    assert_sequence_and_clock_order(r, prefix, user_id, "conv", items)
    assert shared.message_count() == WRITERS * 2
    # The conversation's last agent is the one of the exchange stored last.
    assert AgentSession.load("conv", user_id, redis_url, prefix=prefix).current_agent == (
        f"agent-{int(names[-1][1:])}"
    )
    shared.close()


def test_threads_each_with_their_own_event_loop(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    start = threading.Barrier(WRITERS)

    def write(i: int) -> None:
        async def run() -> None:
            async with new(redis_url, prefix, user_id) as session:
                start.wait()
                await session.add_items(batch(f"l{i:02d}"))

        asyncio.run(run())

    with ThreadPoolExecutor(max_workers=WRITERS) as pool:
        list(pool.map(write, range(WRITERS)))

    items = asyncio.run(new(redis_url, prefix, user_id).get_items())
    assert len(assert_whole_batches(items, BATCH)) == WRITERS
    assert_sequence_and_clock_order(r, prefix, user_id, "conv", items)


async def test_timestamps_stay_strictly_increasing_within_a_large_batch(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    """MessageHistory orders by timestamp alone, so two items must never share one."""
    session = new(redis_url, prefix, user_id)
    await session.add_items(batch("big", 200))
    await session.add_items(batch("next", 200))
    items = await session.get_items()
    assert_sequence_and_clock_order(r, prefix, user_id, "conv", items)
    await session.aclose()


# Cancellation


async def test_cancelled_add_items_stores_each_batch_entirely_or_not_at_all(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    rng = random.Random(20240531)
    session = new(redis_url, prefix, user_id)
    size = 200
    await session.add_items(batch("warmup", size))
    never_started = set()
    for run in range(30):
        name = f"r{run:02d}"
        task = asyncio.create_task(session.add_items(batch(name, size)))
        if run % 3 == 0:
            never_started.add(name)  # cancelled before its first step
        else:
            await asyncio.sleep(rng.uniform(0, 0.004))
        task.cancel()
        if run % 2:
            await asyncio.sleep(0)
            task.cancel()  # cancelled again while it may be finishing
        (outcome,) = await asyncio.gather(task, return_exceptions=True)
        assert outcome is None or isinstance(outcome, asyncio.CancelledError)

    items = await new(redis_url, prefix, user_id).get_items()
    names = assert_whole_batches(items, size)
    assert names[0] == "warmup"
    assert not never_started & set(names)
    # Timestamps inside big batches are test_timestamps_stay_strictly_increasing_...'s topic.
    assert_sequence_and_clock_order(r, prefix, user_id, "conv", items, check_clock=False)

    # The session (and its connection pool) is still healthy after all those cancels.
    await session.add_items(batch("after", 2))
    assert (await session.get_items(limit=2)) == batch("after", 2)
    await session.aclose()


# TTL

TTL_SECONDS = 20
TTL_MS = TTL_SECONDS * 1000


def assert_pttl_near(r: redis.Redis, keys: list[str], ttl_ms: int) -> None:
    for key in keys:
        remaining = r.pttl(key)
        assert ttl_ms * 0.99 - 1_000 <= remaining <= ttl_ms, (key, remaining)


async def test_every_key_of_a_conversation_expires_at_one_instant_near_the_ttl(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    session = await AgentSession.acreate(
        user_id, redis_url, ttl=TTL_SECONDS, prefix=prefix, conversation_id="conv"
    )
    for i in range(4):
        await session.add_items(batch(f"b{i}"))
    await session.astore_exchange("question", "answer", agent_name="helper")

    meta = meta_key(prefix, user_id, "conv")
    messages = message_keys(r, prefix, user_id, "conv")
    index = user_index_key(prefix, user_id)
    assert len(messages) == 4 * BATCH + 2
    assert_pttl_near(r, [meta, *messages, index], TTL_MS)
    expiries = {r.execute_command("PEXPIRETIME", k) for k in [meta, *messages]}
    assert len(expiries) == 1, "message keys expire at different instants"
    (expiry,) = expiries
    assert r.execute_command("PEXPIRETIME", index) >= expiry

    # Past the 1% window a write moves every key, old ones included, to a new instant.
    time.sleep(TTL_SECONDS / 100 + 0.1)
    await session.add_items(batch("later"))
    messages = message_keys(r, prefix, user_id, "conv")
    moved = {r.execute_command("PEXPIRETIME", k) for k in [meta, *messages]}
    assert len(moved) == 1
    assert moved.pop() >= expiry + TTL_SECONDS * 10
    assert_pttl_near(r, [meta, *messages, index], TTL_MS)
    await session.aclose()


async def test_sliding_ttl_keeps_an_active_conversation_and_expires_an_idle_one(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    keeper = new(redis_url, prefix, user_id, "keeper")  # no ttl: keeps the user's index alive
    await keeper.add_items(batch("keep"))
    session = await AgentSession.acreate(
        user_id, redis_url, ttl=3, prefix=prefix, conversation_id="short"
    )
    await session.add_items(batch("first"))
    first_key = message_key(prefix, user_id, "short", 0)
    await asyncio.sleep(1.5)
    await session.add_items(batch("second"))
    await asyncio.sleep(2.0)  # 3.5 s after the first write, 2 s after the last

    assert r.exists(first_key), "the first message expired although the conversation is active"
    assert len(await new(redis_url, prefix, user_id, "short").get_items()) == 2 * BATCH
    listed = await AgentSession.alist_sessions(user_id, redis_url, prefix=prefix)
    assert [s.conversation_id for s in listed] == ["short", "keeper"]

    await asyncio.sleep(1.3)  # now more than 3 s after the last write
    assert not r.exists(meta_key(prefix, user_id, "short"))
    assert message_keys(r, prefix, user_id, "short") == []
    assert await new(redis_url, prefix, user_id, "short").get_items() == []
    listed = await AgentSession.alist_sessions(user_id, redis_url, prefix=prefix)
    assert [s.conversation_id for s in listed] == ["keeper"]
    assert r.zrange(user_index_key(prefix, user_id), 0, -1) == ["keeper"]
    with pytest.raises(SessionNotFoundError):
        await AgentSession.aload("short", user_id, redis_url, prefix=prefix)
    assert len(await keeper.get_items()) == BATCH
    await session.aclose()
    await keeper.aclose()


async def test_a_whole_users_data_expires_when_all_their_conversations_do(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    session = await AgentSession.acreate(user_id, redis_url, ttl=1, prefix=prefix)
    await session.add_items(batch("brief"))
    await asyncio.sleep(1.3)
    assert list(r.scan_iter(f"{prefix}:*{tag(user_id)}*", count=1000)) == []
    assert await AgentSession.alist_sessions(user_id, redis_url, prefix=prefix) == []
    await session.aclose()


async def test_a_loaded_session_without_ttl_keeps_the_stored_ttl(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    created = await AgentSession.acreate(
        user_id, redis_url, ttl=TTL_SECONDS, prefix=prefix, conversation_id="conv"
    )
    await created.add_items(batch("created"))
    await created.aclose()

    loaded = await AgentSession.aload("conv", user_id, redis_url, prefix=prefix)
    assert loaded.ttl is None
    await loaded.add_items(batch("loaded"))
    await loaded.astore_exchange("q", "a")
    keys = [meta_key(prefix, user_id, "conv"), *message_keys(r, prefix, user_id, "conv")]
    assert len(keys) == 1 + 2 * BATCH + 2
    assert_pttl_near(r, keys, TTL_MS)
    assert len({r.execute_command("PEXPIRETIME", k) for k in keys}) == 1
    assert (await loaded.aget_metadata())["ttl"] == TTL_SECONDS

    # Loading with a new ttl moves every key of the conversation to it.
    longer = await AgentSession.aload("conv", user_id, redis_url, prefix=prefix, ttl=600)
    await longer.add_items(batch("longer"))
    keys = [meta_key(prefix, user_id, "conv"), *message_keys(r, prefix, user_id, "conv")]
    assert_pttl_near(r, [*keys, user_index_key(prefix, user_id)], 600_000)
    assert len({r.execute_command("PEXPIRETIME", k) for k in keys}) == 1
    await loaded.aclose()
    await longer.aclose()


async def test_a_conversation_without_ttl_never_expires(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    session = await AgentSession.acreate(user_id, redis_url, prefix=prefix, conversation_id="c")
    await session.add_items(batch("forever"))
    await session.pop_item()
    keys = [
        meta_key(prefix, user_id, "c"),
        user_index_key(prefix, user_id),
        *message_keys(r, prefix, user_id, "c"),
    ]
    assert len(keys) == 2 + BATCH - 1
    assert [r.pttl(k) for k in keys] == [-1] * len(keys)
    await session.aclose()


@pytest.mark.parametrize("persistent_first", [True, False], ids=["persistent-first", "ttl-first"])
async def test_the_user_index_outlives_every_conversation_in_it(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis, persistent_first: bool
) -> None:
    persistent = new(redis_url, prefix, user_id, "persistent")
    short = new(redis_url, prefix, user_id, "short", ttl=TTL_SECONDS)
    long = new(redis_url, prefix, user_id, "long", ttl=600)
    order = [persistent, short, long] if persistent_first else [short, long, persistent]
    for s in order:
        await s.add_items(batch(s.conversation_id))
    await short.add_items(batch("short-again"))
    assert r.pttl(user_index_key(prefix, user_id)) == -1

    await persistent.aclear()
    await short.add_items(batch("short-third"))
    index_expiry = r.execute_command("PEXPIRETIME", user_index_key(prefix, user_id))
    long_expiry = r.execute_command("PEXPIRETIME", meta_key(prefix, user_id, "long"))
    assert index_expiry == -1 or index_expiry >= long_expiry
    for s in (persistent, short, long):
        await s.aclose()


async def test_pop_item_keeps_the_remaining_keys_on_the_conversation_expiry(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    session = new(redis_url, prefix, user_id, ttl=TTL_SECONDS)
    await session.add_items(batch("pop", 5))
    await session.pop_item()
    keys = [meta_key(prefix, user_id, "conv"), *message_keys(r, prefix, user_id, "conv")]
    assert len(keys) == 5
    assert_pttl_near(r, keys, TTL_MS)
    assert len({r.execute_command("PEXPIRETIME", k) for k in keys}) == 1
    await session.aclose()


async def test_nothing_of_a_user_outlives_their_conversations_after_a_clear(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    """Once only expiring conversations remain, the user's index must expire with them."""
    persistent = new(redis_url, prefix, user_id, "persistent")
    brief = new(redis_url, prefix, user_id, "brief", ttl=1)
    await persistent.add_items(batch("persistent"))
    await brief.add_items(batch("brief"))
    await persistent.aclear()
    await brief.add_items(batch("brief-again"))

    await asyncio.sleep(1.3)
    # Only the records of the persistent conversation's writes stay (its add and its
    # clear), so that a re-sent one is still recognised; they expire on their own.
    left = list(r.scan_iter(f"{prefix}:*{tag(user_id)}*", count=1000))
    assert left == [f"{prefix}:writes:{tag(user_id)}"]
    fields = r.hkeys(left[0])
    assert len(fields) == 2
    ttls = r.execute_command("HPTTL", left[0], "FIELDS", len(fields), *fields)
    assert all(0 < ttl <= 300_000 for ttl in ttls)
    await persistent.aclose()
    await brief.aclose()
