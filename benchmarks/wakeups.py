"""What a round trip costs beyond the server's own time, with waits of mixed lengths.

`python -m benchmarks.wakeups [--samples N]` runs a script that only keeps the server busy
for a set time (a Lua loop), at several lengths. Each length's server time comes from
`INFO commandstats`; its round trip is then timed with the lengths shuffled sample by
sample, as the benchmark interleaves its backends. A bare `PING` repeated in a loop is
printed beside it. On machines where waking an idle CPU is expensive, every round trip of
the shuffled mix costs far more than the `PING` loop, whatever the server's time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import time

import redis.asyncio as aioredis

from redis_openai_agents.fast_connections import use_fast_connections

SPIN = "local x = 0 for i = 1, tonumber(ARGV[1]) do x = x + i end return 1"
LOOP_LENGTHS = (0, 2_500, 5_000, 7_500, 10_000, 15_000, 20_000, 30_000)


async def run(url: str, samples: int) -> None:
    client = use_fast_connections(aioredis.Redis.from_url(url))
    spin = client.register_script(SPIN)
    server_us: dict[int, float] = {}
    for length in LOOP_LENGTHS:
        await client.config_resetstat()
        for _ in range(300):
            await spin(args=[length])
        stats = await client.info("commandstats")
        server_us[length] = float(stats["cmdstat_evalsha"]["usec_per_call"])
    round_trips: dict[int, list[float]] = {length: [] for length in LOOP_LENGTHS}
    order = list(LOOP_LENGTHS)
    shuffler = random.Random(1)
    for _ in range(samples):
        shuffler.shuffle(order)
        for length in order:
            start = time.perf_counter()
            await spin(args=[length])
            round_trips[length].append(time.perf_counter() - start)
    pings = []
    for _ in range(samples):
        start = time.perf_counter()
        await client.ping()
        pings.append(time.perf_counter() - start)
    await client.aclose()
    print(f"bare PING in a loop: {statistics.median(pings) * 1e6:.0f} µs")
    print(f"{'server µs':>10} {'round trip µs':>14} {'minus server':>13}  (medians, shuffled)")
    for length in LOOP_LENGTHS:
        wall = statistics.median(round_trips[length]) * 1e6
        print(f"{server_us[length]:>10.0f} {wall:>14.0f} {wall - server_us[length]:>13.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1500)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL"))
    args = parser.parse_args()
    if not args.redis_url:
        parser.error("set REDIS_URL, or run under `python -m redis_openai_agents.embedded run --`")
    asyncio.run(run(args.redis_url, args.samples))


if __name__ == "__main__":
    main()
