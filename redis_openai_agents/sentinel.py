"""Sentinel-managed clients: asyncio twins that follow the current master, and its name."""

from __future__ import annotations

import inspect
from typing import Any

import redis
import redis.asyncio as aioredis
import redis.asyncio.connection as aio_connection
import redis.asyncio.retry as aio_retry
import redis.asyncio.sentinel as aio_sentinel
import redis.retry
import redis.sentinel

SentinelPool = redis.sentinel.SentinelConnectionPool | aio_sentinel.SentinelConnectionPool


def async_kwargs(kwargs: dict[str, Any], connection_class: type[Any]) -> dict[str, Any]:
    """The connection settings an asyncio connection class accepts, `retry` made async."""
    accepted: set[str] = set()
    for klass in connection_class.__mro__:
        if "__init__" in vars(klass):
            accepted |= set(inspect.signature(vars(klass)["__init__"]).parameters)
    kept = {k: v for k, v in kwargs.items() if k in accepted and k != "connection_pool"}
    retry = kept.get("retry")
    if isinstance(retry, redis.retry.Retry):
        kept["retry"] = aio_retry.Retry(
            retry._backoff,
            retry._retries,
            tuple(retry._supported_errors),  # type: ignore[arg-type]
        )
    return kept


def is_sentinel_pool(pool: object) -> bool:
    return isinstance(
        pool, (redis.sentinel.SentinelConnectionPool, aio_sentinel.SentinelConnectionPool)
    )


def sentinel_twin(pool: SentinelPool) -> aioredis.Redis:
    """An asyncio client asking the same sentinels for the same service's master."""
    manager = pool.sentinel_manager
    addresses = [
        (s.connection_pool.connection_kwargs["host"], s.connection_pool.connection_kwargs["port"])
        for s in manager.sentinels
    ]
    base: type[Any] = aio_connection.Connection
    twin_manager = aio_sentinel.Sentinel(  # type: ignore[no-untyped-call]
        addresses,
        min_other_sentinels=manager.min_other_sentinels,
        sentinel_kwargs=async_kwargs(dict(manager.sentinel_kwargs), base),
        **async_kwargs(dict(pool.connection_kwargs), aio_sentinel.SentinelManagedConnection),
    )
    if pool.is_master:
        twin: aioredis.Redis = twin_manager.master_for(pool.service_name)
    else:
        twin = twin_manager.slave_for(pool.service_name)
    return twin


def master_address(pools: list[Any]) -> tuple[str, int] | None:
    """The master a Sentinel pool last connected to, from the first pool that knows it."""
    for pool in pools:
        known = getattr(pool, "master_address", None) or getattr(
            getattr(pool, "proxy", None), "master_address", None
        )
        if known:
            return str(known[0]), int(known[1])
    return None


async def master_moved(pool: object) -> bool:
    """Whether the sentinels now name another master than the one `pool` connects to.

    When it moved, the pool drops its idle connections, so the next attempt reaches the
    new master.
    """
    if not isinstance(pool, aio_sentinel.SentinelConnectionPool):
        return False
    before = pool.master_address
    try:
        after = await pool.get_master_address()  # type: ignore[no-untyped-call]
    except redis.RedisError:
        return False
    return before is not None and tuple(after) != tuple(before)


def describe(pool: SentinelPool, address: tuple[str, int] | None) -> str:
    db = pool.connection_kwargs.get("db", 0)
    if address is not None:
        return f"redis://{address[0]}:{address[1]}/{db}"
    return f"redis+sentinel://{pool.service_name}/{db}"
