"""Search and tags: a search over a user with 1,000 conversations, listing by tag, and
what the search index costs an append.

`python -m benchmarks.search` (under `python -m redis_openai_agents.embedded run --`, or
with `REDIS_URL` set) fills one user with 1,000 realistic conversations (5 items each, from
`items.py`, plus one message naming a ticket number), enables search, and times, interleaved
in rounds: searches of a word found in nearly every message, in one conversation only, and
two words; `list_sessions` of a page without tags, by one tag held by 10% or 100% of the
conversations, and by two tags that go together or never do; and the append of a 4-item
turn on a prefix without the search index beside one with it. `--only append` times the
appends alone, with the AgentSession API that predates search, so that the same command can
time another checkout of the package.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from redis_openai_agents import AgentSession

from .items import ItemFactory

Operation = Callable[[], Awaitable[Any]]
CONVERSATIONS = 1000
CITIES = ("oslo", "lima", "kyiv", "baku", "doha", "rome", "bern", "riga", "lome", "suva")


async def _timed(operation: Operation, count: int) -> float:
    """The median wall time of one call, in ms."""
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        await operation()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


async def _rounds(
    operations: dict[str, tuple[Operation, Operation | None]], rounds: int, count: int
) -> dict[str, float]:
    """Median over rounds of each operation's median; `undo` restores state, untimed."""
    found: dict[str, list[float]] = {name: [] for name in operations}
    for _ in range(rounds):
        for name, (operation, undo) in operations.items():
            await operation()  # warm
            if undo is not None:
                await undo()
            samples = []
            for _ in range(count):
                start = time.perf_counter()
                await operation()
                samples.append(time.perf_counter() - start)
                if undo is not None:
                    await undo()
            found[name].append(statistics.median(samples) * 1000)
    return {name: statistics.median(values) for name, values in found.items()}


async def _drop(client: aioredis.Redis, prefix: str) -> None:
    async for key in client.scan_iter(match=f"{prefix}:*", count=1000):
        await client.unlink(key)
    for index in (f"{prefix}:messages", f"{prefix}:search"):
        with contextlib.suppress(aioredis.ResponseError):
            await client.execute_command("FT.DROPINDEX", index)


async def appends(url: str, rounds: int, count: int, prefixes: dict[str, str]) -> dict[str, float]:
    """A 4-item turn appended to a 100-item conversation under each prefix, then popped."""
    factory = ItemFactory()
    batch = factory.turn(0).batch
    operations: dict[str, tuple[Operation, Operation | None]] = {}
    sessions = []
    for name, prefix in prefixes.items():
        session = AgentSession("c", user_id="bench-user", redis_url=url, prefix=prefix)
        await session.add_items(factory.history(100))
        sessions.append(session)

        async def undo(session: AgentSession = session) -> None:
            for _ in batch:
                await session.pop_item()

        operations[name] = (lambda session=session: session.add_items(batch), undo)
    try:
        return await _rounds(operations, rounds, count)
    finally:
        for session in sessions:
            await session.aclose()


def _ticket(i: int) -> dict[str, Any]:
    return {"role": "user", "content": f"About ticket{i:04d} to {CITIES[i % 10]}, please."}


async def search_and_tags(url: str, rounds: int, count: int, prefix: str) -> dict[str, float]:
    factory = ItemFactory()
    user = "bench-user"
    sessions = [
        AgentSession(f"conv-{i:04d}", user_id=user, redis_url=url, prefix=prefix)
        for i in range(CONVERSATIONS)
    ]
    await sessions[0].add_items(factory.turn(0).items)  # creates the message index alone
    for start in range(0, CONVERSATIONS, 50):
        chunk = sessions[start : start + 50]
        await asyncio.gather(
            *(
                s.add_items([*factory.turn(start + k).items, _ticket(start + k)])
                for k, s in enumerate(chunk)
            )
        )
        await asyncio.gather(
            *(
                s.aset_tags(
                    ["all", CITIES[(start + k) % 10], "even" if (start + k) % 2 == 0 else "odd"]
                )
                for k, s in enumerate(chunk)
            )
        )
    started = time.perf_counter()
    indexed = await AgentSession.aenable_search(url, prefix=prefix)
    print(f"enable_search indexed {indexed} messages in {time.perf_counter() - started:.2f} s")

    def search(query: str, **kw: Any) -> tuple[Operation, None]:
        return (lambda: AgentSession.asearch(user, query, url, prefix=prefix, **kw), None)

    def listing(**kw: Any) -> tuple[Operation, None]:
        return (lambda: AgentSession.alist_sessions(user, url, prefix=prefix, **kw), None)

    operations = {
        "search a word in nearly every message (limit 10)": search("weather"),
        "search a word in nearly every message, newest first": search("weather", order="newest"),
        "search a word in one conversation only": search("ticket0042"),
        "search two words (all must match)": search("lima ticket0042"),
        "search a city, any of two words": search("lima suva", match="any"),
        "list_sessions page 1 (50), no tags": listing(),
        "list_sessions page 1, tag on 100% (tags=['all'])": listing(tags=["all"]),
        "list_sessions page 1, tag on 10% (tags=['lima'])": listing(tags=["lima"]),
        "list_sessions page 1, two tags on 10% together (['oslo', 'even'])": listing(
            tags=["oslo", "even"]
        ),
        "list_sessions page 1, two tags never together (['lima', 'even'])": listing(
            tags=["lima", "even"]
        ),
        "list_sessions page 10, no tags": listing(offset=450),
        "list_sessions page 10, tag on 100%": listing(tags=["all"], offset=450),
    }
    try:
        return await _rounds(operations, rounds, count)
    finally:
        for session in sessions:
            await session.aclose()


async def run(url: str, rounds: int, count: int, only: str | None) -> dict[str, float]:
    client = aioredis.Redis.from_url(url)
    run_id = uuid.uuid4().hex[:6]
    plain, searched, big = (f"bs{run_id}-{name}" for name in ("plain", "search", "user"))
    results: dict[str, float] = {}
    try:
        if only != "append":
            await AgentSession.aenable_search(url, prefix=searched)
            results.update(await search_and_tags(url, rounds, count, big))
            results.update(
                await appends(
                    url,
                    rounds,
                    count * 4,
                    {
                        "append a 4-item turn, search not enabled": plain,
                        "append a 4-item turn, search enabled": searched,
                    },
                )
            )
        else:
            results.update(
                await appends(
                    url, rounds, count * 4, {"append a 4-item turn, search not enabled": plain}
                )
            )
    finally:
        for prefix in (plain, searched, big):
            await _drop(client, prefix)
        await client.aclose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--count", type=int, default=50, help="calls per round (appends: x4)")
    parser.add_argument("--only", choices=("append",), default=None)
    parser.add_argument("--out", type=Path, default=None, help="also write a Markdown table")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    args = parser.parse_args()
    if not args.redis_url:
        raise SystemExit("set REDIS_URL or pass --redis-url (or run under `embedded run`)")
    results = asyncio.run(run(args.redis_url, args.rounds, args.count, args.only))
    lines = ["| operation | median ms |", "|---|---:|"]
    lines += [f"| {name} | {value:.3f} |" for name, value in results.items()]
    print("\n".join(lines))
    if args.out:
        args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
