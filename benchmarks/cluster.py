"""Redis Cluster benchmark: one node against a 3-master cluster, and writes through a failover.

`python -m benchmarks.cluster` starts one Redis Stack node and a 3-master + 3-replica
cluster from the same binaries, runs the same 64 concurrent conversations on both
(appends, whole reads, `list_sessions`), then keeps writers running through a
`CLUSTER FAILOVER`, a killed master and a slot migration and reports how long writes
paused and whether any acknowledged write was lost. `python -m benchmarks` runs it too and
puts its numbers in the same report.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from redis_openai_agents import AgentSession
from redis_openai_agents.embedded import EmbeddedRedis, describe_url
from redis_openai_agents.embedded.cluster import LocalCluster
from redis_openai_agents.keys import hash_tag

CONVERSATIONS = 64


@dataclass
class Throughput:
    appends: float
    reads: float
    listings: float


async def _throughput(url: str, rounds: int, prefix: str) -> Throughput:
    """Operations per second of 64 conversations (one user each) working at once."""
    sessions = [
        AgentSession(f"c{i}", user_id=f"user-{i}", redis_url=url, prefix=prefix)
        for i in range(CONVERSATIONS)
    ]
    await sessions[0].add_items([{"role": "user", "content": "warm-up"}])

    async def timed(op: Callable[[AgentSession, int], Any]) -> float:
        async def worker(session: AgentSession) -> None:
            for r in range(rounds):
                await op(session, r)

        start = time.perf_counter()
        await asyncio.gather(*(worker(s) for s in sessions))
        return CONVERSATIONS * rounds / (time.perf_counter() - start)

    batch = [{"role": "user", "content": "hello " * 20}, {"role": "assistant", "content": "hi"}]
    appends = await timed(lambda s, _r: s.add_items(batch))
    reads = await timed(lambda s, _r: s.get_items())
    listings = await timed(
        lambda s, _r: AgentSession.alist_sessions(s.user_id, redis_url=url, prefix=prefix)
    )
    for session in sessions:
        await session.aclear()
        await session.aclose()
    return Throughput(appends, reads, listings)


@dataclass
class WriteLoad:
    """What concurrent writers saw while the cluster changed under them."""

    acknowledged: dict[str, int] = field(default_factory=dict)
    failures: list[tuple[float, str]] = field(default_factory=list)
    successes: dict[str, list[float]] = field(default_factory=dict)
    lost: int = 0
    duplicated: int = 0
    torn_batches: int = 0
    event_started: float = 0.0
    event_ended: float = 0.0

    def longest_pause(self) -> float:
        """Longest gap between two acknowledged writes of one conversation, around the event."""
        gaps = []
        for times in self.successes.values():
            around = [
                b - a
                for a, b in itertools.pairwise(times)
                if b >= self.event_started and a <= self.event_ended + 1
            ]
            gaps.append(max(around, default=0.0))
        return max(gaps, default=0.0)


async def write_through(
    url: str,
    users: list[str],
    event: Callable[[], Any],
    *,
    prefix: str,
    settle: float = 1.5,
    per_user: int = 2,
) -> WriteLoad:
    """Writers append two-item batches while `event` (blocking) runs in a thread; then
    every conversation is read back and checked against what was acknowledged."""
    load = WriteLoad()
    sessions = [
        AgentSession(f"w{j}-{uuid.uuid4().hex[:6]}", user_id=u, redis_url=url, prefix=prefix)
        for u in users
        for j in range(per_user)
    ]
    stop = asyncio.Event()

    async def writer(session: AgentSession) -> None:
        n = 0
        load.acknowledged[session.session_id] = 0
        load.successes[session.session_id] = []
        while not stop.is_set():
            batch = [
                {"role": "user", "content": f"{n}a"},
                {"role": "assistant", "content": f"{n}b"},
            ]
            try:
                await session.add_items(batch)  # type: ignore[arg-type]
            except Exception as exc:
                load.failures.append((time.monotonic(), f"{type(exc).__name__}: {exc}"[:200]))
                await asyncio.sleep(0.05)
            else:
                load.acknowledged[session.session_id] = n + 1
                load.successes[session.session_id].append(time.monotonic())
                n += 1
            await asyncio.sleep(0.002)

    tasks = [asyncio.create_task(writer(s)) for s in sessions]
    await asyncio.sleep(0.5)
    load.event_started = time.monotonic()
    await asyncio.to_thread(event)
    load.event_ended = time.monotonic()
    await asyncio.sleep(settle)
    stop.set()
    await asyncio.gather(*tasks)
    for session in sessions:
        contents = [str(i["content"]) for i in await session.get_items()]  # type: ignore[typeddict-item]
        expected = [
            f"{n}{half}" for n in range(load.acknowledged[session.session_id]) for half in "ab"
        ]
        load.lost += len(set(expected) - set(contents))
        load.duplicated += len(contents) - len(set(contents))
        load.torn_batches += sum(
            1 for i in range(0, len(contents) - 1, 2) if contents[i][:-1] != contents[i + 1][:-1]
        )
        await session.aclear()
        await session.aclose()
    return load


def users_by_master(cluster: LocalCluster, per_master: int = 2) -> dict[str, list[str]]:
    """User ids grouped by the master (node id) that holds their keys."""
    grouped: dict[str, list[str]] = {m.node_id: [] for m in cluster.masters()}
    i = 0
    while any(len(v) < per_master for v in grouped.values()):
        user = f"load-{i}"
        owner = cluster.node_for_slot(cluster.keyslot(hash_tag(user))).node_id
        if len(grouped[owner]) < per_master:
            grouped[owner].append(user)
        i += 1
    return grouped


def _load_line(name: str, load: WriteLoad) -> str:
    acked = sum(load.acknowledged.values())
    return (
        f"{name}: {acked} batches acknowledged, {load.lost} items lost, "
        f"{load.duplicated} duplicated, {load.torn_batches} torn batches, "
        f"{len(load.failures)} failed attempts, longest pause {load.longest_pause():.2f} s "
        f"(event took {load.event_ended - load.event_started:.2f} s)"
    )


OPERATIONS = ("appends", "reads", "listings")


@dataclass
class ClusterReport:
    """One run of this benchmark: throughput on both topologies, and the write loads."""

    rounds: int
    node: list[Throughput] = field(default_factory=list)
    cluster: list[Throughput] = field(default_factory=list)
    loads: dict[str, WriteLoad] = field(default_factory=dict)
    server: str = ""

    def rate(self, topology: str, op: str) -> float:
        runs = self.node if topology == "node" else self.cluster
        return statistics.median(getattr(t, op) for t in runs)

    def ratio(self, op: str) -> float:
        """Cluster over one node, the median of the per-run ratios (runs alternate)."""
        pairs = zip(self.cluster, self.node, strict=True)
        return statistics.median(getattr(c, op) / getattr(n, op) for c, n in pairs)


def measure(
    rounds: int = 50, repeats: int = 3, log: Callable[[str], None] = print
) -> ClusterReport:
    """Both topologies, alternately, then writers through a failover, a killed master and
    a slot migration on the cluster."""
    report = ClusterReport(rounds)
    with EmbeddedRedis() as single, LocalCluster(3, 1) as cluster:
        report.server = describe_url(single.url)
        prefix = f"bench{uuid.uuid4().hex[:6]}"
        for _ in range(repeats):
            report.node.append(asyncio.run(_throughput(single.url, rounds, prefix)))
            report.cluster.append(asyncio.run(_throughput(cluster.url, rounds, prefix)))
        log(f"{CONVERSATIONS} concurrent conversations, {rounds} rounds, median of {repeats}")
        for op in OPERATIONS:
            log(
                f"  {op:<9} one node {report.rate('node', op):8.0f}/s  "
                f"cluster {report.rate('cluster', op):8.0f}/s  ratio {report.ratio(op):.2f}"
            )
        grouped = users_by_master(cluster)
        users = [u for group in grouped.values() for u in group]
        victim = cluster.masters()[0]
        report.loads["`CLUSTER FAILOVER` (replica takes over)"] = asyncio.run(
            write_through(cluster.url, users, lambda: cluster.failover(victim), prefix=prefix)
        )
        survivor = cluster.masters()[1]
        report.loads["master killed (unplanned failover)"] = asyncio.run(
            write_through(
                cluster.url, users, lambda: cluster.kill(cluster.masters()[0]), prefix=prefix
            )
        )
        moving = grouped[survivor.node_id][0]
        slot = cluster.keyslot(hash_tag(moving))
        target = next(m for m in cluster.masters() if m is not cluster.node_for_slot(slot))
        report.loads["one slot migrated key by key"] = asyncio.run(
            write_through(
                cluster.url,
                [moving],
                lambda: cluster.migrate_slot(slot, target, batch=1),
                prefix=prefix,
                per_user=8,
            )
        )
        for name, load in report.loads.items():
            log(_load_line(name, load))
            for _, message in load.failures[:3]:
                log(f"    {message}")
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cluster")
    parser.add_argument("--rounds", type=int, default=50)
    options = parser.parse_args(argv)
    measure(options.rounds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
