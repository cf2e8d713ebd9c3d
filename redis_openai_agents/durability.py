"""Replica acknowledgements: a write and its `WAIT` in one round trip.

Replication is asynchronous: a write the master acknowledged can be lost in a failover.
`wait_replicas` makes a write return only once that many replicas have it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, cast

import redis.asyncio as aioredis
import redis.asyncio.cluster as aiocluster
import redis.exceptions as redis_errors

from . import sentinel
from .errors import ReplicationTimeoutError

if TYPE_CHECKING:
    from .scripts import LuaScript

DEFAULT_WAIT_TIMEOUT = 1.0
"""Seconds a write waits for `wait_replicas` replicas to acknowledge it."""


def validate_durability(wait_replicas: object, wait_timeout: object) -> tuple[int, float]:
    """`wait_replicas` as a count and `wait_timeout` in seconds, or a ValueError."""
    if not isinstance(wait_replicas, int) or isinstance(wait_replicas, bool) or wait_replicas < 0:
        raise ValueError(f"wait_replicas must be a non-negative integer, got {wait_replicas!r}")
    if (
        not isinstance(wait_timeout, (int, float))
        or isinstance(wait_timeout, bool)
        or not math.isfinite(wait_timeout)
        or wait_timeout <= 0
    ):
        raise ValueError(f"wait_timeout must be a positive number of seconds, got {wait_timeout!r}")
    return wait_replicas, float(wait_timeout)


async def send_and_wait(
    client: aioredis.Redis | aiocluster.RedisCluster,
    script: LuaScript,
    keys: list[str],
    args: list[Any],
    replicas: int,
    timeout: float,
    url: str,
) -> Any:
    """Run `script`, then `WAIT replicas timeout`, pipelined; the script's reply.

    Raises:
        ReplicationTimeoutError: Fewer replicas acknowledged in time.
        redis.exceptions.ConnectionError: A failover moved the master meanwhile; sent again
            (under the same write id), the write reaches the new one.
    """
    wait_ms = max(1, math.ceil(timeout * 1000))
    if isinstance(client, aiocluster.RedisCluster):
        # WAIT names no key, so a cluster pipeline cannot route it beside the script: it
        # goes to the master of the script's slot straight after it.
        result = await script(cast(aioredis.Redis, client), keys, args)
        master = client.get_node_from_key(keys[0])
        acknowledged = await client.execute_command("WAIT", replicas, wait_ms, target_nodes=master)
        if int(acknowledged) < replicas:
            raise ReplicationTimeoutError(url, int(acknowledged), replicas, timeout)
        return result
    for full_source in (False, True):
        pipe = client.pipeline(transaction=False)
        if full_source:
            pipe.eval(script.source, len(keys), *keys, *args)
        else:
            pipe.evalsha(script.sha, len(keys), *keys, *args)
        pipe.execute_command("WAIT", replicas, wait_ms)
        result, acknowledged = await pipe.execute(raise_on_error=False)
        if isinstance(result, redis_errors.NoScriptError) and not full_source:
            continue
        for reply in (result, acknowledged):
            if isinstance(reply, Exception):
                raise reply
        if int(acknowledged) < replicas:
            if await sentinel.master_moved(client.connection_pool):
                raise redis_errors.ConnectionError("the master changed in a failover")
            raise ReplicationTimeoutError(url, int(acknowledged), replicas, timeout)
        return result
    raise AssertionError("unreachable")  # pragma: no cover
