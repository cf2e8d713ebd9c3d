"""The budgets of the issue, checked against one run's results.

A FAIL is a bug in the library, not in the budget. A budget whose measurement this run did
not make (a size left out by `--sizes` or `--quick`) is SKIP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from . import backends as bk
from .results import (
    APPEND,
    OPS,
    READ_ALL,
    READ_LAST20,
    Results,
    throughput_ratio,
)
from .stats import TIMES, fmt_ms, fmt_ratio, ratio

PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"

LIST_BUDGET_SECONDS = 0.002
LIST_NOISE_TOLERANCE = 1.5  # "independent" of the keyspace: within 1.5x of the quiet median
LAST20_BUDGET = f"Last 20 of 10,000: ratio ≤ 2.0, ≤ 1.5{TIMES} the 10-item read"
MEMORY_BUDGET = f"Memory per item ≤ 3{TIMES} the SDK RedisSession's"


@dataclass(frozen=True)
class Check:
    budget: str
    subject: str
    measured: str
    status: str


def _status(ok: bool | None) -> str:
    if ok is None:
        return SKIP
    return PASS if ok else FAIL


def _known(*values: float) -> bool:
    return all(not math.isnan(v) for v in values)


def check_round_trips(results: Results) -> list[Check]:
    out = []
    ops = [op for op in OPS if op != "get_items(limit=20)"]
    for name in bk.OURS:
        found = results.round_trips.get(name)
        for op in ops:
            rt = found.get(op) if found else None
            measured = "not measured" if rt is None else f"{rt.round_trips:.2f} round trips"
            ok = None if rt is None else round(rt.round_trips, 2) <= 1.0
            out.append(Check(f"`{op}` in one round trip", name, measured, _status(ok)))
    return out


def check_append(results: Results) -> list[Check]:
    out = []
    sizes = results.sizes(APPEND)
    for name in bk.OURS:
        ratios = {
            size: ratio(
                results.series(APPEND, size, name), results.series(APPEND, size, bk.REFERENCE)
            )
            for size in sizes
        }
        known = {s: r for s, r in ratios.items() if not math.isnan(r)}
        measured = ", ".join(f"{s:,}: {fmt_ratio(r)}" for s, r in known.items()) or "not measured"
        ok = all(r <= 1.0 for r in known.values()) if known else None
        out.append(Check("Append a turn: ratio ≤ 1.0 at every size", name, measured, _status(ok)))
    return out


def check_last20(results: Results) -> list[Check]:
    out = []
    big, small = 10_000, 10
    for name in bk.OURS:
        subject = results.series(READ_LAST20, big, name)
        tiny = results.series(READ_LAST20, small, name)
        r = ratio(subject, results.series(READ_LAST20, big, bk.REFERENCE))
        growth = ratio(subject, tiny)  # measured in the same interleaved rounds
        if not _known(r, growth):
            out.append(Check(LAST20_BUDGET, name, "needs sizes 10 and 10,000", SKIP))
            continue
        measured = f"ratio {fmt_ratio(r)}; {fmt_ratio(growth)} the 10-item read"
        ok = r <= 2.0 and growth <= 1.5
        out.append(Check(LAST20_BUDGET, name, measured, _status(ok)))
    return out


def check_whole_history(results: Results) -> list[Check]:
    out = []
    size = 1000
    for name in bk.OURS:
        subject = results.series(READ_ALL, size, name)
        r = ratio(subject, results.series(READ_ALL, size, bk.REFERENCE))
        mh = results.series(READ_ALL, size, bk.MESSAGE_HISTORY)
        speedup = ratio(mh, subject)
        budget = f"Whole history of 1,000: ratio ≤ 2.0, ≥ 4{TIMES} faster than MessageHistory"
        if not _known(r, speedup):
            out.append(Check(budget, name, "needs size 1,000", SKIP))
            continue
        measured = f"ratio {fmt_ratio(r)}; {speedup:.1f}{TIMES} faster than MessageHistory"
        out.append(Check(budget, name, measured, _status(r <= 2.0 and speedup >= 4.0)))
    return out


def check_concurrency(results: Results) -> list[Check]:
    out = []
    reference = results.concurrency.get(bk.REFERENCE)
    for name in bk.OURS:
        r = throughput_ratio(results.concurrency.get(name), reference)
        ok = None if math.isnan(r) else r >= 1.0
        measured = "not measured" if ok is None else f"throughput ratio {fmt_ratio(r)}"
        out.append(
            Check("Concurrent conversations: throughput ratio ≥ 1.0", name, measured, _status(ok))
        )
    return out


def check_listing(results: Results) -> list[Check]:
    quiet = results.listing.get("AgentSession page 1")
    noisy = results.listing.get("AgentSession page 1 +noise")
    budget = (
        f"`list_sessions` page 1 at {results.listing_conversations:,} conversations: "
        "< 2 ms median, independent of other keys"
    )
    if quiet is None or noisy is None:
        return [Check(budget, bk.AGENT, "not measured", SKIP)]
    growth = noisy.median / quiet.median
    measured = (
        f"{fmt_ms(quiet.median)} ms; {fmt_ms(noisy.median)} ms with "
        f"{results.noise_keys:,} other keys ({fmt_ratio(growth)})"
    )
    ok = (
        quiet.median < LIST_BUDGET_SECONDS
        and noisy.median < LIST_BUDGET_SECONDS
        and growth <= LIST_NOISE_TOLERANCE
    )
    return [Check(budget, bk.AGENT, measured, _status(ok))]


def check_memory(results: Results) -> list[Check]:
    out = []
    reference = results.memory.get(bk.REFERENCE)
    for name in bk.OURS:
        memory = results.memory.get(name)
        if memory is None or reference is None:
            out.append(Check(MEMORY_BUDGET, name, "not measured", SKIP))
            continue
        r = memory.per_item / reference.per_item
        measured = f"{memory.per_item:.0f} B/item, {fmt_ratio(r)}"
        out.append(Check(MEMORY_BUDGET, name, measured, _status(r <= 3.0)))
    return out


def evaluate(results: Results) -> list[Check]:
    return [
        *check_round_trips(results),
        *check_append(results),
        *check_last20(results),
        *check_whole_history(results),
        *check_concurrency(results),
        *check_listing(results),
        *check_memory(results),
    ]
