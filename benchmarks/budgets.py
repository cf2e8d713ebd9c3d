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
    PING,
    PING_NAME,
    READ_ALL,
    READ_LAST20,
    Results,
    throughput_ratio,
)
from .stats import TIMES, fmt_ms, fmt_ratio, ratio

PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"

LIST_BUDGET_SECONDS = 0.002
LIST_NOISE_TOLERANCE = 1.5  # "independent" of the keyspace: within 1.5x, round by round
APPEND_BUDGET = 0.6
APPEND_TEXT = f"Append a turn: ≤ {APPEND_BUDGET}{TIMES} the SDK RedisSession at every size"
# The reads every budget covers, and for JSONSession whole reads up to 1,000 items only.
WHOLE_SIZES = (100, 1000, 10_000)
JSON_WHOLE_SIZES = (100, 1000)
LAST20_SIZES = (10, 1000, 10_000)
PING_BUDGET = 2.0
MEMORY_BUDGET_RATIO = 2.0
MEMORY_FLOOR_TOLERANCE = 1.10
MEMORY_BUDGET = (
    f"Memory per item ≤ {MEMORY_BUDGET_RATIO:g}{TIMES} the SDK RedisSession's, or within "
    f"{MEMORY_FLOOR_TOLERANCE - 1:.0%} of what MessageHistory's schema needs (section 7)"
)
MH_SPEEDUP = 4.0


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
        ok = all(r <= APPEND_BUDGET for r in known.values()) if known else None
        out.append(Check(APPEND_TEXT, name, measured, _status(ok)))
    return out


def _read_check(
    results: Results, workload: str, what: str, name: str, sizes: tuple[int, ...]
) -> list[Check]:
    """`name`'s reads ≤ 1.0x the SDK RedisSession's and ≤ 1.0x SQLiteSession's, per size."""
    out = []
    for reference in (bk.REFERENCE, bk.SDK_SQLITE):
        budget = f"{what}: ≤ 1.0{TIMES} {reference} at " + ", ".join(f"{s:,}" for s in sizes)
        found = {
            size: ratio(
                results.series(workload, size, name), results.series(workload, size, reference)
            )
            for size in sizes
        }
        known = {s: r for s, r in found.items() if not math.isnan(r)}
        if not known:
            out.append(Check(budget, name, "not measured", SKIP))
            continue
        measured = ", ".join(f"{s:,}: {fmt_ratio(r)}" for s, r in known.items())
        if len(known) < len(sizes):
            measured += " (other sizes not measured)"
        out.append(Check(budget, name, measured, _status(all(r <= 1.0 for r in known.values()))))
    return out


def check_reads(results: Results) -> list[Check]:
    """AgentSession's reads of every kind and size; JSONSession's whole reads up to 1,000
    items (its last-20 reads are held to the PING floor below, as AgentSession's are)."""
    out = _read_check(results, READ_ALL, "Whole history", bk.AGENT, WHOLE_SIZES)
    out += _read_check(results, READ_LAST20, "Last 20", bk.AGENT, LAST20_SIZES)
    out += _read_check(results, READ_ALL, "Whole history", bk.JSON, JSON_WHOLE_SIZES)
    return out


def check_last20_floor(results: Results) -> list[Check]:
    """The last 20 of any size within 2x of a bare PING timed in the same rounds."""
    out = []
    budget = f"Last 20 of any size: ≤ {PING_BUDGET:g}{TIMES} a bare PING through the same client"
    for name in bk.OURS:
        found = {
            size: ratio(
                results.series(READ_LAST20, size, name), results.series(PING, size, PING_NAME)
            )
            for size in results.sizes(READ_LAST20)
        }
        known = {s: r for s, r in found.items() if not math.isnan(r)}
        if not known:
            out.append(Check(budget, name, "not measured", SKIP))
            continue
        measured = ", ".join(f"{s:,}: {fmt_ratio(r)}" for s, r in known.items())
        ok = all(r <= PING_BUDGET for r in known.values())
        out.append(Check(budget, name, measured, _status(ok)))
    return out


def check_whole_history(results: Results) -> list[Check]:
    out = []
    size = 1000
    budget = f"Whole history of 1,000: ≥ {MH_SPEEDUP:g}{TIMES} faster than MessageHistory"
    for name in bk.OURS:
        subject = results.series(READ_ALL, size, name)
        mh = results.series(READ_ALL, size, bk.MESSAGE_HISTORY)
        speedup = ratio(mh, subject)
        if not _known(speedup):
            out.append(Check(budget, name, "needs size 1,000", SKIP))
            continue
        measured = f"{speedup:.1f}{TIMES} faster than MessageHistory"
        out.append(Check(budget, name, measured, _status(speedup >= MH_SPEEDUP)))
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
    growth = ratio(noisy, quiet)  # round by round: each round measures both
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
        ok = r <= MEMORY_BUDGET_RATIO
        floor = results.memory_floor if name == bk.AGENT else math.nan
        if not ok and not math.isnan(floor):
            measured += (
                f"; MessageHistory's schema alone needs {floor:.0f} B/item "
                f"({fmt_ratio(floor / reference.per_item)}), this is "
                f"{fmt_ratio(memory.per_item / floor)} that"
            )
            ok = memory.per_item <= floor * MEMORY_FLOOR_TOLERANCE
        out.append(Check(MEMORY_BUDGET, name, measured, _status(ok)))
    return out


def evaluate(results: Results) -> list[Check]:
    return [
        *check_round_trips(results),
        *check_append(results),
        *check_reads(results),
        *check_last20_floor(results),
        *check_whole_history(results),
        *check_concurrency(results),
        *check_listing(results),
        *check_memory(results),
    ]
