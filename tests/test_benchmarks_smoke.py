"""The benchmark program at tiny sizes, so that it never rots (`python -m benchmarks --quick`)."""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from benchmarks import backends as bk
from benchmarks.budgets import evaluate
from benchmarks.items import MAX_ITEM_BYTES, ItemFactory
from benchmarks.results import APPEND, Results
from benchmarks.stats import Series, percentile, ratio

ROOT = Path(__file__).resolve().parent.parent


def _run_module(redis_url: str, module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m module args...` from the repository root against `redis_url`; it must
    exit 0."""
    env = {**os.environ, "REDIS_URL": redis_url, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_percentile_and_ratio() -> None:
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([1.0, 2.0], 100) == 2.0
    assert math.isnan(percentile([], 99))
    fast, slow = Series(), Series()
    for r in range(3):
        fast.add_round([1.0 + r, 1.0 + r])
        slow.add_round([2.0 + 2 * r, 2.0 + 2 * r])
    assert ratio(fast, slow) == pytest.approx(0.5)
    assert math.isnan(ratio(fast, None))


def test_items_are_realistic_turns() -> None:
    factory = ItemFactory()
    turn = factory.turn(0)
    kinds = [item.get("type", "message") for item in turn.items]
    assert kinds == ["message", "reasoning", "function_call", "function_call_output", "message"]
    low, high = factory.size_range()
    assert low >= 200 and high <= MAX_ITEM_BYTES
    assert factory.history(7) == [*factory.turn(0).items, *factory.turn(1).items[:2]]
    assert ItemFactory().turns[3] == factory.turns[3]  # seeded: the same bytes every run


def test_budgets_skip_what_was_not_measured() -> None:
    results = Results(backends=list(bk.ALL))
    results.latency[APPEND][10][bk.AGENT] = Series([[1.0]])
    results.latency[APPEND][10][bk.REFERENCE] = Series([[2.0]])
    checks = evaluate(results)
    append = [c for c in checks if c.subject == bk.AGENT and c.budget.startswith("Append")]
    assert [c.status for c in append] == ["PASS"]
    assert {c.status for c in checks if "10,000" in c.budget} == {"SKIP"}


def test_quick_benchmark_writes_the_report(redis_url: str, r: redis.Redis, tmp_path: Path) -> None:
    out, png = tmp_path / "results.md", tmp_path / "latency.png"
    before = set(r.scan_iter("bench*", count=1000))
    done = _run_module(redis_url, "benchmarks", "--quick", "--out", str(out), "--plot", str(png))
    report = out.read_text(encoding="utf-8")
    for name in bk.ALL:
        assert name in report
    for heading in ("## Budgets", "Append one Runner turn", "Memory in Redis", "Round trips"):
        assert heading in report
    assert "PASS" in done.stdout or "FAIL" in done.stdout
    if importlib.util.find_spec("matplotlib") is not None:
        assert png.stat().st_size > 0
    left = set(r.scan_iter("bench*", count=1000)) - before
    assert not left, f"the benchmark left keys behind: {sorted(left)[:5]}"


def test_branch_benchmark_prints_its_rows_and_cleans_up(redis_url: str, r: redis.Redis) -> None:
    before = set(r.scan_iter("br*", count=1000))
    done = _run_module(
        redis_url, "benchmarks.branches", *("--size", "20", "--rounds", "1", "--count", "3")
    )
    for row in ("switch_to_branch", "get_items on a branch", "create_branch_from_turn(4)"):
        assert f"| {row}" in done.stdout, done.stdout
    left = set(r.scan_iter("br*", count=1000)) - before
    assert not left, f"the benchmark left keys behind: {sorted(left)[:5]}"


def test_wakeup_probe_prints_one_row_per_server_time(redis_url: str) -> None:
    done = _run_module(redis_url, "benchmarks.wakeups", "--samples", "5")
    lines = done.stdout.splitlines()
    assert lines[0].startswith("bare PING in a loop: ")
    rows = [[float(value) for value in line.split()] for line in lines[2:]]
    assert len(rows) == 8, done.stdout
    server_times = [row[0] for row in rows]
    assert server_times[-1] > server_times[0]
    assert all(wall >= server for server, wall, _ in rows)
