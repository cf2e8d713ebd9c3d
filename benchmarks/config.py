"""How much to measure: the full run and the `--quick` smoke run."""

from __future__ import annotations

from dataclasses import dataclass, replace

FULL_SIZES = (10, 100, 1000, 10000)
QUICK_SIZES = (10, 50)


@dataclass(frozen=True)
class BenchConfig:
    sizes: tuple[int, ...] = FULL_SIZES
    repeat: int = 5
    # Seconds spent on one backend in one block (one operation, one size, one round);
    # the number of iterations follows from it, within [min_ops, max_ops].
    block_seconds: float = 0.12
    min_ops: int = 3
    max_ops: int = 60
    warmup_ops: int = 2
    # Operations slower than this get at most `slow_ops` samples per round.
    slow_op_seconds: float = 0.25
    slow_ops: int = 2
    concurrency: int = 64
    concurrency_seconds: float = 2.0
    concurrency_rounds: int = 3
    list_conversations: int = 1000
    noise_keys: int = 100_000
    list_ops: int = 100
    cost_ops: int = 40
    roundtrip_ops: int = 10
    seed: int = 20240601
    quick: bool = False

    @classmethod
    def full(cls) -> BenchConfig:
        return cls()

    @classmethod
    def quick_run(cls) -> BenchConfig:
        return cls(
            sizes=QUICK_SIZES,
            repeat=2,
            block_seconds=0.01,
            min_ops=2,
            max_ops=5,
            warmup_ops=1,
            concurrency=8,
            concurrency_seconds=0.1,
            concurrency_rounds=1,
            list_conversations=60,
            noise_keys=2000,
            list_ops=10,
            cost_ops=5,
            roundtrip_ops=3,
            quick=True,
        )

    def with_overrides(
        self,
        sizes: tuple[int, ...] | None = None,
        repeat: int | None = None,
        concurrency_seconds: float | None = None,
    ) -> BenchConfig:
        changed = self
        if sizes:
            changed = replace(changed, sizes=tuple(sorted(set(sizes))))
        if repeat is not None:
            changed = replace(changed, repeat=max(1, repeat))
        if concurrency_seconds is not None:
            changed = replace(changed, concurrency_seconds=concurrency_seconds)
        return changed

    @property
    def cost_size(self) -> int:
        """The conversation size at which time is split into client and server."""
        return 1000 if 1000 in self.sizes else max(self.sizes)
