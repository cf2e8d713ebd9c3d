"""The workloads: each phase builds its own backends, measures, and removes what it wrote."""

from __future__ import annotations

import asyncio
import gc
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from agents.extensions.memory import RedisSession

from redis_openai_agents import AgentSession

from . import backends as bk
from . import durability
from .config import BenchConfig
from .items import Item, ItemFactory
from .redisinfo import Admin
from .results import (
    APPEND,
    PING,
    PING_NAME,
    READ_ALL,
    READ_LAST20,
    RUNNER_TURN,
    Concurrency,
    ConcurrencyRound,
    Cost,
    Memory,
    MemoryPart,
    Results,
    RoundTrips,
)
from .stats import Series, median

Op = Callable[[int], Awaitable[Any]]
Log = Callable[[str], None]

PREFILL_BATCH = 100
PER_SIZE_WORKLOADS = (APPEND, READ_ALL, RUNNER_TURN)
# From this size on, the few turns a block appends are undone after the block, not after
# each sample: they change the conversation's size by a few percent at most.
BLOCK_UNDO_SIZE = 5000


def _rotate(values: Sequence[bk.Backend], shift: int) -> list[bk.Backend]:
    """Run backends in a different order each round, so none always goes first."""
    shift %= max(1, len(values))
    return [*values[shift:], *values[:shift]]


async def prefill(conv: bk.Conversation, history: list[Item]) -> None:
    for start in range(0, len(history), PREFILL_BATCH):
        await conv.add_items(history[start : start + PREFILL_BATCH])


async def _pop(conv: bk.Conversation, count: int) -> None:
    if isinstance(conv, bk.HistoryConversation):
        await conv.pop_many(count)
        return
    for _ in range(count):
        await conv.pop_item()


@dataclass(frozen=True)
class Task:
    """One operation to time: `op(i)` for the i-th sample, `undo(i)` to restore (untimed)."""

    key: tuple[str, ...]
    op: Op
    undo: Op | None = None
    undo_each: bool = True


class Bench:
    """One benchmark run against one Redis, all backends in this process and event loop."""

    def __init__(
        self,
        config: BenchConfig,
        url: str,
        workdir: Path,
        admin: Admin,
        log: Log,
        backends: Sequence[str] = bk.ALL,
    ) -> None:
        self.config = config
        self.url = url
        self.workdir = workdir
        self.admin = admin
        self.log = log
        self.items = ItemFactory(config.seed)
        self.small_items = ItemFactory(config.seed + 1, small=True)
        self.run_id = uuid.uuid4().hex[:6]
        self.names = [name for name in bk.ALL if name in backends or name == bk.REFERENCE]
        self.results = Results(backends=list(self.names))
        self._ops: dict[tuple[str, ...], int] = {}
        self._estimates: dict[tuple[str, ...], float] = {}

    # Helpers

    def make_backends(self, phase: str) -> list[bk.Backend]:
        return [
            bk.FACTORIES[name](
                self.url, self.prefix(f"{phase}-{bk.SHORT_NAMES[name]}"), self.workdir
            )
            for name in self.names
        ]

    def prefix(self, name: str) -> str:
        return f"bench{self.run_id}-{name}"

    async def release(self, backends: list[bk.Backend]) -> None:
        for backend in backends:
            await backend.aclose()
            backend.cleanup(self.admin)

    async def _calibrate(self, task: Task) -> int:
        """Warm `task` up (untimed); on its first call, fix how many samples it gets."""
        cfg = self.config
        n = self._ops.get(task.key)
        estimate = self._estimates.get(task.key, 0.0)
        warmups = cfg.warmup_ops if n is None else int(estimate < cfg.block_seconds / 3)
        warm: list[float] = []
        for i in range(warmups):
            start = time.perf_counter()
            await task.op(i)
            warm.append(time.perf_counter() - start)
            if task.undo is not None:
                await task.undo(i)
        if n is None:
            estimate = max(median(warm), 1e-6)
            n = max(cfg.min_ops, min(cfg.max_ops, int(cfg.block_seconds / estimate)))
            if estimate > cfg.slow_op_seconds:
                n = min(n, cfg.slow_ops)
            self._ops[task.key] = n
            self._estimates[task.key] = estimate
        return n

    async def measure(self, tasks: Sequence[Task]) -> list[list[float]]:
        """Time every task, interleaved sample by sample so drift hits all of them alike,
        in a new random order for each sample.

        Each task gets its own number of samples (fixed on its first round from a warm-up);
        `undo` restores its conversation, untimed, after each sample or after the block.
        """
        counts = [await self._calibrate(task) for task in tasks]
        gc.collect()
        samples: list[list[float]] = [[] for _ in tasks]
        # A new order for every sample: with one fixed cycle, each backend would always run
        # right after the same other one, and inherit what it leaves behind (SQLite's
        # worker thread, MessageHistory's blocking calls, a cache full of another's data).
        order = list(range(len(tasks)))
        shuffler = random.Random(self.config.seed + len(tasks))
        for i in range(max(counts, default=0)):
            shuffler.shuffle(order)
            for k in order:
                task, count, found = tasks[k], counts[k], samples[k]
                if i >= count:
                    continue
                start = time.perf_counter()
                await task.op(i)
                found.append(time.perf_counter() - start)
                if task.undo is not None and task.undo_each:
                    await task.undo(i)
        for task, count in zip(tasks, counts, strict=True):
            if task.undo is not None and not task.undo_each:
                for i in reversed(range(count)):
                    await task.undo(i)
        return samples

    def operation(self, workload: str, conv: bk.Conversation) -> tuple[Op, Op | None]:
        turn = self.items.turn

        if workload == APPEND:

            async def append(i: int) -> None:
                await conv.add_items(turn(i).batch)

            return append, lambda i: _pop(conv, len(turn(i).batch))
        if workload == READ_ALL:
            return lambda i: conv.get_items(), None
        if workload == READ_LAST20:
            return lambda i: conv.get_items(limit=20), None
        if workload == RUNNER_TURN:

            async def runner_turn(i: int) -> None:
                await conv.get_items()
                await conv.add_items([turn(i).user])
                await conv.add_items(turn(i).batch)

            return runner_turn, lambda i: _pop(conv, len(turn(i).items))
        raise ValueError(workload)

    # Workloads 1-3, memory (6) and where the time goes

    async def run_sizes(self) -> None:
        cfg = self.config
        backends = self.make_backends("size")
        try:
            convs: dict[int, dict[str, bk.Conversation]] = {}
            for size in cfg.sizes:
                history = self.items.history(size)
                convs[size] = {}
                for backend in backends:
                    conv = backend.conversation(f"conv-{size}")
                    await prefill(conv, history)
                    convs[size][backend.name] = conv
                await self._check(convs[size], history)
                self.log(f"  prefilled {size} items on every backend")
            self.measure_memory(backends, sum(cfg.sizes))
            for size in cfg.sizes:
                started = time.perf_counter()
                for rnd in range(cfg.repeat):
                    for workload in PER_SIZE_WORKLOADS:
                        pairs = [(size, backend) for backend in _rotate(backends, rnd)]
                        await self._measure_round(workload, pairs, convs)
                self.log(f"  size {size}: {time.perf_counter() - started:.1f} s")
            # The last-20 read of every size in one interleaved block, so that comparing
            # sizes (the budget's 10 against 10,000 items) is not skewed by drift.
            started = time.perf_counter()
            ping_client = aioredis.Redis.from_url(self.url)
            try:
                for rnd in range(cfg.repeat):
                    pairs = [(size, b) for size in cfg.sizes for b in _rotate(backends, rnd)]
                    await self._measure_round(READ_LAST20, pairs, convs, ping_client)
            finally:
                await ping_client.aclose()
            self.log(f"  last 20 at every size: {time.perf_counter() - started:.1f} s")
            await self.run_costs(backends, convs[cfg.cost_size])
        finally:
            await self.release(backends)

    async def _measure_round(
        self,
        workload: str,
        pairs: list[tuple[int, bk.Backend]],
        convs: dict[int, dict[str, bk.Conversation]],
        ping_client: aioredis.Redis | None = None,
    ) -> None:
        tasks = []
        for size, backend in pairs:
            op, undo = self.operation(workload, convs[size][backend.name])
            key = (workload, str(size), backend.name)
            tasks.append(Task(key, op, undo, undo_each=size < BLOCK_UNDO_SIZE))
        if ping_client is not None:
            # The floor of a read, sampled among the reads themselves.
            tasks.append(Task((PING,), lambda i: ping_client.ping()))
        measured = await self.measure(tasks)
        for (size, backend), samples in zip(pairs, measured, strict=False):
            table = self.results.latency[workload][size]
            table.setdefault(backend.name, Series()).add_round(samples)
        if ping_client is not None:
            for size in sorted({size for size, _ in pairs}):
                table = self.results.latency[PING][size]
                table.setdefault(PING_NAME, Series()).add_round(measured[-1])

    async def _check(self, convs: dict[str, bk.Conversation], history: list[Item]) -> None:
        """Every backend must give back what it was given, or its timings mean nothing."""
        tail = history[-5:]
        for name, conv in convs.items():
            got = await conv.get_items(limit=5)
            if got != tail:
                note = f"{name} did not return the stored items unchanged (last 5 differ)"
                if note not in self.results.notes:
                    self.results.notes.append(note)
                    self.log("  WARNING: " + note)

    def measure_memory(self, backends: list[bk.Backend], items: int) -> None:
        for backend in backends:
            if backend.in_redis:
                keys, key_bytes = self.admin.memory_usage(backend.key_pattern())
                name = backend.index_name()
                index_bytes = self.admin.index_bytes(name) if name else 0
                memory = Memory(items, keys, key_bytes, index_bytes)
            else:
                memory = Memory(items, 0, 0, 0, disk_bytes=backend.disk_bytes())
            self.results.memory[backend.name] = memory
            if backend.name == bk.AGENT:
                self.measure_memory_parts(backend, memory)

    def measure_memory_parts(self, backend: bk.Backend, memory: Memory) -> None:
        """Rebuild a sample of AgentSession's item hashes field by field, under keys of the
        same length, to show what each part of an item costs in Redis."""
        sample = self.admin.sample_keys(f"{backend.prefix}:msg:*", 500)
        if not sample or not memory.items:
            return
        per_doc_index = memory.index_bytes / memory.items
        steps = [
            ("the item's JSON alone (`metadata`), one hash per item", ("metadata",)),
            ("+ `content`, the text MessageHistory reads", ("metadata", "content")),
            (
                "+ MessageHistory's other fields (`entry_id`, `role`, `session_tag`, "
                "`timestamp`, `tool_call_id`)",
                ("metadata", "content", *bk.HISTORY_FIELDS),
            ),
            ("+ this library's `user_tag` (all fields as stored)", None),
        ]
        parts = [
            MemoryPart(label, self.admin.rebuilt_bytes(sample, fields) / len(sample))
            for label, fields in steps
        ]
        self.results.memory_floor = parts[2].per_item + per_doc_index
        parts.append(MemoryPart("+ the search index's entry (all fields as stored)", 0.0))
        parts[-1] = MemoryPart(parts[-1].label, parts[-2].per_item + per_doc_index)
        self.results.memory_parts = parts

    async def run_costs(
        self, backends: list[bk.Backend], convs: dict[str, bk.Conversation]
    ) -> None:
        """Split each operation's time into client CPU, server CPU and the rest."""
        self.results.cost_size = self.config.cost_size
        n = self.config.cost_ops
        for backend in backends:
            conv = convs[backend.name]
            costs: dict[str, Cost] = {}
            for workload in (APPEND, READ_ALL, READ_LAST20):
                op, _ = self.operation(workload, conv)
                await op(0)
                gc.collect()
                before = self.admin.snapshot()
                wall, cpu = time.perf_counter(), time.process_time()
                for i in range(n):
                    await op(i + 1)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                after = self.admin.snapshot()
                server = Admin.delta(before, after).cpu_seconds if backend.in_redis else 0.0
                costs[workload] = Cost(wall / n, cpu / n, server / n)
            self.results.costs[backend.name] = costs

    # What write ids and replica acknowledgements cost

    async def run_durability(self) -> None:
        cfg = self.config
        self.results.durability = await durability.measure(
            self.url, self.prefix("dur"), self.items, cfg.repeat, max(cfg.max_ops, 5)
        )

    # Workload 7: round trips, counted by the server

    async def run_round_trips(self) -> None:
        backends = [b for b in self.make_backends("rt") if b.in_redis]
        n = self.config.roundtrip_ops
        small = self.small_items
        try:
            idle = Admin.delta(self.admin.snapshot(), self.admin.snapshot()).reads
            for backend in backends:
                conv = backend.conversation("conv-rt")
                await prefill(conv, small.history(100))
                found: dict[str, RoundTrips] = {}
                for name, op in _protocol_ops(conv, small).items():
                    await op(0)
                    before = self.admin.snapshot()
                    for i in range(n):
                        await op(i + 1)
                    found[name] = self._per_op(before, idle, n)
                if backend.has_clear:
                    found["clear_session"] = await self._count_clear(conv, idle, n)
                self.results.round_trips[backend.name] = found
        finally:
            await self.release(backends)

    def _per_op(self, before: Any, idle: int, n: int) -> RoundTrips:
        delta = Admin.delta(before, self.admin.snapshot())
        commands = {name: count / n for name, count in sorted(delta.calls.items())}
        return RoundTrips((delta.reads - idle) / n, commands)

    async def _count_clear(self, conv: bk.Conversation, idle: int, n: int) -> RoundTrips:
        reads = 0.0
        commands: dict[str, float] = {}
        for i in range(n + 1):
            await conv.add_items(self.small_items.turn(i).batch)
            before = self.admin.snapshot()
            await conv.clear_session()
            if i == 0:
                continue  # warm-up
            one = self._per_op(before, idle, n)
            reads += one.round_trips
            for name, count in one.commands.items():
                commands[name] = commands.get(name, 0.0) + count
        return RoundTrips(reads, dict(sorted(commands.items())))

    # Workload 4: concurrent conversations

    async def run_concurrency(self) -> None:
        cfg = self.config
        backends = self.make_backends("conc")
        try:
            convs: dict[str, list[bk.Conversation]] = {}
            seed = self.items.history(10)
            for backend in backends:
                convs[backend.name] = [
                    backend.conversation(f"conv-{i:03d}") for i in range(cfg.concurrency)
                ]
                for conv in convs[backend.name]:
                    await prefill(conv, seed)
            for rnd in range(cfg.concurrency_rounds):
                for backend in _rotate(backends, rnd):
                    gc.collect()
                    found = await self._drive(convs[backend.name], cfg.concurrency_seconds)
                    self.results.concurrency.setdefault(backend.name, Concurrency()).rounds.append(
                        found
                    )
        finally:
            await self.release(backends)

    async def _drive(self, convs: list[bk.Conversation], seconds: float) -> ConcurrencyRound:
        latencies: list[float] = []
        written = 0
        start = time.perf_counter()
        deadline = start + seconds

        async def worker(k: int, conv: bk.Conversation) -> None:
            nonlocal written
            i = k
            while time.perf_counter() < deadline:
                batch = self.items.turn(i).batch
                began = time.perf_counter()
                await conv.add_items(batch)
                latencies.append(time.perf_counter() - began)
                written += len(batch)
                i += 1
                await asyncio.sleep(0)  # let a blocking (sync) backend interleave too

        await asyncio.gather(*(worker(k, conv) for k, conv in enumerate(convs)))
        return ConcurrencyRound(written / (time.perf_counter() - start), latencies)

    # Workload 5: listing a user's conversations

    async def run_listing(self) -> None:
        cfg = self.config
        ours, theirs = self.prefix("list-agent"), self.prefix("list-sdk")
        noise = self.prefix("noise")
        user = "bench-user"
        count = cfg.list_conversations
        sdk_client = aioredis.Redis.from_url(self.url)
        sessions = [
            AgentSession(f"conv-{i:05d}", user_id=user, redis_url=self.url, prefix=ours)
            for i in range(count)
        ]
        sdk_sessions = [
            RedisSession(f"{user}:conv-{i:05d}", redis_client=sdk_client, key_prefix=theirs)
            for i in range(count)
        ]
        self.results.listing_conversations = count
        try:
            # The first write of a prefix creates its search index: not concurrently.
            await sessions[0].add_items(self.items.turn(0).items)
            await sdk_sessions[0].add_items(self.items.turn(0).items)
            for start in range(1, count, 50):
                chunk = range(start, min(count, start + 50))
                await asyncio.gather(
                    *(sessions[i].add_items(self.items.turn(i).items) for i in chunk),
                    *(sdk_sessions[i].add_items(self.items.turn(i).items) for i in chunk),
                )
            page10 = 9 * 50

            def ours_page(offset: int) -> Op:
                return lambda i: AgentSession.alist_sessions(
                    user, redis_url=self.url, prefix=ours, limit=50, offset=offset
                )

            def sdk_page(offset: int) -> Op:
                return lambda i: _scan_listing(sdk_client, theirs, user, 50, offset)

            cases: dict[str, Op] = {
                "AgentSession page 1": ours_page(0),
                "AgentSession page 10": ours_page(page10),
                "SDK RedisSession + SCAN page 1": sdk_page(0),
            }
            # Each round lists without, then with the other keys, minutes of drift apart
            # no more: the budget compares the two within each round.
            self.results.noise_keys = cfg.noise_keys
            for rnd in range(cfg.repeat):
                await self._listing_round(cases, "", rnd)
                self.admin.fill_noise(noise, cfg.noise_keys)
                await self._listing_round(cases, " +noise", rnd)
                if rnd < cfg.repeat - 1:
                    self.admin.delete_matching(f"{noise}:*")
            for session in sessions:
                await session.aclose()
            cold = {"AgentSession page 1, no session open": ours_page(0)}
            await self._listing_rounds(cold, " +noise")
        finally:
            for session in sessions:
                await session.aclose()
            await sdk_client.aclose()
            self.admin.delete_matching(f"{noise}:*")
            self.admin.delete_matching(f"{ours}:*")
            self.admin.drop_index(f"{ours}:messages")
            self.admin.delete_matching(f"{theirs}:*")

    async def _listing_rounds(self, cases: dict[str, Op], suffix: str) -> None:
        for rnd in range(self.config.repeat):
            await self._listing_round(cases, suffix, rnd)

    async def _listing_round(self, cases: dict[str, Op], suffix: str, rnd: int) -> None:
        names = list(cases)
        names = names[rnd % len(names) :] + names[: rnd % len(names)]
        tasks = [Task(("list", name + suffix), cases[name]) for name in names]
        for name, samples in zip(names, await self.measure(tasks), strict=True):
            self.results.listing.setdefault(name + suffix, Series()).add_round(samples)


def _protocol_ops(conv: bk.Conversation, items: ItemFactory) -> dict[str, Op]:
    async def add(i: int) -> None:
        await conv.add_items(items.turn(i).batch)

    async def read_all(i: int) -> None:
        await conv.get_items()

    async def read_last20(i: int) -> None:
        await conv.get_items(limit=20)

    async def pop(i: int) -> None:
        await conv.pop_item()

    return {
        "add_items": add,
        "get_items": read_all,
        "get_items(limit=20)": read_last20,
        "pop_item": pop,
    }


async def _scan_listing(
    client: aioredis.Redis, prefix: str, user: str, limit: int, offset: int
) -> list[Any]:
    """What an SDK RedisSession user must write to list a user's conversations."""
    keys = [
        key
        async for key in client.scan_iter(match=f"{prefix}:{user}:*", count=1000)
        if not key.endswith((b":messages", b":counter"))
    ]
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.hget(key, "updated_at")
    stamps = await pipe.execute()
    page = [key for _, key in sorted(zip(stamps, keys, strict=True), reverse=True)]
    page = page[offset : offset + limit]
    pipe = client.pipeline(transaction=False)
    for key in page:
        pipe.hgetall(key)
        pipe.llen(key + b":messages")
    return list(await pipe.execute())
