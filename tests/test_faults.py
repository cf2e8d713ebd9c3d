"""Faults: kill -9, dropped connections, restarts, a frozen server, Sentinel failover.

Each test starts its own servers (the suite's shared one is never broken), writes
uniquely marked batches while the fault happens, and then counts what was stored: every
acknowledged batch exactly once and contiguous, no pop removing more than it returned.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from pathlib import Path

import pytest
import redis
import redis.asyncio as aioredis
import redis.asyncio.sentinel as aio_sentinel
import redis.sentinel
from fault_harness import (
    DEBUG_ARGS,
    aof_args,
    batch,
    kill9,
    run_writers,
    sentinel_setup,
    server,
)

from redis_openai_agents import (
    AgentSession,
    JSONSession,
    ReplicationTimeoutError,
    WriteOutcomeUnknownError,
)
from redis_openai_agents.embedded import EmbeddedRedis

WRITERS = 16
BATCHES = 25
KILL_BATCHES = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sessions_for(url: str, count: int = WRITERS, **options: object) -> list[AgentSession]:
    return [
        AgentSession(f"conv-{n}", user_id=f"user-{n % 4}", redis_url=url, **options)  # type: ignore[arg-type]
        for n in range(count)
    ]


async def close_all(sessions: list[AgentSession]) -> None:
    for session in sessions:
        await session.aclose()


async def test_kill_9_with_an_fsynced_aof_loses_no_acknowledged_batch(tmp_path: Path) -> None:
    port = free_port()
    args = [*DEBUG_ARGS, *aof_args(tmp_path)]
    servers = [EmbeddedRedis(port=port, extra_args=args).start()]
    url = servers[0].url
    sessions = sessions_for(url, retry_timeout=20)

    async def fault() -> None:
        for _ in range(2):
            await asyncio.sleep(0.05)
            kill9(servers[-1])
            await asyncio.sleep(0.3)
            servers.append(await asyncio.to_thread(EmbeddedRedis(port=port, extra_args=args).start))

    # Each writer needs at least 60 x 20 ms, longer than both kills and restarts take.
    try:
        tally = await run_writers(sessions, KILL_BATCHES, fault, pause=0.02)
    finally:
        await close_all(sessions)
        for started in servers:
            started.stop()
    print("kill -9 x2, AOF fsync always:", tally.figures())
    assert tally.writing_through_fault
    assert len(tally.acknowledged) == WRITERS * KILL_BATCHES
    assert (tally.lost, tally.duplicated, tally.torn) == (0, 0, 0)
    assert tally.errors["RedisUnavailableError"] == 0


async def test_client_kill_and_idle_timeouts_are_recovered_without_errors() -> None:
    with server() as started:
        admin = redis.Redis(port=started.port)
        sessions = sessions_for(started.url, count=32)
        await asyncio.gather(*(s.add_items(batch(n, 999)) for n, s in enumerate(sessions)))
        assert admin.client_kill_filter(_type="normal") >= 1
        # Every pooled connection is dead now; the next call on each still succeeds.
        counts = await asyncio.gather(*(s.amessage_count() for s in sessions))
        assert counts == [3] * 32

        async def fault() -> None:
            for _ in range(5):
                await asyncio.sleep(0.1)
                admin.client_kill_filter(_type="normal")

        tally = await run_writers(sessions, 30, fault, pause=0.02)
        print("CLIENT KILL x5:", tally.figures())
        assert tally.writing_through_fault
        assert len(tally.acknowledged) == 32 * 30
        assert (tally.lost, tally.duplicated, tally.torn) == (0, 0, 0)
        assert sum(tally.errors.values()) == 0

        admin.config_set("timeout", 1)
        await asyncio.sleep(2.2)  # the server closes every idle connection
        assert await asyncio.gather(*(s.amessage_count() for s in sessions)) == [93] * 32
        await close_all(sessions)
        admin.close()


async def test_a_server_restart_is_waited_out(tmp_path: Path) -> None:
    port = free_port()
    args = [*DEBUG_ARGS, *aof_args(tmp_path)]
    servers = [EmbeddedRedis(port=port, extra_args=args).start()]
    sessions = sessions_for(servers[0].url, retry_timeout=20)
    json_session = JSONSession("doc", servers[0].url, retry_timeout=20)
    await json_session.set("k", 1)

    async def fault() -> None:
        await asyncio.sleep(0.3)
        with redis.Redis(port=port) as admin, contextlib.suppress(redis.ConnectionError):
            await asyncio.to_thread(admin.shutdown)
        while servers[-1].is_running:
            await asyncio.sleep(0.01)
        servers.append(await asyncio.to_thread(EmbeddedRedis(port=port, extra_args=args).start))

    try:
        # Writers pause long enough to be still writing when the shutdown comes at 0.3 s.
        tally = await run_writers(sessions, BATCHES, fault, pause=0.05)
        assert await json_session.get("k") == 1
    finally:
        await close_all(sessions)
        await json_session.aclose()
        for started in servers:
            started.stop()
    print("SHUTDOWN and restart:", tally.figures())
    assert tally.writing_through_fault
    assert len(tally.acknowledged) == WRITERS * BATCHES
    assert (tally.lost, tally.duplicated, tally.torn) == (0, 0, 0)


async def test_a_frozen_server_and_a_retrying_client_store_each_write_once() -> None:
    """redis-py's default Retry re-sends a timed-out script; write ids make it harmless."""
    with server() as started:
        admin = redis.Redis(port=started.port)
        client = aioredis.Redis(port=started.port, socket_timeout=0.3)
        sessions = [
            AgentSession(f"c{n}", user_id="u", redis_client=client, retry_timeout=10)
            for n in range(8)
        ]

        async def fault() -> None:
            for _ in range(2):
                await asyncio.sleep(0.2)
                await asyncio.to_thread(admin.execute_command, "DEBUG", "SLEEP", "0.8")

        tally = await run_writers(sessions, 40, fault, pause=0.02)
        print("DEBUG SLEEP 0.8 x2, client socket_timeout 0.3 s:", tally.figures())
        assert tally.writing_through_fault
        assert (tally.lost, tally.duplicated, tally.torn) == (0, 0, 0)
        assert len(tally.acknowledged) == 320

        # Pops re-sent by the client: each removes one item and returns it.
        popper = sessions[0]
        await popper.aclear()
        await popper.add_items([{"role": "user", "content": str(i)} for i in range(20)])
        sleeper = asyncio.ensure_future(
            asyncio.to_thread(admin.execute_command, "DEBUG", "SLEEP", "0.8")
        )
        await asyncio.sleep(0.05)
        popped = await asyncio.gather(*(popper.pop_item() for _ in range(6)))
        await sleeper
        assert len({p["content"] for p in popped if p}) == 6
        remaining = await popper.get_items()
        assert len(remaining) == 14
        assert {p["content"] for p in popped if p}.isdisjoint(i["content"] for i in remaining)

        json_session = JSONSession("frozen", redis_client=client, retry_timeout=10)
        await json_session.add_items([{"n": i} for i in range(10)])
        sleeper = asyncio.ensure_future(
            asyncio.to_thread(admin.execute_command, "DEBUG", "SLEEP", "0.8")
        )
        await asyncio.sleep(0.05)
        json_popped = await asyncio.gather(
            *(json_session.pop_item() for _ in range(3)),
            json_session.add_items([{"n": "new"}]),
        )
        await sleeper
        assert len(await json_session.get_items()) == 10 - 3 + 1
        assert len({p["n"] for p in json_popped[:3] if p}) == 3
        await json_session.clear()
        await json_session.aclose()
        await close_all(sessions)
        await client.aclose()
        admin.close()


async def test_a_reply_that_never_came_is_resolved_by_repeating_the_call() -> None:
    with server() as started:
        admin = redis.Redis(port=started.port)
        url = f"{started.url}?socket_timeout=0.3"
        session = AgentSession("c", user_id="u", redis_url=url, retry_timeout=0.5)
        await session.add_items(batch(0, 0))
        # Sent on a socket already open, so the server is asleep before the append is sent.
        freezer = socket.create_connection(("127.0.0.1", started.port))
        freezer.sendall(b"*3\r\n$5\r\nDEBUG\r\n$5\r\nSLEEP\r\n$3\r\n1.5\r\n")
        sleeper = asyncio.ensure_future(asyncio.to_thread(freezer.recv, 64))
        await asyncio.sleep(0.05)
        with pytest.raises(WriteOutcomeUnknownError):
            await session.add_items(batch(0, 1))
        assert await sleeper == b"+OK\r\n"
        freezer.close()
        # Applied once by the server after its sleep; the repeat is recognised.
        await session.add_items(batch(0, 1))
        assert [i["content"] for i in await session.get_items()] == [
            i["content"] for i in batch(0, 0) + batch(0, 1)
        ]
        # The same arguments again, once the outcome was known, are a new write.
        await session.add_items(batch(0, 1))
        assert await session.amessage_count() == 9
        await session.aclose()
        admin.close()


async def test_too_few_replicas_raise_a_typed_error_and_a_repeat_applies_nothing_more() -> None:
    with server() as started:
        session = AgentSession(
            "c", user_id="u", redis_url=started.url, wait_replicas=1, wait_timeout=0.05
        )
        for _ in range(3):
            with pytest.raises(ReplicationTimeoutError) as raised:
                await session.add_items(batch(0, 0))
            assert (raised.value.acknowledged, raised.value.required) == (0, 1)
        assert await session.amessage_count() == 3
        for _ in range(2):
            with pytest.raises(ReplicationTimeoutError):
                await session.pop_item()
        assert await session.amessage_count() == 2
        await session.aclose()


async def test_sentinel_clients_talk_to_the_current_master() -> None:
    with sentinel_setup() as setup:
        sync_client = redis.sentinel.Sentinel([("127.0.0.1", setup.sentinel_port)]).master_for(
            setup.service
        )
        async_client = aio_sentinel.Sentinel([("127.0.0.1", setup.sentinel_port)]).master_for(
            setup.service
        )
        for client in (sync_client, async_client):
            session = AgentSession("c", user_id=f"u-{type(client).__module__}", redis_client=client)
            await session.add_items(batch(0, 0))
            assert session.redis_url == f"redis://127.0.0.1:{setup.master.port}/0"
            with redis.Redis(port=setup.master.port) as master:
                assert master.hget(session._keys.meta, "count") == b"3"
            await session.aclose()
        sync_session = AgentSession("sync", user_id="u", redis_client=sync_client)
        sync_session.add_message("user", "hi")
        assert sync_session.message_count() == 1
        sync_session.close()
        sync_client.close()
        await async_client.aclose()


@pytest.mark.parametrize("wait_replicas", [0, 1])
async def test_sentinel_failover_during_writes(wait_replicas: int) -> None:
    with sentinel_setup() as setup:
        sentinels = [("127.0.0.1", setup.sentinel_port)]
        client = aio_sentinel.Sentinel(sentinels, socket_timeout=2).master_for(setup.service)
        sessions = [
            AgentSession(
                f"conv-{n}",
                user_id=f"user-{n % 4}",
                redis_client=client,
                retry_timeout=20,
                wait_replicas=wait_replicas,
                wait_timeout=0.5,
            )
            for n in range(8)
        ]
        new_master: list[int] = []

        async def fault() -> None:
            await asyncio.sleep(0.5)
            new_master.append(await asyncio.to_thread(setup.failover))

        started = time.monotonic()
        readers = [
            AgentSession(s.conversation_id, user_id=s.user_id, redis_url=setup.replica.url)
            for s in sessions
        ]

        async def settle() -> None:
            await fault()
            await asyncio.to_thread(setup.wait_demoted, setup.master.port)

        tally = await run_writers(sessions, 40, settle, pause=0.05, readers=readers)
        await close_all(readers)
        print(
            f"SENTINEL FAILOVER, wait_replicas={wait_replicas}:",
            tally.figures(),
            f"({time.monotonic() - started:.1f} s)",
        )
        assert new_master == [setup.replica.port]
        await sessions[0].add_items(batch(0, 999))
        assert sessions[0].redis_url == f"redis://127.0.0.1:{setup.replica.port}/0"
        assert tally.duplicated == 0 and tally.torn == 0
        if wait_replicas:
            assert tally.lost == 0
            assert len(tally.acknowledged) == 8 * 40
        await close_all(sessions)
        await client.aclose()
