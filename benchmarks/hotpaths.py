"""The hot paths alone: append a turn, last 20 and a whole 1,000-item read, beside a PING.

`python -m benchmarks.hotpaths [--profile]` times each operation of AgentSession and
JSONSession on one conversation (medians of interleaved rounds), with a bare `PING`
through redis.asyncio as the floor, and prints what the server executed per operation
(`INFO commandstats`) and its slow log. `--profile` runs each operation under pyinstrument
and prints where the client's time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import redis.asyncio as aioredis

from redis_openai_agents import AgentSession, JSONSession

from .items import ItemFactory

Operation = Callable[[], Awaitable[Any]]


async def _median_us(operation: Operation, count: int) -> tuple[float, float]:
    """The median wall time of one call, and the client's mean CPU time per call, in µs."""
    samples = []
    cpu = time.process_time()
    for _ in range(count):
        start = time.perf_counter()
        await operation()
        samples.append(time.perf_counter() - start)
    cpu = time.process_time() - cpu
    return statistics.median(samples) * 1e6, cpu / count * 1e6


async def _operations(url: str, kind: str, size: int) -> tuple[dict[str, Operation], Any]:
    """The three operations on a conversation of `size` items, and the session."""
    factory = ItemFactory()
    prefix = f"hot{uuid.uuid4().hex[:6]}"
    session: Any
    if kind == "agent":
        session = AgentSession("c", user_id="u", redis_url=url, prefix=prefix)
    else:
        session = JSONSession("c", redis_url=url, prefix=prefix)
    await session.add_items(factory.history(size))
    batch = factory.turn(0).batch
    ops: dict[str, Operation] = {
        "append": lambda: session.add_items(batch),
        "last20": lambda: session.get_items(limit=20),
        "whole": lambda: session.get_items(),
    }
    return ops, session


async def run(url: str, rounds: int, count: int, profile: bool) -> None:
    client = aioredis.Redis.from_url(url)
    kinds = ("agent", "json")
    sessions = {kind: await _operations(url, kind, 1000) for kind in kinds}
    results: dict[str, list[tuple[float, float]]] = {}
    for _ in range(rounds):
        results.setdefault("PING", []).append(await _median_us(client.ping, count))
        for kind, (ops, session) in sessions.items():
            for name, op in ops.items():
                n = max(count // 10, 5) if name == "whole" else count
                results.setdefault(f"{kind} {name}", []).append(await _median_us(op, n))
                if name == "append":
                    for _ in range(n * 4):
                        await session.pop_item()
    print(f"{'operation':<14} {'wall µs':>9} {'client CPU µs':>14}  (medians of {rounds} rounds)")
    for name, values in results.items():
        wall = statistics.median(v[0] for v in values)
        cpu = statistics.median(v[1] for v in values)
        print(f"{name:<14} {wall:>9.0f} {cpu:>14.0f}")
    await client.config_resetstat()
    await client.slowlog_reset()
    for kind, (ops, session) in sessions.items():
        for name, op in ops.items():
            n = 5 if name == "whole" else 50
            before = await client.info("commandstats")
            for _ in range(n):
                await op()
            after = await client.info("commandstats")
            calls: dict[str, int] = {}
            usec = 0
            for key, stat in after.items():
                old = before.get(key, {"calls": 0, "usec": 0})
                if key != "cmdstat_info" and stat["calls"] > old["calls"]:
                    calls[key.removeprefix("cmdstat_")] = (stat["calls"] - old["calls"]) // n
                    usec += stat["usec"] - old["usec"]
            if "evalsha" in calls:
                # The commands a script runs are counted within the script's own time.
                script = "cmdstat_evalsha"
                usec = after[script]["usec"] - before.get(script, {"usec": 0})["usec"]
            print(f"{kind} {name}: server {usec / n:.0f} µs per call; commands {calls}")
            if name == "append":
                for _ in range(n * 4):
                    await session.pop_item()
    print("slowlog:", [(e["duration"], e["command"][:60]) for e in await client.slowlog_get(5)])
    if profile:
        from pyinstrument import Profiler

        for kind, (ops, session) in sessions.items():
            for name, op in ops.items():
                profiler = Profiler(async_mode="enabled", interval=0.0001)
                n = 30 if name == "whole" else 300
                with profiler:
                    for _ in range(n):
                        await op()
                if name == "append":
                    for _ in range(n * 4):
                        await session.pop_item()
                print(f"===== {kind} {name} x{n}")
                print(profiler.output_text(unicode=True, color=False, show_all=False))
    for _kind, (_ops, session) in sessions.items():
        await session.clear_session()
        await session.aclose()
    await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    args = parser.parse_args()
    if not args.redis_url:
        raise SystemExit("set REDIS_URL or pass --redis-url (or run under `embedded run`)")
    asyncio.run(run(args.redis_url, args.rounds, args.count, args.profile))


if __name__ == "__main__":
    main()
