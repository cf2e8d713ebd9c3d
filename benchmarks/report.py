"""`results.md`: the machine, the versions, the date, the budgets and the tables."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import backends as bk
from .budgets import Check
from .config import BenchConfig
from .items import ItemFactory
from .results import (
    OPS,
    PING,
    PING_NAME,
    READ_LAST20,
    SIZE_WORKLOADS,
    WORKLOAD_TITLES,
    Results,
    throughput_ratio,
)
from .stats import TIMES, fmt_bytes, fmt_ms, fmt_ratio, ratio

if TYPE_CHECKING:
    from .cluster import ClusterReport
    from .workloads import Bench


@dataclass
class ServerRun:
    """Everything measured against one server; `label` is empty for the default one."""

    label: str
    bench: Bench
    ping: float
    checks: list[Check]


_STATUS = {"PASS": "✅ PASS", "FAIL": "❌ FAIL", "SKIP": "SKIP"}


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _us(seconds: float) -> str:
    return "n/a" if math.isnan(seconds) else f"{seconds * 1e6:,.0f}"


def budget_lines(checks: Sequence[Check]) -> list[str]:
    rows = [[c.budget, c.subject, c.measured, _STATUS[c.status]] for c in checks]
    return _table(["Budget", "Backend", "Measured", "Result"], rows)


def latency_lines(results: Results) -> list[str]:
    out: list[str] = []
    names = results.backends
    for number, workload in enumerate(SIZE_WORKLOADS, start=1):
        sizes = results.sizes(workload)
        if not sizes:
            continue
        out += [f"### {number}. {WORKLOAD_TITLES[workload]}", ""]
        rows = []
        for size in sizes:
            reference = results.series(workload, size, bk.REFERENCE)
            row = [f"{size:,}"]
            for name in names:
                series = results.series(workload, size, name)
                if series is None:
                    row.append("n/a")
                    continue
                r = ratio(series, reference)
                row.append(f"**{fmt_ratio(r)}** {fmt_ms(series.median)} / {fmt_ms(series.p99)}")
            if workload == READ_LAST20:
                floor = results.series(PING, size, PING_NAME)
                row.append("n/a" if floor is None else fmt_ms(floor.median))
            rows.append(row)
        floor_column = ["bare `PING` (same rounds)"] if workload == READ_LAST20 else []
        out += _table(["items", *names, *floor_column], rows)
    return out


def concurrency_lines(results: Results, config: BenchConfig) -> list[str]:
    if not results.concurrency:
        return []
    reference = results.concurrency.get(bk.REFERENCE)
    rows = []
    for name in results.backends:
        found = results.concurrency.get(name)
        if found is None:
            continue
        rows.append(
            [
                name,
                f"{found.items_per_second:,.0f}",
                fmt_ms(found.p50),
                fmt_ms(found.p99),
                f"**{fmt_ratio(throughput_ratio(found, reference))}**",
            ]
        )
    title = (
        f"### {len(SIZE_WORKLOADS) + 1}. {config.concurrency} conversations driven concurrently "
        f"({config.concurrency_rounds} {TIMES} {config.concurrency_seconds:g} s per backend, "
        "`add_items` of a 4-item turn in a loop)"
    )
    header = ["Backend", "items written/s", "p50 ms", "p99 ms", "throughput ratio"]
    return [title, "", *_table(header, rows)]


def listing_lines(results: Results) -> list[str]:
    if not results.listing:
        return []
    rows = []
    for name, series in results.listing.items():
        reference_name = "SDK RedisSession + SCAN page 1" + (
            " +noise" if name.endswith("+noise") else ""
        )
        r = ratio(series, results.listing.get(reference_name))
        label = name.replace(" +noise", f" (+{results.noise_keys:,} other keys)")
        rows.append([label, fmt_ms(series.median), fmt_ms(series.p99), fmt_ratio(r)])
    return [
        f"### 6. Listing a user's {results.listing_conversations:,} conversations "
        "(`AgentSession.alist_sessions`, 50 per page)",
        "",
        "The SDK has no per-user listing: its row is what an SDK user would write instead "
        "(SCAN the keyspace for the user's sessions, sort by `updated_at`, read one page). "
        "The last row calls `alist_sessions` when no session of the process is open, as a "
        "web request that only lists would.",
        "",
        *_table(["Case", "median ms", "p99 ms", "ratio to SDK + SCAN"], rows),
    ]


def memory_lines(results: Results, items: ItemFactory) -> list[str]:
    if not results.memory:
        return []
    reference = results.memory.get(bk.REFERENCE)
    rows = []
    for name in results.backends:
        m = results.memory.get(name)
        if m is None:
            continue
        if m.disk_bytes:
            rows.append([name, "—", "—", "—", f"file: {fmt_bytes(m.disk_per_item)}", "n/a"])
            continue
        r = m.per_item / reference.per_item if reference else math.nan
        rows.append(
            [
                name,
                f"{m.keys:,}",
                fmt_bytes(m.key_bytes),
                fmt_bytes(m.index_bytes) if m.index_bytes else "—",
                fmt_bytes(m.per_item),
                f"**{fmt_ratio(r)}**",
            ]
        )
    stored = next(iter(results.memory.values())).items
    return [
        f"### 7. Memory in Redis per stored item ({stored:,} items, "
        f"mean item JSON {items.mean_item_bytes():,.0f} B)",
        "",
        "`MEMORY USAGE key SAMPLES 0` summed over every key of the backend, plus the search "
        "index's own memory from `FT.INFO` (`total_index_memory_sz_mb`).",
        "",
        *_table(["Backend", "keys", "in keys", "search index", "per item", "ratio"], rows),
        *memory_part_lines(results),
    ]


def memory_part_lines(results: Results) -> list[str]:
    """What each part of an AgentSession item costs, rebuilt field by field."""
    if not results.memory_parts:
        return []
    reference = results.memory.get(bk.REFERENCE)
    base = reference.per_item if reference else math.nan
    rows = []
    previous = 0.0
    for part in results.memory_parts:
        rows.append(
            [
                part.label,
                fmt_bytes(part.per_item),
                f"{part.per_item - previous:+,.0f} B" if previous else "",
                fmt_ratio(part.per_item / base),
            ]
        )
        previous = part.per_item
    return [
        "Where AgentSession's bytes go: a sample of 500 of its item hashes copied field by "
        "field under keys of the same length (`MEMORY USAGE` of each copy), plus the search "
        "index's share per item. A hash whose values pass 64 bytes (`hash-max-listpack-"
        "value`) is a hash table, some 60 bytes per field; the item's JSON always does. "
        "RedisVL MessageHistory reads `content` and `metadata` (the item) from each hash, so "
        "both stay; the third row plus the index entry is what its schema needs "
        f"({fmt_bytes(results.memory_floor)} per item here).",
        "",
        *_table(["AgentSession item hash", "per item", "step", "ratio to SDK"], rows),
    ]


def round_trip_lines(results: Results) -> list[str]:
    if not results.round_trips:
        return []
    rows = []
    detail = []
    for name in results.backends:
        found = results.round_trips.get(name)
        if found is None:
            continue
        rows.append(
            [name, *(f"{found[op].round_trips:.2f}" if op in found else "n/a" for op in OPS)]
        )
        for op in OPS:
            if op in found:
                commands = ", ".join(
                    f"{cmd} {count:g}" for cmd, count in found[op].commands.items()
                )
                detail.append([name, f"`{op}`", commands or "—"])
    return [
        "### 8. Round trips per operation, counted by the server",
        "",
        "Requests read by the server (`total_reads_processed` of `INFO stats`, before and "
        "after, minus the INFO call itself), per operation, on a 100-item conversation with "
        "small items so that each request fits one read. MessageHistory cannot clear one "
        "conversation (`clear()` empties the whole index).",
        "",
        *_table(["Backend", *(f"`{op}`" for op in OPS)], rows),
        "Commands the server executed per operation (`INFO commandstats` deltas; this "
        "includes the commands run inside a Lua script or a MULTI/EXEC transaction):",
        "",
        *_table(["Backend", "operation", "commands"], detail),
    ]


def cost_lines(results: Results, ping: float) -> list[str]:
    if not results.costs:
        return []
    rows = []
    labels = {"append": "append a turn", "read_all": "get_items()", "read_last20": "last 20"}
    for name in results.backends:
        for workload, cost in results.costs.get(name, {}).items():
            server = _us(cost.server_cpu) if name != bk.SDK_SQLITE else "—"
            rows.append(
                [
                    name,
                    labels.get(workload, workload),
                    _us(cost.wall),
                    _us(cost.client_cpu),
                    server,
                    _us(cost.other),
                ]
            )
    return [
        f"### 9. Where the time goes (conversation of {results.cost_size:,} items, µs per "
        "operation)",
        "",
        "Client CPU is this process's CPU time (`time.process_time`, SQLite's worker threads "
        "included); server CPU is Redis's `used_cpu_user + used_cpu_sys`; the rest is "
        "network and waiting (the two CPU times can overlap, so this is a lower bound). One "
        f"bare round trip (`PING` through redis.asyncio) takes {_us(ping)} µs here.",
        "",
        *_table(["Backend", "operation", "wall", "client CPU", "server CPU", "other"], rows),
    ]


def _baseline_lines(results: Results) -> list[str]:
    if not results.server_baseline:
        return []
    rows = [
        [b.test, f"{b.requests_per_second:,.0f}", f"{b.p50_ms:.3f}", f"{b.p99_ms:.3f}"]
        for b in results.server_baseline
    ]
    return [
        "What the server alone does here (`redis-benchmark`, one connection, no pipelining, "
        "1,400-byte values):",
        "",
        *_table(["test", "requests/s", "p50 ms", "p99 ms"], rows),
    ]


def durability_lines(results: Results) -> list[str]:
    if not results.durability:
        return []
    rows = []
    for kind, cases in results.durability.items():
        base = next(iter(cases.values()))
        for case, series in cases.items():
            extra = series.median - base.median
            rows.append(
                [
                    kind,
                    case,
                    fmt_ms(series.median),
                    fmt_ms(series.p99),
                    fmt_ratio(ratio(series, base)),
                    "" if series is base else f"{extra * 1e6:+,.0f}",
                ]
            )
    return [
        "### What exactly-once costs (append a 4-item turn to a 100-item conversation)",
        "",
        "Write ids (recorded with each write's outcome in the conversation's slot for five "
        "minutes) make re-sent writes apply once; `wait_replicas=1` adds `WAIT` to the same "
        "round trip, against a loopback replica started for this phase. The first row of each "
        "type switches the record off, for comparison only.",
        "",
        *_table(
            ["Session", "Case", "median ms", "p99 ms", "ratio to no write ids", "median Δ µs"],
            rows,
        ),
    ]


def result_sections(
    results: Results, config: BenchConfig, items: ItemFactory, ping: float
) -> list[str]:
    lines = latency_lines(results)
    lines += concurrency_lines(results, config)
    lines += listing_lines(results)
    lines += durability_lines(results)
    lines += memory_lines(results, items)
    lines += round_trip_lines(results)
    lines += cost_lines(results, ping)
    lines += _baseline_lines(results)
    return lines


def _demote(lines: list[str]) -> list[str]:
    """Headings one level down, for a second server's sections."""
    return ["#" + line if line.startswith("### ") else line for line in lines]


def cluster_lines(found: ClusterReport) -> list[str]:
    from .cluster import CONVERSATIONS, OPERATIONS

    labels = {
        "appends": "append a 2-item batch",
        "reads": "whole read",
        "listings": "list_sessions",
    }
    rows = [
        [
            labels[op],
            f"{found.rate('node', op):,.0f}",
            f"{found.rate('cluster', op):,.0f}",
            f"**{fmt_ratio(found.ratio(op))}**",
        ]
        for op in OPERATIONS
    ]
    loads = []
    for name, load in found.loads.items():
        loads.append(
            [
                name,
                f"{sum(load.acknowledged.values()):,}",
                str(load.lost),
                str(load.duplicated),
                str(load.torn_batches),
                str(len(load.failures)),
                f"{load.longest_pause():.2f} s",
            ]
        )
    return [
        "## Redis Cluster: one node against 3 masters",
        "",
        f"`benchmarks.cluster`: {CONVERSATIONS} conversations of {CONVERSATIONS} users work at "
        f"once from this process, {found.rounds} rounds each per operation, on one embedded "
        f"node ({found.server}) and on a 3-master + 3-replica cluster of the same binaries "
        f"on the same cores; runs alternate, median of {len(found.node)}. A ratio above 1 is "
        "the cluster doing more per second. With two cores for client and six servers "
        "there is no CPU to scale onto: the cluster can only move work around.",
        "",
        *_table(["operation", "one node /s", "cluster /s", "cluster / node"], rows),
        "Writers through topology changes (every write a two-item batch, checked afterwards "
        "against what was acknowledged):",
        "",
        *_table(
            [
                "event",
                "batches acknowledged",
                "lost",
                "applied twice",
                "torn",
                "failed attempts",
                "longest pause",
            ],
            loads,
        ),
    ]


def render_all(
    runs: Sequence[ServerRun],
    found: ClusterReport | None,
    config: BenchConfig,
    command: str,
    plot_name: str | None,
) -> str:
    """One report: the default server in full, then each other server, then the cluster."""
    if not runs:
        text = "# Benchmarks\n\n" + f"Generated by `{command}`.\n\n"
        return text + ("\n".join(cluster_lines(found)) if found else "") + "\n"
    first, *others = runs
    bench = first.bench
    text = render(
        bench.results, first.checks, config, bench.items, command, first.ping, plot_name
    ).rstrip()
    lines = [text, ""]
    for other in others:
        results = other.bench.results
        lines += [
            f"## {other.label}",
            "",
            f"The same run repeated against an embedded {other.label} server (every phase but "
            "the replica one), in the same process, straight after the default server.",
            "",
            *_table(["", ""], [[k, v] for k, v in results.environment.items()]),
            f"### Budgets on {other.label}",
            "",
            *budget_lines(other.checks),
            *_demote(result_sections(results, config, other.bench.items, other.ping)),
        ]
    if found is not None:
        lines += cluster_lines(found)
    return "\n".join(lines).rstrip() + "\n"


def render(
    results: Results,
    checks: Sequence[Check],
    config: BenchConfig,
    items: ItemFactory,
    command: str,
    ping: float,
    plot_name: str | None,
) -> str:
    low, high = items.size_range()
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `{command}`. Every backend ran in the same process, event loop and run, "
        "against the same Redis, with the same items.",
        "",
        *_table(["", ""], [[k, v] for k, v in results.environment.items()]),
        "## Method",
        "",
        f"- Items are realistic Runner turns: a user message, then one batch of reasoning "
        f"(with `encrypted_content`), function_call, function_call_output and an assistant "
        f"message with content parts; {low:,} B to {high:,} B of JSON each, "
        f"{items.mean_item_bytes():,.0f} B on average.",
        f"- Backends: {', '.join(results.backends)}. The SDK's `SQLiteSession` uses a "
        "database file; MessageHistory is called directly (`add_messages`, `get_recent`), "
        "synchronously, as a hand-rolled integration would.",
        f"- Conversation sizes {', '.join(f'{s:,}' for s in config.sizes)}; "
        f"{config.repeat} rounds, the backends in a different order each round, each "
        "operation warmed up before it is timed; within a round the backends alternate "
        "sample by sample. Writes are undone by untimed `pop_item`s (after each sample, or "
        "after each block from 5,000 items on), so a conversation keeps its size.",
        f"- Each cell: **ratio to {bk.REFERENCE}** (median over rounds of the per-round "
        "ratio of medians; below 1 is faster), then median / p99 in milliseconds. Absolute "
        "times drift on shared machines; ratios hold.",
        "",
    ]
    for note in results.notes:
        lines += [f"> **Warning:** {note}", ""]
    lines += ["## Budgets", "", *budget_lines(checks)]
    if plot_name:
        lines += [f"![Read latency against conversation size]({plot_name})", ""]
    lines += ["## Results", ""]
    lines += result_sections(results, config, items, ping)
    return "\n".join(lines).rstrip() + "\n"
