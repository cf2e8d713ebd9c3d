"""Turns, usage and branches: switching, reading a branch beside main, branching at turn N.

`python -m benchmarks.branches [--size 1000] [--rounds 5] [--count 100]` builds one
AgentSession conversation of `size` Runner items (five per turn, each turn starting with a
user message) and a branch from its last turn continued by one turn, so both read the
same number of items. It prints a Markdown table of medians (µs) over rounds, each
calling every operation in turn, call by call, so that the rows compared see the same load:
switching branches, whole and last-20 reads of the branch beside the same reads of main,
creating a branch at several turns (each deleted again, untimed), storing a run's usage,
listing branches, and appending a turn to a conversation whose turns are kept beside one
whose are not (the plain layout).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from types import SimpleNamespace
from typing import Any

from agents.usage import Usage

from redis_openai_agents import AgentSession

from .items import ItemFactory

Operation = Callable[[], Awaitable[Any]]
ITEMS_PER_TURN = 5


async def _once_us(operation: Operation, undo: Operation | None) -> float:
    """One call's wall time in µs; `undo` (untimed) puts the conversation back."""
    start = time.perf_counter()
    await operation()
    elapsed = time.perf_counter() - start
    if undo is not None:
        await undo()
    return elapsed * 1e6


async def _conversation(url: str, prefix: str, name: str, size: int) -> AgentSession:
    session = AgentSession(name, user_id="bench", redis_url=url, prefix=prefix)
    await session.add_items(ItemFactory().history(size))
    return session


async def run(url: str, size: int, rounds: int, count: int) -> list[tuple[str, float]]:
    """The rows of the table: (operation, median µs)."""
    prefix = f"br{uuid.uuid4().hex[:6]}"
    factory = ItemFactory()
    turns = size // ITEMS_PER_TURN
    kept = await _conversation(url, prefix, "kept", size)
    plain = await _conversation(url, prefix, "plain", size)
    await kept.get_conversation_turns()  # from here on its appends keep the turns
    branch = await kept.create_branch_from_turn(turns, "last")
    await kept.add_items(factory.turn(1).items)
    await kept.switch_to_branch("main")
    usage = SimpleNamespace(
        context_wrapper=SimpleNamespace(
            usage=Usage(requests=1, input_tokens=10, output_tokens=5, total_tokens=15)
        )
    )
    batch = factory.turn(2).items
    points = sorted({1, max(turns // 4, 1), max(turns // 2, 1), turns})

    async def pop_turn(session: AgentSession) -> None:
        for _ in batch:
            await session.pop_item()

    async def create_at(turn: int) -> None:
        await kept.create_branch_from_turn(turn, uuid.uuid4().hex)

    async def drop_created() -> None:
        created = kept.current_branch_id
        await kept.switch_to_branch("main")
        await kept.delete_branch(created)

    operations: list[tuple[str, Operation, Operation | None]] = [
        ("switch_to_branch (to a branch)", lambda: kept.switch_to_branch(branch), None),
        ("switch_to_branch (to main)", lambda: kept.switch_to_branch("main"), None),
        (f"get_items on main ({size} items)", lambda: kept.get_items(branch_id="main"), None),
        (f"get_items on a branch ({size} items)", lambda: kept.get_items(branch_id=branch), None),
        ("get_items(limit=20) on main", lambda: kept.get_items(20, "main"), None),
        (
            "get_items(limit=20) on a branch",
            lambda: kept.get_items(20, branch),
            None,
        ),
        *[
            (
                f"create_branch_from_turn({n}) ({(n - 1) * ITEMS_PER_TURN} items copied)",
                lambda n=n: create_at(n),
                drop_created,
            )
            for n in points
        ],
        ("store_run_usage", lambda: kept.store_run_usage(usage), None),
        ("list_branches", kept.list_branches, None),
        (
            "add_items, a 5-item turn, turns kept",
            lambda: kept.add_items(batch),
            lambda: pop_turn(kept),
        ),
        (
            "add_items, a 5-item turn, plain",
            lambda: plain.add_items(batch),
            lambda: pop_turn(plain),
        ),
    ]
    results: dict[str, list[float]] = {}
    calls = {
        name: max(count // 10, 3) if "items)" in name or "create" in name else count
        for name, _, _ in operations
    }
    for _ in range(rounds):
        # Call by call, every operation in turn: pairs to compare see the same load.
        samples: dict[str, list[float]] = {name: [] for name in calls}
        for i in range(max(calls.values())):
            for name, operation, undo in operations:
                if i < calls[name]:
                    samples[name].append(await _once_us(operation, undo))
        for name, values in samples.items():
            results.setdefault(name, []).append(statistics.median(values))
    await kept.switch_to_branch("main")
    for session in (kept, plain):
        await session.clear_session()
    await kept._client().unlink(kept._keys.write_records)  # recent write ids: not data
    for session in (kept, plain):
        await session.aclose()
    return [(name, statistics.median(values)) for name, values in results.items()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    args = parser.parse_args()
    if not args.redis_url:
        raise SystemExit("set REDIS_URL or pass --redis-url (or run under `embedded run`)")
    rows = asyncio.run(run(args.redis_url, args.size, args.rounds, args.count))
    print(f"| operation ({args.size}-item conversation) | median µs |")
    print("|---|---|")
    for name, value in rows:
        print(f"| {name} | {value:,.0f} |")


if __name__ == "__main__":
    main()
