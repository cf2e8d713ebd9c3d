"""Samples, percentiles and ratios measured within one run."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


@dataclass
class Series:
    """Latency samples (seconds) of one operation on one backend, kept per round.

    Rounds interleave the backends, so comparing round by round cancels the slow drift of
    a shared machine; the ratio to the reference is the median of the per-round ratios.
    """

    rounds: list[list[float]] = field(default_factory=list)

    def add_round(self, samples: list[float]) -> None:
        if samples:
            self.rounds.append(samples)

    @property
    def samples(self) -> list[float]:
        return [s for r in self.rounds for s in r]

    @property
    def count(self) -> int:
        return sum(len(r) for r in self.rounds)

    @property
    def median(self) -> float:
        return median(self.samples)

    @property
    def p99(self) -> float:
        return percentile(self.samples, 99)

    def round_medians(self) -> list[float]:
        return [median(r) for r in self.rounds]


def ratio(subject: Series | None, reference: Series | None) -> float:
    """Median over rounds of subject/reference (both round medians); NaN if unknown."""
    if subject is None or reference is None:
        return math.nan
    pairs = zip(subject.round_medians(), reference.round_medians(), strict=False)
    ratios = [s / r for s, r in pairs if r > 0 and not math.isnan(s)]
    return median(ratios)


def fmt_ms(seconds: float) -> str:
    """Milliseconds with three significant digits."""
    if math.isnan(seconds):
        return "n/a"
    ms = seconds * 1000
    if ms >= 100:
        return f"{ms:.0f}"
    if ms >= 10:
        return f"{ms:.1f}"
    if ms >= 1:
        return f"{ms:.2f}"
    return f"{ms:.3f}"


TIMES = "\u00d7"  # the multiplication sign


def fmt_ratio(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:.2f}{TIMES}"


def fmt_bytes(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if value >= 1024 * 1024:
        return f"{value / 1024 / 1024:.1f} MiB"
    if value >= 1024:
        return f"{value / 1024:.2f} KiB"
    return f"{value:.0f} B"
