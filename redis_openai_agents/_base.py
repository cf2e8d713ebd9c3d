"""What both session types share: validation, the connection, closing, sync bridging."""

from __future__ import annotations

import math
from collections.abc import Coroutine
from datetime import timedelta
from types import TracebackType
from typing import Any, TypeVar

import redis.asyncio as aioredis
from agents.memory import SessionSettings
from agents.memory.session_settings import resolve_session_limit

from ._bridge import run_sync
from .connection import RedisClient, RedisConnection
from .durability import DEFAULT_WAIT_TIMEOUT
from .errors import InvalidTTLError
from .keys import DEFAULT_PREFIX, validate_prefix
from .retry import DEFAULT_RETRY_TIMEOUT

T = TypeVar("T")
Self = TypeVar("Self", bound="RedisBackedSession")

TTL = int | float | timedelta
"""A time to live: seconds (`int` or `float`) or a `datetime.timedelta`."""


def validate_ttl(ttl: object) -> int | None:
    """A ttl in seconds (or a timedelta) as whole milliseconds; None means no expiry."""
    if ttl is None:
        return None
    if isinstance(ttl, timedelta):
        seconds = ttl.total_seconds()
    elif isinstance(ttl, (int, float)) and not isinstance(ttl, bool):
        seconds = float(ttl)
    else:
        raise InvalidTTLError(f"ttl must be a number of seconds, got {type(ttl).__name__}")
    if not math.isfinite(seconds) or seconds <= 0:
        raise InvalidTTLError(f"ttl must be a positive number of seconds, got {ttl!r}")
    milliseconds = math.ceil(seconds * 1000)
    if milliseconds > 2**53:
        raise InvalidTTLError(f"ttl {ttl!r} is too large")
    return milliseconds


def validate_limit(limit: object) -> int | None:
    if limit is None:
        return None
    if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
        raise ValueError(f"limit must be None or a non-negative integer, got {limit!r}")
    return limit


class RedisBackedSession:
    """Connection handling shared by AgentSession and JSONSession."""

    session_settings: SessionSettings | None
    """The SDK's session settings; its `limit` applies when `get_items` gets none."""

    def __init__(
        self,
        *,
        redis_url: str | None,
        redis_client: RedisClient | None,
        ttl: TTL | None,
        prefix: str,
        session_settings: SessionSettings | None,
        retry_timeout: float = DEFAULT_RETRY_TIMEOUT,
        wait_replicas: int = 0,
        wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
    ) -> None:
        self._ttl_ms = validate_ttl(ttl)
        self.prefix = validate_prefix(prefix if prefix is not None else DEFAULT_PREFIX)
        """First part of every key this session writes."""
        self.session_settings = session_settings
        self._connection = RedisConnection(
            redis_url,
            redis_client,
            retry_timeout=retry_timeout,
            wait_replicas=wait_replicas,
            wait_timeout=wait_timeout,
        )

    @property
    def ttl(self) -> float | None:
        """The ttl in seconds this object writes with, or None to keep the stored one.

        After `load` without `ttl=` this is None, while the conversation keeps the ttl
        stored with it; `AgentSession.get_metadata()["ttl"]` reads that one.
        """
        return None if self._ttl_ms is None else self._ttl_ms / 1000

    @property
    def redis_url(self) -> str:
        """The server this session talks to, with any password masked."""
        return self._connection.display_url

    def _item_limit(self, limit: int | None) -> int | None:
        """The SDK's rule: an explicit limit, else `session_settings.limit`, else all."""
        return validate_limit(resolve_session_limit(limit, self.session_settings))

    def _client(self) -> aioredis.Redis:
        return self._connection.client()

    @staticmethod
    def _sync(coro: Coroutine[Any, Any, T]) -> T:
        return run_sync(coro)

    async def aclose(self) -> None:
        """Release this session's share of the connection pool; `async with` calls it.

        The pool closes when its last session releases it. A `redis_client` passed in
        stays open: it belongs to the caller.
        """
        await self._connection.aclose()

    def close(self) -> None:
        """Blocking version of `aclose`; a `with` block calls it on exit."""
        self._sync(self.aclose())

    async def __aenter__(self: Self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __enter__(self: Self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
