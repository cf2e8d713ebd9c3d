"""What the server alone can do here: `redis-benchmark` from PATH or the embedded wheel."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

_LOOPBACK = ("127.", "localhost", "::1")
# The keys redis-benchmark writes (it has no prefix option).
BENCHMARK_KEYS = ("key:__rand_int__", "mylist", "counter:__rand_int__")


@dataclass(frozen=True)
class Baseline:
    test: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float


def _binary() -> Path | None:
    found = shutil.which("redis-benchmark")
    if found:
        return Path(found)
    with contextlib.suppress(Exception):
        from redis_openai_agents.embedded import redis_stack_dir

        candidate = redis_stack_dir() / "bin" / "redis-benchmark"
        if candidate.exists():
            return candidate
    return None


def _run(binary: Path, args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), *args], capture_output=True, text=True, timeout=120, env=env, check=False
    )


def measure(url: str, requests: int = 10000, value_bytes: int = 1400) -> list[Baseline]:
    """One connection, no pipelining: the floor of one round trip on this machine.

    Returns nothing when the server is not on loopback or no redis-benchmark is at hand.
    """
    host = urlsplit(url).hostname or ""
    binary = _binary()
    if binary is None or not host.startswith(_LOOPBACK):
        return []
    args = ["-u", url, "-n", str(requests), "-c", "1", "-d", str(value_bytes), "--csv"]
    args += ["-t", "ping_mbulk,set,get,lrange_100"]
    env = dict(os.environ)
    done = _run(binary, args, env)
    if done.returncode != 0 and "libssl" in done.stderr + done.stdout:
        with contextlib.suppress(Exception):
            from redis_openai_agents.embedded import ensure_libssl

            libdir = str(ensure_libssl())
            env["LD_LIBRARY_PATH"] = os.pathsep.join(
                p for p in (libdir, env.get("LD_LIBRARY_PATH")) if p
            )
            done = _run(binary, args, env)
    if done.returncode != 0:
        return []
    out = []
    for row in csv.DictReader(io.StringIO(done.stdout)):
        if "needed to benchmark" in row.get("test", ""):
            continue
        with contextlib.suppress(KeyError, ValueError):
            out.append(
                Baseline(
                    row["test"],
                    float(row["rps"]),
                    float(row["p50_latency_ms"]),
                    float(row["p99_latency_ms"]),
                )
            )
    return out
