"""What the opt-in MessageHistory index costs an AgentSession append.

`python -m benchmarks.message_index [--rounds N] [--samples N]` appends a 4-item Runner turn
to one AgentSession conversation and to one SDK `RedisSession`, alternating sample by
sample as the main benchmark does, in rounds that alternate between the index enabled
(`AgentSession.enable_message_index`) and dropped (`disable_message_index`). Each round
prints both medians and their ratio; the last line gives the median ratio of each kind of
round. Popping the appended items afterwards (untimed) keeps both conversations at their
starting size.
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

from agents.extensions.memory import RedisSession

from redis_openai_agents import AgentSession

from .items import ItemFactory


async def _timed(operation: Callable[[], Awaitable[Any]]) -> float:
    start = time.perf_counter()
    await operation()
    return time.perf_counter() - start


async def run(url: str, rounds: int, samples: int, size: int) -> None:
    factory = ItemFactory()
    prefix = f"mix{uuid.uuid4().hex[:6]}"
    ours = AgentSession("c", user_id="u", redis_url=url, prefix=prefix)
    sdk = RedisSession.from_url("c", url=url, key_prefix=f"{prefix}sdk")
    history: Any = factory.history(size)
    await ours.add_items(history)
    await sdk.add_items(history)
    batch: Any = factory.turn(0).batch
    ratios: dict[bool, list[float]] = {True: [], False: []}
    print(f"{'round':>5} {'index':>6} {'AgentSession µs':>16} {'SDK µs':>8} {'ratio':>6}")
    try:
        for number in range(rounds):
            indexed = number % 2 == 0
            if indexed:
                await AgentSession.aenable_message_index(url, prefix=prefix)
            else:
                await AgentSession.adisable_message_index(url, prefix=prefix)
            mine, theirs = [], []
            for _ in range(samples):
                mine.append(await _timed(lambda: ours.add_items(batch)))
                theirs.append(await _timed(lambda: sdk.add_items(batch)))
            for _ in range(samples * len(batch)):
                await ours.pop_item()
                await sdk.pop_item()
            ratio = statistics.median(mine) / statistics.median(theirs)
            ratios[indexed].append(ratio)
            print(
                f"{number:>5} {'on' if indexed else 'off':>6} "
                f"{statistics.median(mine) * 1e6:>16.0f} "
                f"{statistics.median(theirs) * 1e6:>8.0f} {ratio:>6.2f}"
            )
        print(
            f"median ratio to the SDK: {statistics.median(ratios[True]):.2f}x with the index, "
            f"{statistics.median(ratios[False]):.2f}x without"
        )
    finally:
        await AgentSession.adisable_message_index(url, prefix=prefix)
        await ours.clear_session()
        await sdk.clear_session()
        await ours.aclose()
        await sdk.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--size", type=int, default=100, help="items in each conversation")
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    args = parser.parse_args()
    if not args.redis_url:
        raise SystemExit("set REDIS_URL or pass --redis-url (or run under `embedded run`)")
    asyncio.run(run(args.redis_url, args.rounds, args.samples, args.size))


if __name__ == "__main__":
    main()
