"""Everything one run measured, in plain dataclasses."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from .server_baseline import Baseline
from .stats import Series, median, percentile

# Latency workloads, measured at every conversation size.
APPEND = "append"
READ_ALL = "read_all"
READ_LAST20 = "read_last20"
RUNNER_TURN = "runner_turn"
SIZE_WORKLOADS = (APPEND, READ_ALL, READ_LAST20, RUNNER_TURN)

WORKLOAD_TITLES = {
    APPEND: "Append one Runner turn (`add_items` of a 4-item batch)",
    READ_ALL: "Read the whole history (`get_items()`)",
    READ_LAST20: "Read the last 20 items (`get_items(limit=20)`)",
    RUNNER_TURN: "Runner-shaped turn (`get_items()` + `add_items([user])` + `add_items(batch)`)",
}

# A bare PING through the same redis.asyncio client, timed in the rounds of the last-20
# reads: the floor of any read.
PING = "ping"
PING_NAME = "PING"

# Operations whose round trips are counted.
OPS = ("add_items", "get_items", "get_items(limit=20)", "pop_item", "clear_session")


@dataclass
class ConcurrencyRound:
    items_per_second: float
    latencies: list[float]


@dataclass
class Concurrency:
    rounds: list[ConcurrencyRound] = field(default_factory=list)

    @property
    def items_per_second(self) -> float:
        return median([r.items_per_second for r in self.rounds])

    @property
    def p50(self) -> float:
        return percentile([x for r in self.rounds for x in r.latencies], 50)

    @property
    def p99(self) -> float:
        return percentile([x for r in self.rounds for x in r.latencies], 99)


def throughput_ratio(subject: Concurrency | None, reference: Concurrency | None) -> float:
    if subject is None or reference is None:
        return math.nan
    pairs = zip(subject.rounds, reference.rounds, strict=False)
    return median([s.items_per_second / r.items_per_second for s, r in pairs if r.items_per_second])


@dataclass
class Memory:
    items: int
    keys: int
    key_bytes: int
    index_bytes: int
    disk_bytes: int = 0

    @property
    def per_item(self) -> float:
        total = self.key_bytes + self.index_bytes
        return total / self.items if self.items and total else math.nan

    @property
    def disk_per_item(self) -> float:
        return self.disk_bytes / self.items if self.items and self.disk_bytes else math.nan


@dataclass
class MemoryPart:
    """One step of the breakdown of AgentSession's memory per item."""

    label: str
    per_item: float


@dataclass
class RoundTrips:
    """Requests the server read per operation, and the commands it executed for them."""

    round_trips: float
    commands: dict[str, float]


@dataclass
class Cost:
    """Where one operation's time goes, in seconds per operation."""

    wall: float
    client_cpu: float
    server_cpu: float

    @property
    def other(self) -> float:
        return max(0.0, self.wall - self.client_cpu - self.server_cpu)


@dataclass
class Results:
    backends: list[str]
    latency: dict[str, dict[int, dict[str, Series]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(dict))
    )
    concurrency: dict[str, Concurrency] = field(default_factory=dict)
    listing: dict[str, Series] = field(default_factory=dict)
    listing_conversations: int = 0
    noise_keys: int = 0
    memory: dict[str, Memory] = field(default_factory=dict)
    memory_parts: list[MemoryPart] = field(default_factory=list)
    """AgentSession's item hashes rebuilt field by field: what each part costs per item."""
    memory_floor: float = math.nan
    """Bytes per item of one hash per item holding only what MessageHistory reads, plus
    the index entry: the least that MessageHistory compatibility costs."""
    round_trips: dict[str, dict[str, RoundTrips]] = field(default_factory=dict)
    costs: dict[str, dict[str, Cost]] = field(default_factory=dict)
    durability: dict[str, dict[str, Series]] = field(default_factory=dict)
    """Append latency per session type: without write ids, with them, with wait_replicas=1."""
    cost_size: int = 0
    server_baseline: list[Baseline] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def series(self, workload: str, size: int, backend: str) -> Series | None:
        return self.latency.get(workload, {}).get(size, {}).get(backend)

    def sizes(self, workload: str) -> list[int]:
        return sorted(self.latency.get(workload, {}))
