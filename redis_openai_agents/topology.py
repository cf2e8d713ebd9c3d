"""Redis Cluster for the connection layer: detect it, build clients for it, reach every master.

Sessions never ask which topology they run on. A URL is probed once per process (`INFO
cluster`) and answered with a `redis.asyncio.cluster.RedisCluster` when the server is a
cluster node, so any node's URL reaches the whole cluster; redis-py then routes each
command, and each script by its first key, to the master of that key's slot and follows
MOVED, ASK and TRYAGAIN, failovers and resharding included.
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import redis
import redis.asyncio as aioredis
import redis.asyncio.cluster as aiocluster
import redis.cluster as synccluster

from .fast_connections import use_fast_connections
from .kept_connection import KeptConnectionRedis

T = TypeVar("T")

ClusterClient = synccluster.RedisCluster | aiocluster.RedisCluster
"""A redis-py Cluster client, sync or async, as a caller may pass it."""
AsyncClient = aioredis.Redis | aiocluster.RedisCluster
"""What session code sends commands through: one server or a whole cluster."""
CLUSTER_CLIENT_TYPES = (synccluster.RedisCluster, aiocluster.RedisCluster)

# redis-py rebuilds its whole topology every few MOVED replies by closing every
# connection, in-flight commands included, and then re-sends those: a script that had
# already run would run twice. With 0 it patches the moved slot instead.
_REINITIALIZE_STEPS = 0
_modes: dict[str, bool] = {}
_modes_lock = threading.Lock()
_PROBE_TIMEOUT = 5.0
# Settings a caller's cluster client carries that its async twin must carry too; the
# rest of redis-py's connection kwargs are internal plumbing of the original client.
_TWIN_SETTINGS = frozenset(
    set(inspect.signature(aiocluster.RedisCluster.__init__).parameters)
    - {"self", "host", "port", "startup_nodes", "kwargs", "event_dispatcher", "cache"}
)


class _ReadyCluster(aiocluster.RedisCluster):
    """A cluster client that learns the topology before its first command is routed.

    redis-py routes a command before it initializes the client, and many commands sent at
    once by a fresh (or just re-initialized) client then race on half-open connections
    (`'NoneType' object has no attribute 'writelines'`); initializing first avoids it.
    """

    async def execute_command(self, *args: Any, **kwargs: Any) -> Any:
        if self._initialize:
            await self.initialize()
        return await super().execute_command(*args, **kwargs)


def is_cluster_url(url: str) -> bool:
    """Whether the server at `url` runs in cluster mode, asked once per URL and process.

    A server that cannot be reached is taken for a single node and asked again next
    time, so the command that follows reports the real connection error.
    """
    with _modes_lock:
        known = _modes.get(url)
    if known is not None:
        return known
    try:
        with redis.Redis.from_url(
            url, socket_connect_timeout=_PROBE_TIMEOUT, socket_timeout=_PROBE_TIMEOUT
        ) as probe:
            enabled = bool(probe.info("cluster").get("cluster_enabled"))
    except redis.RedisError:
        return False
    with _modes_lock:
        _modes[url] = enabled
    return enabled


def connect(url: str, *, health_check_interval: float) -> AsyncClient:
    """An asyncio client for `url`: a cluster client when the node is part of a cluster.

    A single node's client does not retry by itself: retries are the connection layer's
    job, and redis-py's own would re-send on top of them. A cluster client keeps its
    retries, which follow MOVED and failovers; write ids make their re-sends safe.
    """
    client: AsyncClient
    if is_cluster_url(url):
        client = _ReadyCluster.from_url(
            url,
            reinitialize_steps=_REINITIALIZE_STEPS,
            health_check_interval=health_check_interval,
        )
    else:
        client = KeptConnectionRedis.from_url(
            url, retry=None, health_check_interval=health_check_interval
        )
    return use_fast_connections(client)


def is_cluster_client(client: object) -> bool:
    return isinstance(client, CLUSTER_CLIENT_TYPES)


def async_cluster_twin(client: ClusterClient) -> aiocluster.RedisCluster:
    """An asyncio cluster client with the same nodes and settings as a caller's client.

    redis.asyncio clients belong to the event loop they connect on, and a synchronous
    client cannot be awaited at all, so sessions talk through this twin instead.
    """
    settings: dict[str, Any] = dict(client.get_connection_kwargs())
    nodes = [aiocluster.ClusterNode(node.host, node.port) for node in client.get_nodes()]
    if not nodes:
        nodes = [aiocluster.ClusterNode(node.host, node.port) for node in _startup_nodes(client)]
    kept = {k: v for k, v in settings.items() if k in _TWIN_SETTINGS}
    kept["reinitialize_steps"] = _REINITIALIZE_STEPS
    return _ReadyCluster(startup_nodes=nodes, **kept)


def _startup_nodes(client: ClusterClient) -> list[Any]:
    return list(client.nodes_manager.startup_nodes.values())


async def close_twin(client: AsyncClient) -> None:
    """Close a client this package made, with its connections."""
    if isinstance(client, aiocluster.RedisCluster):
        await client.aclose()
    else:
        await client.aclose(close_connection_pool=True)


def abandon(clients: object) -> None:
    """Let go of cluster clients whose event loop has closed, without warnings.

    They can no longer be closed (closing needs their loop); redis-py would report each
    as unclosed, on whatever loop runs when it is collected. Dropping their streams leaves
    the sockets to be closed when collected, as for single-node clients.
    """
    for client in clients.values() if isinstance(clients, dict) else [clients]:
        if not isinstance(client, aiocluster.RedisCluster):
            continue
        client._initialize = True
        manager = client.nodes_manager
        nodes = [
            *client.startup_nodes,
            *manager.startup_nodes.values(),
            *manager.nodes_cache.values(),
        ]
        for node in nodes:
            for connection in node._connections:
                connection._reader = connection._writer = None


def redirect_reason(exc: Exception) -> str:
    """What to tell a caller whose single-node client met a cluster redirect."""
    kind = "ASK" if type(exc).__name__ == "AskError" else "MOVED"
    return (
        f"{kind} {exc}: this server is a Redis Cluster node and the key lives on another "
        "one; pass the node's URL as redis_url, or a redis.cluster.RedisCluster client"
    )


def describe(client: ClusterClient) -> str:
    """A URL-like name for logs and errors: one node of the cluster and the word cluster."""
    nodes = client.get_nodes() or _startup_nodes(client)
    if not nodes:
        return "redis-cluster://"
    first = nodes[0]
    secure = bool(client.get_connection_kwargs().get("ssl"))
    return f"{'rediss' if secure else 'redis'}://{first.host}:{first.port} (cluster)"


async def on_every_master(
    client: AsyncClient, action: Callable[[aioredis.Redis], Awaitable[T]]
) -> list[T]:
    """Run `action` once per master with a plain client to that master alone.

    For what the Query Engine of Redis Stack keeps per shard (it has no cross-shard
    coordinator): its index and its queries. On a single server it runs once. The master
    set is read afresh on every call, so masters added to the cluster are included.
    """
    async with master_shards(client) as shards:
        return [await action(shard.client) for shard in shards]


@dataclass(frozen=True)
class MasterShard:
    """One master of a cluster (or the one server), with the hash slots it serves."""

    client: aioredis.Redis
    slots: frozenset[int] | None
    """The slots this master serves; None on a single server, which serves them all."""

    def serves(self, slot: int) -> bool:
        return self.slots is None or slot in self.slots


@asynccontextmanager
async def master_shards(
    client: AsyncClient, *, refresh: bool = True
) -> AsyncIterator[list[MasterShard]]:
    """Every master, with a plain client to it alone and the slots it serves.

    `refresh` reads the topology afresh (one `CLUSTER SLOTS`), for what must reach masters
    added since; without it, the client's own view is used, which redis-py keeps up to
    date as commands meet MOVED. On a single server the shard is the caller's own client.
    A cluster's per-master clients share the caller's connection settings and are closed
    on exit.
    """
    if not isinstance(client, aiocluster.RedisCluster):
        yield [MasterShard(client, None)]
        return
    await client.initialize()
    if refresh:
        await client.nodes_manager.initialize()
    owned: dict[str, set[int]] = {}
    for slot, nodes in client.nodes_manager.slots_cache.items():
        if nodes:
            owned.setdefault(nodes[0].name, set()).add(slot)
    settings: dict[str, Any] = client.get_connection_kwargs()
    kept = {k: v for k, v in settings.items() if k in _NODE_SETTINGS}
    shards = [
        MasterShard(
            aioredis.Redis(host=node.host, port=int(node.port), **kept),
            frozenset(owned.get(node.name, ())),
        )
        for node in client.get_primaries()
    ]
    try:
        yield shards
    finally:
        for shard in shards:
            await shard.client.aclose()


_NODE_SETTINGS = frozenset(
    set(inspect.signature(aioredis.Redis.__init__).parameters)
    - {"self", "host", "port", "connection_pool", "single_connection_client", "event_dispatcher"}
)
