"""Faster asyncio connections for the clients this package opens: same bytes, same errors.

redis-py's asyncio connections spend more of a command's client time than they need to,
in two places this module changes:

- **Packing.** redis-py packs commands with hiredis on its synchronous connections, but in
  Python on its asyncio ones. Appending a Runner turn sends some fifty arguments, and
  packing them in Python costs the client more than everything else it does for the append
  (68 µs against 12 µs with hiredis, measured on a 2-core machine). Even redis-py's hiredis
  serializer first passes over every argument in Python: for a command named by one word
  the arguments go to hiredis directly (39 µs in Python, 31 µs through the serializer,
  11 to 15 µs here, for an append's arguments).
- **The send's timeout.** redis-py bounds every send by `socket_timeout` with
  `asyncio.wait_for`, which on Python 3.10 and 3.11 runs the send as a task of its own: a
  task and two more turns of the event loop per command, about 30 µs of a 150 to 200 µs
  `PING` there. The send runs here in the caller's task under `asyncio.timeout`,
  with the same bound; Python 3.12's `wait_for` already works that way.

Only clients this package creates are changed (from a URL, and the twins it makes of a
caller's client for another event loop); a client passed in is used as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, TypeVar

import redis.asyncio as aioredis
import redis.asyncio.cluster as aiocluster
from redis.connection import HiredisRespSerializer
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.utils import HIREDIS_AVAILABLE

if sys.version_info >= (3, 11):
    from asyncio import timeout as bounded_by
else:  # redis-py depends on async-timeout there
    from async_timeout import timeout as bounded_by

Client = TypeVar("Client")

if HIREDIS_AVAILABLE:
    import hiredis

_SERIALIZER = HiredisRespSerializer() if HIREDIS_AVAILABLE else None

WAIT_FOR_RUNS_A_TASK = sys.version_info < (3, 12)
"""Whether `asyncio.wait_for` runs what it bounds as a new task (before Python 3.12)."""


class HiredisPacking:
    """A connection mixin: `pack_command` by hiredis when the encoding is hiredis's own.

    hiredis writes `str` as strict UTF-8 and numbers as redis-py does; a connection set to
    another encoding keeps redis-py's packer, and so does any argument hiredis refuses, so
    errors are redis-py's `DataError` either way.
    """

    encoder: Any

    def pack_command(self, *args: Any) -> list[bytes]:
        encoder = self.encoder
        if (
            _SERIALIZER is not None
            and encoder.encoding == "utf-8"
            and encoder.encoding_errors == "strict"
        ):
            name = args[0]
            if type(name) is str and _is_one_word(name):
                # What redis-py's serializer ends with, without its pass over every
                # argument (half of its time for an append's fifty); it handles the rest.
                with contextlib.suppress(TypeError):
                    return [hiredis.pack_command(args)]
            packed_by_hiredis: list[bytes] = _SERIALIZER.pack(*args)
            return packed_by_hiredis
        packed: list[bytes] = super().pack_command(*args)  # type: ignore[misc]
        return packed


@lru_cache(maxsize=1024)
def _is_one_word(name: str) -> bool:
    """Whether redis-py's serializer sends the command name `name` as it is, unsplit."""
    encoded = name.encode()
    return encoded.split() == [encoded]


class SendInCallersTask:
    """A connection mixin: a send bounded by `socket_timeout` without a task of its own.

    redis-py's send (connecting and the health check included) runs as it is, with the
    connection's `socket_timeout` lifted for its duration and the same bound put around
    it instead. A send that overruns it closes the connection and raises redis-py's
    `TimeoutError("Timeout writing to socket")`, as redis-py's own would; a cancel stays a
    cancel. A timeout the server's maintenance notices set meanwhile is kept.
    `fast_connection_class` adds it only where `asyncio.wait_for` makes a task.
    """

    socket_timeout: float | None

    async def send_packed_command(
        self, command: bytes | str | Iterable[bytes], check_health: bool = True
    ) -> None:
        bound = self.socket_timeout
        send = super().send_packed_command  # type: ignore[misc]
        if not bound:
            await send(command, check_health)
            return
        self.socket_timeout = None
        try:
            async with bounded_by(bound):
                await send(command, check_health)
        except asyncio.TimeoutError:
            raise RedisTimeoutError("Timeout writing to socket") from None
        finally:
            if self.socket_timeout is None:
                self.socket_timeout = bound


_fast_classes: dict[type[Any], type[Any]] = {}


def fast_connection_class(connection_class: type[Any]) -> type[Any]:
    """`connection_class` with this module's mixins; the class itself when it has them."""
    mixins = tuple(
        mixin
        for mixin, wanted in (
            (HiredisPacking, _SERIALIZER is not None),
            (SendInCallersTask, WAIT_FOR_RUNS_A_TASK),
        )
        if wanted and not issubclass(connection_class, mixin)
    )
    if not mixins:
        return connection_class
    fast = _fast_classes.get(connection_class)
    if fast is None:
        fast = type(connection_class.__name__, (*mixins, connection_class), {})
        _fast_classes[connection_class] = fast
    return fast


def use_fast_connections(client: Client) -> Client:
    """Make the connections `client` opens from now on the fast ones; returns it.

    For a cluster client this covers the nodes it discovers (every node but the startup
    ones, which serve only the first topology read).
    """
    if isinstance(client, aiocluster.RedisCluster):
        kwargs = client.get_connection_kwargs()
        base = kwargs.get("connection_class") or aioredis.Connection
        kwargs["connection_class"] = fast_connection_class(base)
    elif isinstance(client, aioredis.Redis):
        pool = client.connection_pool
        pool.connection_class = fast_connection_class(pool.connection_class)
    return client
