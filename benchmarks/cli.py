"""`python -m benchmarks`: run every workload, print PASS/FAIL per budget, write the report."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import shlex
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import redis.asyncio as aioredis

from . import backends as bk
from . import budgets, environment, plot, report, server_baseline
from . import cluster as cluster_bench
from .config import BenchConfig
from .redisinfo import Admin
from .stats import median
from .workloads import Bench

HERE = Path(__file__).resolve().parent
PHASES = ("sizes", "roundtrips", "concurrency", "listing", "durability")
SERVERS = ("default", "stack", "cluster")
"""`default`: $REDIS_URL, or an embedded Redis 8; `stack`: an embedded Redis Stack 7.4;
`cluster`: one node against a 3-master cluster (`benchmarks.cluster`)."""
STACK_LABEL = "Redis Stack 7.4"


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of sizes: {text!r}") from None
    if not sizes or any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError("sizes must be positive integers")
    return sizes


def _phases(text: str) -> tuple[str, ...]:
    chosen = tuple(p.strip() for p in text.split(",") if p.strip())
    unknown = set(chosen) - set(PHASES)
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown phase(s) {sorted(unknown)}; known: {PHASES}")
    return chosen


def _servers(text: str) -> tuple[str, ...]:
    chosen = tuple(p.strip() for p in text.split(",") if p.strip())
    unknown = set(chosen) - set(SERVERS)
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"unknown server(s) {sorted(unknown)}; known: {SERVERS}")
    return chosen


def _backends(text: str) -> tuple[str, ...]:
    by_short = {short: name for name, short in bk.SHORT_NAMES.items()}
    chosen = tuple(p.strip() for p in text.split(",") if p.strip())
    unknown = set(chosen) - set(by_short)
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown backend(s) {sorted(unknown)}; known: {','.join(by_short)}"
        )
    return tuple(by_short[short] for short in chosen)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Compare AgentSession and JSONSession with the SDK's RedisSession and "
        "SQLiteSession and with RedisVL MessageHistory, in one run against one Redis "
        "($REDIS_URL, or an embedded Redis 8 when it is unset).",
    )
    parser.add_argument("--quick", action="store_true", help="tiny sizes, a few seconds")
    parser.add_argument("--sizes", type=_sizes, help="conversation sizes, e.g. 10,100,1000")
    parser.add_argument("--repeat", type=int, help="rounds per measurement")
    parser.add_argument("--duration", type=float, help="seconds per concurrency round")
    parser.add_argument(
        "--only",
        type=_phases,
        default=PHASES,
        help=f"comma-separated phases to run, among {','.join(PHASES)}",
    )
    parser.add_argument(
        "--backends",
        type=_backends,
        default=bk.ALL,
        help="comma-separated subset, among agent,json,sdk,sqlite,mh (sdk is always run)",
    )
    parser.add_argument(
        "--servers",
        type=_servers,
        default=None,
        help=f"comma-separated, among {','.join(SERVERS)}; default: all of them, or only "
        "`default` with --quick",
    )
    parser.add_argument(
        "--cluster-rounds", type=int, default=50, help="rounds of the cluster benchmark"
    )
    parser.add_argument("--out", type=Path, default=HERE / "results.md", help="report path")
    parser.add_argument("--plot", type=Path, default=HERE / "latency.png", help="plot path")
    parser.add_argument("--no-plot", action="store_true", help="do not draw the plot")
    parser.add_argument("--strict", action="store_true", help="exit 1 when a budget fails")
    parser.add_argument("--redis-url", default=None, help="default: $REDIS_URL")
    return parser.parse_args(argv)


@contextlib.contextmanager
def _redis(url: str | None) -> Iterator[str]:
    url = url or os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    from redis_openai_agents.embedded import EmbeddedRedis

    with EmbeddedRedis() as server:
        yield server.url


async def _ping(url: str, count: int = 200) -> float:
    client = aioredis.Redis.from_url(url)
    try:
        await client.ping()
        samples = []
        for _ in range(count):
            start = time.perf_counter()
            await client.ping()
            samples.append(time.perf_counter() - start)
        return median(samples)
    finally:
        await client.aclose()


async def run(
    config: BenchConfig,
    url: str,
    phases: Sequence[str],
    workdir: Path,
    backends: Sequence[str] = bk.ALL,
) -> tuple[Bench, float]:
    gc.collect()
    gc.freeze()  # the SDK's import graph is large: keep it out of every later collection
    admin = Admin(url)
    bench = Bench(
        config, url, workdir, admin, log=lambda line: print(line, flush=True), backends=backends
    )
    try:
        bench.results.environment = environment.describe(admin)
        ping = await _ping(url, 20 if config.quick else 200)
        steps = {
            "sizes": ("workloads 1-3 and memory", bench.run_sizes),
            "roundtrips": ("round trips", bench.run_round_trips),
            "concurrency": ("concurrent conversations", bench.run_concurrency),
            "listing": ("list_sessions", bench.run_listing),
            "durability": ("write ids and wait_replicas", bench.run_durability),
        }
        for phase in PHASES:
            if phase not in phases:
                continue
            title, step = steps[phase]
            started = time.perf_counter()
            print(f"[{phase}] {title}", flush=True)
            await step()
            print(f"[{phase}] done in {time.perf_counter() - started:.1f} s", flush=True)
        if not config.quick:
            bench.results.server_baseline = _redis_benchmark(admin, url)
        env = bench.results.environment
        env["Load average"] += f", {environment.load_average()} at the end"
    finally:
        admin.close()
    return bench, ping


def _redis_benchmark(admin: Admin, url: str) -> list[server_baseline.Baseline]:
    """redis-benchmark's own numbers, unless that would touch keys that are not ours."""
    keys = server_baseline.BENCHMARK_KEYS
    if admin.client.exists(*keys):
        return []
    print("[baseline] redis-benchmark", flush=True)
    try:
        return server_baseline.measure(url)
    finally:
        admin.client.delete(*keys)


def _stack_phases(phases: Sequence[str]) -> tuple[str, ...]:
    """The second server repeats every phase but the replica one (which starts its own)."""
    return tuple(p for p in phases if p != "durability")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    config = BenchConfig.quick_run() if args.quick else BenchConfig.full()
    config = config.with_overrides(args.sizes, args.repeat, args.duration)
    servers = args.servers or (("default",) if args.quick else SERVERS)
    command = "python -m benchmarks" + (
        " " + shlex.join(sys.argv[1:] if argv is None else list(argv))
        if (sys.argv[1:] if argv is None else argv)
        else ""
    )
    started = time.perf_counter()
    runs: list[report.ServerRun] = []
    cluster_report: cluster_bench.ClusterReport | None = None
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        if "default" in servers:
            print("== the default server", flush=True)
            with _redis(args.redis_url) as url:
                bench, ping = asyncio.run(run(config, url, args.only, Path(tmp), args.backends))
            runs.append(report.ServerRun("", bench, ping, budgets.evaluate(bench.results)))
        if "stack" in servers:
            from redis_openai_agents.embedded import EmbeddedRedis

            print(f"== {STACK_LABEL} (embedded)", flush=True)
            with EmbeddedRedis(server="stack") as server:
                bench, ping = asyncio.run(
                    run(config, server.url, _stack_phases(args.only), Path(tmp), args.backends)
                )
            runs.append(report.ServerRun(STACK_LABEL, bench, ping, budgets.evaluate(bench.results)))
        if "cluster" in servers:
            print("== one node against a 3-master cluster (embedded)", flush=True)
            cluster_report = cluster_bench.measure(
                max(2, args.cluster_rounds // (10 if args.quick else 1)),
                repeats=1 if args.quick else 3,
                log=lambda line: print(line, flush=True),
            )
    plot_name: str | None = None
    main_run = runs[0] if runs else None
    if main_run is not None and not args.no_plot:
        if plot.available():
            plot.write_plot(main_run.bench.results, args.plot)
            plot_name = os.path.relpath(args.plot.resolve(), args.out.resolve().parent)
        else:
            print("matplotlib is not installed: no plot (pip install matplotlib)")
    text = report.render_all(runs, cluster_report, config, command, plot_name)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print()
    checks = [(one.label, check) for one in runs for check in one.checks]
    for label, check in checks:
        subject = f"{check.subject} ({label})" if label else check.subject
        print(f"{check.status:4}  {subject:30}  {check.budget}: {check.measured}")
    failed = sum(check.status == budgets.FAIL for _, check in checks)
    print(
        f"\n{len(checks) - failed} of {len(checks)} budgets not failed; report: {args.out}"
        + (f", plot: {args.plot}" if plot_name else "")
        + f" ({time.perf_counter() - started:.0f} s)"
    )
    return 1 if args.strict and failed else 0
