"""A single-node asyncio client that runs each command on a connection it keeps, when free.

redis-py's `execute_command` takes a connection from the pool and gives it back for every
command: two asyncio lock acquisitions, a release event and pool metrics on each side,
and a retry wrapper around the send. For a `PING` that is 160 to 170 µs through the pool
against 90 to 100 µs on a connection held across commands (two shared cores). A session
sends one command per operation, so the difference is most of what the client adds to an
operation beyond its own work.

The command itself goes through redis-py: its connection packs and sends it, and the
client's `parse_response` reads the reply and applies its response callbacks, so
replies and errors are redis-py's own.
"""

from __future__ import annotations

import inspect
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.connection import Connection
from redis.exceptions import ClusterDownError, ReadOnlyError, ResponseError

try:
    from redis.observability import get_observability_instance
except ImportError:  # redis-py before 7.1 has no metrics of its own
    get_observability_instance = None  # type: ignore[assignment]

_GET_CONNECTION_NEEDS_A_NAME = (
    inspect.signature(aioredis.ConnectionPool.get_connection).parameters["command_name"].default
    is inspect.Parameter.empty
)
"""redis-py before 5.3 takes the command's name to hand out a connection."""


class KeptConnectionRedis(aioredis.Redis):
    """`redis.asyncio.Redis` that keeps one connection from its pool for its commands.

    A command runs on the kept connection while that one is free; a command sent while it
    is busy (by another task) takes a pooled connection as usual, so concurrent commands
    still run side by side. The pool's own path is taken for every command while
    redis-py's OpenTelemetry metrics are on (they count the pool's checkouts), and for a
    client whose credential provider re-authenticates connections as they are returned.

    After a failure of the connection itself (a lost or timed-out connection, a server
    turned read-only), the kept connection is closed, and the next command opens it again,
    where redis-py's pool would hand out a fresh one; a cancel closes it too, as redis-py
    does mid-command. An error reply about the command (`ResponseError`) leaves it open.
    """

    _kept: Connection | None = None
    _kept_busy = False

    @property
    def kept_connection(self) -> Connection | None:
        """The connection commands run on while it is free; None before the first."""
        return self._kept

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        if self._kept_busy or not self._may_keep():
            return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
        self._kept_busy = True
        try:
            connection = self._kept
            ensure = getattr(self.connection_pool, "ensure_connection", None)
            if connection is None:
                connection = self._kept = await self._take_connection()
            elif ensure is not None:
                # What the pool does at each checkout: open it when it was closed, and
                # open it anew when it holds unread data (where redis-py checks for that).
                await ensure(connection)
            try:
                await connection.send_command(*args)
                return await self.parse_response(connection, args[0], **options)
            except BaseException as exc:
                if not _leaves_connection_usable(exc):
                    await connection.disconnect(nowait=True)
                raise
            finally:
                # A server announcing maintenance (redis-py 7+) asks for a new connection.
                should_reconnect = getattr(connection, "should_reconnect", None)
                if should_reconnect is not None and should_reconnect():
                    await connection.disconnect()
        finally:
            self._kept_busy = False

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        kept, self._kept = self._kept, None
        if kept is not None:
            await self.connection_pool.release(kept)
        await super().aclose(close_connection_pool)

    def _may_keep(self) -> bool:
        if self.single_connection_client:
            return False
        if self.connection_pool.connection_kwargs.get("credential_provider") is not None:
            return False
        return not _pool_metrics_on()

    async def _take_connection(self) -> Connection:
        pool: Any = self.connection_pool
        taken: Connection = await (
            pool.get_connection("_") if _GET_CONNECTION_NEEDS_A_NAME else pool.get_connection()
        )
        return taken


def _leaves_connection_usable(exc: BaseException) -> bool:
    """An error reply about the command, from a server that still serves this client."""
    return isinstance(exc, ResponseError) and not isinstance(exc, (ReadOnlyError, ClusterDownError))


def _pool_metrics_on() -> bool:
    if get_observability_instance is None:
        return False
    manager = get_observability_instance().get_provider_manager()
    return manager is not None and bool(manager.config.enabled_telemetry)
