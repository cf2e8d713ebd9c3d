"""Connections to Redis: shared pools, retries, write ids, replica acks and clear errors.

This is the one layer that knows the topology (one server or a Sentinel-managed master),
retries calls that lost their connection, and gives every write its write id; session code
only says what to run.
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import urlsplit, urlunsplit

import redis
import redis.asyncio as aioredis
import redis.asyncio.cluster as aiocluster
import redis.asyncio.connection as aio_connection
import redis.exceptions as redis_errors

from . import durability, sentinel, topology
from ._diagnose import checked_url, credentials_hint, unavailable_reason
from .durability import DEFAULT_WAIT_TIMEOUT, validate_durability
from .errors import (
    RedisAuthenticationError,
    RedisCommandError,
    RedisModuleMissingError,
    RedisOpenAIAgentsError,
    RedisUnavailableError,
    ReplicationTimeoutError,
    WriteOutcomeUnknownError,
)
from .fast_connections import use_fast_connections
from .keys import validate_prefix
from .retry import DEFAULT_RETRY_TIMEOUT, Unreachable, validate_retry_timeout, with_retries
from .write_ids import RECORD_TTL_MS, PendingWrites, fingerprint, new_write_id

if TYPE_CHECKING:
    from .scripts import LuaScript

T = TypeVar("T")

QUERY_ENGINE = "Query Engine (RediSearch module, FT.* commands)"
"""How a missing Query Engine is named in `RedisModuleMissingError`."""

DEFAULT_REDIS_URL = "redis://localhost:6379"
"""Used when neither `redis_url` nor `redis_client` is given and `$REDIS_URL` is unset."""

RedisClient = redis.Redis | aioredis.Redis | topology.ClusterClient
"""A redis-py client to pass as `redis_client=`: `redis.Redis`, `redis.asyncio.Redis`, or
a `RedisCluster` of `redis.cluster` or `redis.asyncio.cluster`."""

_registry_lock = threading.Lock()
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, topology.AsyncClient]] = (
    weakref.WeakKeyDictionary()
)
_url_users: dict[str, int] = {}
_reached: set[str] = set()
"""Servers (by `identity`) that answered this process at least once. A call to any other
server that cannot even open a connection fails at once: most likely a wrong URL."""

HEALTH_CHECK_SECONDS = 10
"""A pooled connection idle longer than this is checked with PING before it is used."""


def resolve_url(redis_url: str | None) -> str:
    """An explicit URL wins, then `$REDIS_URL`, then a local Redis on the default port."""
    if redis_url is None:
        env = os.environ.get("REDIS_URL")
        return checked_url(env, "$REDIS_URL", mask_url(env)) if env else DEFAULT_REDIS_URL
    if not isinstance(redis_url, str) or not redis_url:
        raise ValueError("redis_url must be a non-empty string such as 'redis://localhost:6379'")
    return checked_url(redis_url, "redis_url", mask_url(redis_url))


def mask_url(url: str) -> str:
    """The URL with any password replaced, safe to show in errors and logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid Redis URL>"
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))


def _has_password(client: RedisClient | None) -> bool:
    """Whether a caller's client was given a password (a cluster client keeps it per node)."""
    if client is None:
        return False
    if isinstance(client, topology.CLUSTER_CLIENT_TYPES):
        return bool(client.get_connection_kwargs().get("password"))
    return bool(client.connection_pool.connection_kwargs.get("password"))


def _describe_client(client: RedisClient, twins: list[topology.AsyncClient]) -> str:
    if isinstance(client, topology.CLUSTER_CLIENT_TYPES):
        return topology.describe(client)
    pool = client.connection_pool
    if sentinel.is_sentinel_pool(pool):
        pools = [t.connection_pool for t in twins if isinstance(t, aioredis.Redis)]
        address = sentinel.master_address([*pools, pool])
        return sentinel.describe(pool, address)  # type: ignore[arg-type]
    kwargs = pool.connection_kwargs
    if "path" in kwargs:
        return f"unix://{kwargs['path']}"
    secure = issubclass(
        client.connection_pool.connection_class, (redis.SSLConnection, aio_connection.SSLConnection)
    )
    host, port, db = kwargs.get("host", "localhost"), kwargs.get("port", 6379), kwargs.get("db", 0)
    return f"{'rediss' if secure else 'redis'}://{host}:{port}/{db}"


def _async_twin(client: redis.Redis) -> aioredis.Redis:
    """An asyncio client for the same server and credentials as a synchronous one."""
    pool = client.connection_pool
    if sentinel.is_sentinel_pool(pool):
        return sentinel.sentinel_twin(pool)  # type: ignore[arg-type]
    sync_class = pool.connection_class
    async_class: type[aio_connection.AbstractConnection] = aio_connection.Connection
    if issubclass(sync_class, redis.UnixDomainSocketConnection):
        async_class = aio_connection.UnixDomainSocketConnection
    elif issubclass(sync_class, redis.SSLConnection):
        async_class = aio_connection.SSLConnection
    kwargs = sentinel.async_kwargs(dict(pool.connection_kwargs), async_class)
    return aioredis.Redis(
        connection_pool=aioredis.ConnectionPool(connection_class=async_class, **kwargs)
    )


class RedisConnection:
    """Where one session's commands go: a URL (pools shared per server) or a caller's client.

    redis.asyncio clients belong to the event loop they connect on, so a URL maps to one
    pool per loop. A client passed by the caller is used as it is and never closed here;
    on another loop it is reached through a twin client with the same settings (for a
    Sentinel-managed client, one that asks the same sentinels for the current master).

    Calls that lose their connection are retried until the server has stayed unreachable
    for `retry_timeout` seconds. Writes carry write ids (see `write_ids`), so a retry is
    applied once; with `wait_replicas`, each write is followed by `WAIT` in the same round
    trip.
    """

    def __init__(
        self,
        redis_url: str | None = None,
        redis_client: RedisClient | None = None,
        *,
        retry_timeout: float = DEFAULT_RETRY_TIMEOUT,
        wait_replicas: int = 0,
        wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
    ):
        if redis_client is not None and redis_url is not None:
            raise ValueError("pass either redis_url or redis_client, not both")
        if redis_client is not None and not isinstance(
            redis_client, (redis.Redis, aioredis.Redis, *topology.CLUSTER_CLIENT_TYPES)
        ):
            raise TypeError(
                "redis_client must be a redis.Redis, redis.asyncio.Redis or RedisCluster "
                "instance, "
                f"got {type(redis_client).__name__}"
            )
        self.retry_timeout = validate_retry_timeout(retry_timeout)
        """Seconds a server may stay unreachable before a call fails."""
        self.wait_replicas, self.wait_timeout = validate_durability(wait_replicas, wait_timeout)
        self.record_writes = True
        """Whether writes carry write ids (always, except to measure what they cost)."""
        self._pending = PendingWrites()
        self._external = redis_client
        self._url = None if redis_client is not None else resolve_url(redis_url)
        self._twins: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, topology.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )
        self._closed = False
        self.sort_patterns_allowed = True
        """False once the server refused SORT_RO with GET patterns (ACL, cluster)."""
        if self._url is not None:
            with _registry_lock:
                _url_users[self._url] = _url_users.get(self._url, 0) + 1

    @property
    def display_url(self) -> str:
        if self._url is not None:
            return mask_url(self._url)
        assert self._external is not None
        return _describe_client(self._external, list(self._twins.values()))

    @property
    def identity(self) -> str:
        """Stable name of the server this connection reaches, for per-server caches."""
        return self._url if self._url is not None else f"client:{id(self._external)}"

    def client(self) -> aioredis.Redis:
        """The asyncio client to use on the running event loop.

        On a cluster it is a `redis.asyncio.cluster.RedisCluster`, typed as the single-node
        client whose command methods it shares, so session code never tells them apart.
        """
        return cast(aioredis.Redis, self._topology_client())

    def _topology_client(self) -> topology.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._url is None:
            return self._external_client(loop)
        # The common case, a pool this loop already has, needs no lock: single dict reads
        # are atomic. Closed loops are forgotten whenever a new loop's pool is made.
        per_loop = _clients.get(loop)
        if per_loop is not None:
            found = per_loop.get(self._url)
            if found is not None:
                return found
        with _registry_lock:
            _forget_closed_loops(_clients)
            per_loop = _clients.setdefault(loop, {})
            client = per_loop.get(self._url)
            if client is None:
                client = topology.connect(self._url, health_check_interval=HEALTH_CHECK_SECONDS)
                per_loop[self._url] = client
            return client

    def _external_client(self, loop: asyncio.AbstractEventLoop) -> topology.AsyncClient:
        from ._bridge import is_bridge_thread

        external = self._external
        asynchronous = isinstance(external, (aioredis.Redis, aiocluster.RedisCluster))
        if asynchronous and not is_bridge_thread():
            return external  # type: ignore[return-value]
        twin = self._twins.get(loop)
        if twin is None:
            _forget_closed_loops(self._twins)
            if isinstance(external, topology.CLUSTER_CLIENT_TYPES):
                twin = topology.async_cluster_twin(external)
            elif isinstance(external, aioredis.Redis) and sentinel.is_sentinel_pool(
                external.connection_pool
            ):
                twin = sentinel.sentinel_twin(external.connection_pool)  # type: ignore[arg-type]
            elif isinstance(external, aioredis.Redis):
                twin = aioredis.Redis(
                    connection_pool=aioredis.ConnectionPool(
                        connection_class=external.connection_pool.connection_class,
                        **external.connection_pool.connection_kwargs,
                    )
                )
            else:
                assert external is not None
                twin = _async_twin(external)
            self._twins[loop] = use_fast_connections(twin)
        return twin

    async def aclose(self) -> None:
        """Release this session's share of the pools; the last user disconnects them."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        for twin_loop, twin in list(self._twins.items()):
            if twin_loop is loop:
                await topology.close_twin(twin)
            elif twin_loop.is_running():
                closing = topology.close_twin(twin)
                asyncio.run_coroutine_threadsafe(closing, twin_loop)
        self._twins.clear()
        if self._url is None:
            return
        with _registry_lock:
            remaining = _url_users.get(self._url, 1) - 1
            if remaining > 0:
                _url_users[self._url] = remaining
                return
            _url_users.pop(self._url, None)
            orphans = [
                (owner, clients.pop(self._url))
                for owner, clients in list(_clients.items())
                if self._url in clients
            ]
        for owner, client in orphans:
            if owner is loop:
                await client.aclose()
            elif owner.is_running():
                asyncio.run_coroutine_threadsafe(client.aclose(), owner)

    def release(self) -> None:
        """Stop holding a share of the shared pools, leaving them connected for reuse."""
        if self._closed or self._url is None:
            return
        self._closed = True
        with _registry_lock:
            remaining = _url_users.get(self._url, 1) - 1
            if remaining > 0:
                _url_users[self._url] = remaining
            else:
                _url_users.pop(self._url, None)

    async def call(
        self,
        operation: Callable[[aioredis.Redis], Awaitable[T]],
        capability: str | None = None,
    ) -> T:
        """Run a read (or any command safe to repeat), retrying lost connections."""
        identity = self.identity
        try:
            result = await with_retries(
                lambda: operation(self.client()),
                self.retry_timeout,
                self._recover,
                connecting_fails_at_once=identity not in _reached,
            )
        except Exception as exc:
            error = self._typed_error(exc, capability)
            if error is exc:
                raise
            raise error from error.__cause__
        _reached.add(identity)
        return result

    async def write(
        self,
        script: LuaScript,
        records: str,
        keys: list[str],
        args: list[Any],
        capability: str | None = None,
        *,
        data_ttl_ms: int | None = None,
    ) -> Any:
        """Run a writing script once, however often it has to be sent.

        `records` is the write-record hash in the slot of `keys`; its record of this write
        lasts five minutes, or `data_ttl_ms` when that is shorter, so that nothing of an
        expiring conversation outlives it. The write id is new for each call, except that
        a call repeating one whose outcome stayed unknown (same script, keys and
        arguments) reuses that call's id.
        """
        pending = self._pending
        # Only a call to the same script and keys as an unsettled one can repeat it: any
        # other call skips hashing its arguments.
        call = fingerprint(script.sha, keys, args) if pending.may_hold(script.sha, keys) else None
        write_id = pending.id_for(call) if call is not None else new_write_id()
        full_keys = [*keys, records]
        record_ms = min(RECORD_TTL_MS, data_ttl_ms) if data_ttl_ms else RECORD_TTL_MS
        full_args = [*args, write_id if self.record_writes else "", record_ms]
        identity = self.identity

        def outcome_unknown() -> None:
            """A repeat of this call (same script, keys, arguments) reuses its write id."""
            pending.unsettled(
                call or fingerprint(script.sha, keys, args), write_id, script.sha, keys
            )

        try:
            result = await with_retries(
                lambda: self._send(script, full_keys, full_args),
                self.retry_timeout,
                self._recover,
                connecting_fails_at_once=identity not in _reached,
            )
        except asyncio.CancelledError:
            if not await self._finish(script, full_keys, full_args):
                outcome_unknown()
            raise
        except Exception as exc:
            error = self._typed_error(exc, capability, writing=True)
            if isinstance(error, (WriteOutcomeUnknownError, ReplicationTimeoutError)):
                outcome_unknown()
            if error is exc:
                raise
            raise error from error.__cause__
        if call is not None:
            pending.settled(call)
        _reached.add(identity)
        return result

    async def _finish(self, script: LuaScript, keys: list[str], args: list[Any]) -> bool:
        """Settle a write whose caller was cancelled while it may have been on the wire.

        The write is sent again under its write id until a reply comes, however often the
        caller is cancelled meanwhile: it is then applied exactly once, whether or not the
        first attempt reached the server, and the cancel is raised only after that. This
        costs nothing unless a cancel comes, where running each write as a task of its own
        would cost two turns of the event loop on every write.

        Returns:
            Whether the outcome is known (False: the server stayed unreachable).
        """
        while True:
            try:
                await with_retries(
                    lambda: self._send(script, keys, args), self.retry_timeout, self._recover
                )
            except asyncio.CancelledError:
                continue
            except Exception:
                return False
            return True

    def _send(self, script: LuaScript, keys: list[str], args: list[Any]) -> Awaitable[Any]:
        client = self.client()
        if not self.wait_replicas:
            return script(client, keys, args)
        return durability.send_and_wait(
            client, script, keys, args, self.wait_replicas, self.wait_timeout, self.display_url
        )

    async def _recover(self, failure: BaseException) -> None:
        """After a lost connection, drop the pool's idle ones: they are likely dead too."""
        try:
            await self.client().connection_pool.disconnect(inuse_connections=False)
        except Exception:
            return

    @asynccontextmanager
    async def errors(
        self, capability: str | None = None, *, writing: bool = False
    ) -> AsyncIterator[None]:
        """Turn redis-py's low-level failures into this package's typed errors.

        `capability` names what the commands inside need, for scripts: Redis reports an
        unknown command called from a script without naming the module that provides it.
        """
        try:
            yield
        except Exception as exc:
            error = self._typed_error(exc, capability, writing=writing)
            if error is exc:
                raise
            raise error from error.__cause__

    def _typed_error(
        self, exc: Exception, capability: str | None = None, *, writing: bool = False
    ) -> Exception:
        """The typed error to raise for `exc`, or `exc` itself when it is to pass as it is.

        A plain function rather than the context manager on the paths every call takes:
        `call` and `write` pay for it only when something failed. The returned error's
        `__cause__` is what it is to be raised from.
        """
        error: Exception
        cause: BaseException | None = None
        if isinstance(exc, RedisOpenAIAgentsError):
            return exc
        if isinstance(exc, Unreachable):
            reason = unavailable_reason(self._url, exc.last)
            if exc.bound:
                reason = f"{reason} (unreachable for {exc.bound:g} s)"
            if writing and exc.reply_lost:
                reason = f"{reason}; a write may have been applied"
                error = WriteOutcomeUnknownError(self.display_url, reason)
            else:
                error = RedisUnavailableError(self.display_url, reason)
        elif isinstance(exc, redis_errors.AuthenticationError):
            hint = credentials_hint(self._url, _has_password(self._external))
            error = RedisAuthenticationError(self.display_url, hint)
        elif isinstance(exc, (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError)):
            error = RedisUnavailableError(self.display_url, unavailable_reason(self._url, exc))
        elif isinstance(exc, (redis_errors.MovedError, redis_errors.AskError)):
            error = RedisCommandError(self.display_url, topology.redirect_reason(exc))
            cause = exc
        elif isinstance(exc, redis_errors.ResponseError):
            missing = _missing_capability(str(exc), capability)
            if missing is not None:
                error = RedisModuleMissingError(missing, self.display_url)
            else:
                error = RedisCommandError(self.display_url, str(exc))
                cause = exc
        elif isinstance(exc, redis_errors.RedisError):
            error = RedisCommandError(self.display_url, str(exc) or type(exc).__name__)
            cause = exc
        else:
            return exc
        error.__cause__ = cause
        return error


async def call_for_prefix(
    redis_url: str | None,
    redis_client: RedisClient | None,
    prefix: object,
    operation: Callable[[aioredis.Redis, str], Awaitable[T]],
    capability: str | None = None,
) -> T:
    """Run a call about every conversation under `prefix` (creating or dropping an index)
    on a connection of its own, released afterwards; the prefix is validated first."""
    connection = RedisConnection(redis_url, redis_client)
    checked = validate_prefix(prefix)
    try:
        return await connection.call(lambda client: operation(client, checked), capability)
    finally:
        connection.release()


def _forget_closed_loops(registry: weakref.WeakKeyDictionary[Any, Any]) -> None:
    """Drop clients of loops that have closed (`asyncio.run` per call, per test).

    Their connections hold the loop, so the weak keys alone would never let go of them.
    """
    for loop in [loop for loop in registry if loop.is_closed()]:
        topology.abandon(registry.pop(loop))


def _missing_capability(message: str, capability: str | None) -> str | None:
    lowered = message.lower()
    if "unknown command" not in lowered and "unknown redis command" not in lowered:
        return None
    if "ft." in lowered:
        return QUERY_ENGINE
    if "json." in lowered:
        return "JSON data type (RedisJSON module, JSON.* commands)"
    return capability
