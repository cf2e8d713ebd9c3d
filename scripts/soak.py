"""Longer fault runs than the test suite's (`make soak`): figures per scenario.

Each scenario starts its own servers, writes uniquely marked batches from many sessions
while the fault repeats, and prints batches acknowledged / lost / duplicated / torn.
Exits 1 when an acknowledged batch was lost (except where durability was not asked for)
or any batch was stored twice or torn.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import redis
import redis.asyncio as aioredis
import redis.asyncio.sentinel as aio_sentinel
from fault_harness import (
    DEBUG_ARGS,
    Tally,
    aof_args,
    kill9,
    run_writers,
    sentinel_setup,
    server,
)

from redis_openai_agents import AgentSession
from redis_openai_agents.embedded import EmbeddedRedis

Scenario = Callable[[argparse.Namespace], Awaitable[tuple[Tally, bool]]]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _sessions(count: int, **options: object) -> list[AgentSession]:
    return [
        AgentSession(f"conv-{n}", user_id=f"user-{n % 8}", **options)  # type: ignore[arg-type]
        for n in range(count)
    ]


async def _close(sessions: list[AgentSession]) -> None:
    for session in sessions:
        await session.aclose()


async def kill_9(args: argparse.Namespace) -> tuple[Tally, bool]:
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        extra = [*DEBUG_ARGS, *aof_args(Path(tmp))]
        servers = [EmbeddedRedis(port=port, extra_args=extra).start()]
        sessions = _sessions(args.writers, redis_url=servers[0].url, retry_timeout=30)

        async def fault() -> None:
            for _ in range(args.kills):
                await asyncio.sleep(args.interval)
                kill9(servers[-1])
                await asyncio.sleep(0.2)
                restarted = EmbeddedRedis(port=port, extra_args=extra)
                servers.append(await asyncio.to_thread(restarted.start))

        try:
            tally = await run_writers(sessions, args.batches, fault, pause=0.01)
        finally:
            await _close(sessions)
            for started in servers:
                started.stop()
    return tally, True


async def client_kill(args: argparse.Namespace) -> tuple[Tally, bool]:
    with server() as started:
        sessions = _sessions(args.writers, redis_url=started.url)
        admin = redis.Redis(port=started.port)

        async def fault() -> None:
            for _ in range(args.kills * 4):
                await asyncio.sleep(args.interval / 4)
                admin.client_kill_filter(_type="normal")

        tally = await run_writers(sessions, args.batches, fault, pause=0.01)
        await _close(sessions)
        admin.close()
    return tally, True


async def frozen_server(args: argparse.Namespace) -> tuple[Tally, bool]:
    with server() as started:
        client = aioredis.Redis(port=started.port, socket_timeout=0.5)
        sessions = _sessions(args.writers, redis_client=client, retry_timeout=10)
        admin = redis.Redis(port=started.port)

        async def fault() -> None:
            for _ in range(args.kills):
                await asyncio.sleep(args.interval)
                await asyncio.to_thread(admin.execute_command, "DEBUG", "SLEEP", "1.5")

        tally = await run_writers(sessions, args.batches, fault, pause=0.01)
        await _close(sessions)
        await client.aclose()
        admin.close()
    return tally, True


def failover(wait_replicas: int) -> Scenario:
    async def scenario(args: argparse.Namespace) -> tuple[Tally, bool]:
        with sentinel_setup() as setup:
            sentinels = [("127.0.0.1", setup.sentinel_port)]
            client = aio_sentinel.Sentinel(sentinels, socket_timeout=2).master_for(setup.service)
            sessions = _sessions(
                min(args.writers, 16),
                redis_client=client,
                retry_timeout=30,
                wait_replicas=wait_replicas,
                wait_timeout=0.5,
            )
            readers = [
                AgentSession(s.conversation_id, user_id=s.user_id, redis_url=setup.replica.url)
                for s in sessions
            ]

            async def fault() -> None:
                await asyncio.sleep(args.interval)
                await asyncio.to_thread(setup.failover)
                await asyncio.to_thread(setup.wait_demoted, setup.master.port)

            tally = await run_writers(sessions, args.batches, fault, pause=0.02, readers=readers)
            await _close(sessions)
            await _close(readers)
            await client.aclose()
        return tally, wait_replicas > 0

    return scenario


SCENARIOS: dict[str, Scenario] = {
    "kill -9 (AOF, appendfsync always)": kill_9,
    "CLIENT KILL TYPE normal": client_kill,
    "DEBUG SLEEP 1.5 s, client socket_timeout 0.5 s with redis-py Retry": frozen_server,
    "SENTINEL FAILOVER, wait_replicas=0": failover(0),
    "SENTINEL FAILOVER, wait_replicas=1": failover(1),
}


async def main(args: argparse.Namespace) -> int:
    failed = False
    for name, scenario in SCENARIOS.items():
        for run in range(args.runs):
            started = time.monotonic()
            tally, loss_counts = await scenario(args)
            bad = tally.duplicated or tally.torn or (loss_counts and tally.lost)
            failed = failed or bool(bad)
            print(
                f"{'FAIL' if bad else 'ok  '} {name} [run {run + 1}]: {tally.figures()} "
                f"({time.monotonic() - started:.1f} s)",
                flush=True,
            )
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--writers", type=int, default=64)
    parser.add_argument("--batches", type=int, default=60, help="batches per writer")
    parser.add_argument("--kills", type=int, default=5, help="faults per run")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between faults")
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario")
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(asyncio.run(main(parser.parse_args())))
