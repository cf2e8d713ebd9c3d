"""Commands packed by hiredis on the asyncio connections this package opens.

redis-py packs commands with hiredis on its synchronous connections, but in Python on its
asyncio ones. Appending a Runner turn sends some fifty arguments, and packing them in
Python costs the client more than everything else it does for the append (68 µs against
12 µs with hiredis, measured on a 2-core machine). The bytes on the wire are the same.

Only clients this package creates are changed (from a URL, and the twins it makes of a
caller's client for another event loop); a client passed in is used as it is.
"""

from __future__ import annotations

from typing import Any, TypeVar

import redis.asyncio as aioredis
import redis.asyncio.cluster as aiocluster
from redis.connection import HiredisRespSerializer
from redis.utils import HIREDIS_AVAILABLE

Client = TypeVar("Client")

_SERIALIZER = HiredisRespSerializer() if HIREDIS_AVAILABLE else None


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
            packed_by_hiredis: list[bytes] = _SERIALIZER.pack(*args)
            return packed_by_hiredis
        packed: list[bytes] = super().pack_command(*args)  # type: ignore[misc]
        return packed


_packed_classes: dict[type[Any], type[Any]] = {}


def hiredis_packed(connection_class: type[Any]) -> type[Any]:
    """`connection_class` with `HiredisPacking`; the class itself when it already has it."""
    if _SERIALIZER is None or issubclass(connection_class, HiredisPacking):
        return connection_class
    packed = _packed_classes.get(connection_class)
    if packed is None:
        packed = type(connection_class.__name__, (HiredisPacking, connection_class), {})
        _packed_classes[connection_class] = packed
    return packed


def pack_with_hiredis(client: Client) -> Client:
    """Make the connections `client` opens from now on pack with hiredis; returns it.

    For a cluster client this covers the nodes it discovers (every node but the startup
    ones, which serve only the first topology read).
    """
    if isinstance(client, aiocluster.RedisCluster):
        kwargs = client.get_connection_kwargs()
        base = kwargs.get("connection_class") or aioredis.Connection
        kwargs["connection_class"] = hiredis_packed(base)
    elif isinstance(client, aioredis.Redis):
        pool = client.connection_pool
        pool.connection_class = hiredis_packed(pool.connection_class)
    return client
