"""What both session types share: validation, the connection, closing, sync bridging."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Coroutine, Generator
from datetime import timedelta
from types import TracebackType
from typing import Any, TypeVar

import redis.asyncio as aioredis
from agents.memory import SessionSettings
from agents.memory.session_settings import coerce_session_settings, resolve_session_limit

from ._bridge import run_sync
from .connection import RedisClient, RedisConnection
from .durability import DEFAULT_WAIT_TIMEOUT
from .errors import InvalidTTLError, RedisUnavailableError
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


def settings_of(value: object) -> SessionSettings:
    """The SDK backends' rule: None is `SessionSettings()`, a dict is read as one.

    Unknown fields and other types raise `TypeError` here, at construction, rather than at
    the first read.
    """
    if value is None:
        return SessionSettings()
    return coerce_session_settings(value)  # type: ignore[arg-type]


class Closing:
    """What `close()` returns: the close, done or under way, which may be awaited.

    Called from synchronous code, `close()` has finished when it returns and awaiting the
    result (nothing will) does nothing. Called while an event loop runs in this thread, it
    has started the close as a task of that loop: `await session.close()` (the SDK's
    `RedisSession` form) waits for it, and without `await` it completes as soon as the
    loop gets control.
    """

    __slots__ = ("_task",)

    def __init__(self, task: asyncio.Future[None] | None) -> None:
        self._task = task

    def done(self) -> bool:
        """Whether the close has finished."""
        return self._task is None or self._task.done()

    def __await__(self) -> Generator[Any, None, None]:
        if self._task is not None:
            yield from self._task.__await__()

    def __repr__(self) -> str:
        return f"<session close: {'done' if self.done() else 'pending'}>"

    def _ipython_display_(self) -> None:
        """Show nothing in Jupyter, where `session.close()` often ends a cell."""


class RedisBackedSession:
    """Connection handling shared by AgentSession and JSONSession."""

    session_settings: SessionSettings
    """The SDK's session settings; its `limit` applies when `get_items` gets none."""

    def __init__(
        self,
        *,
        redis_url: str | None,
        redis_client: RedisClient | None,
        ttl: TTL | None,
        prefix: str,
        session_settings: SessionSettings | dict[str, Any] | None,
        retry_timeout: float = DEFAULT_RETRY_TIMEOUT,
        wait_replicas: int = 0,
        wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
    ) -> None:
        self._ttl_ms = validate_ttl(ttl)
        self.prefix = validate_prefix(prefix if prefix is not None else DEFAULT_PREFIX)
        """First part of every key this session writes."""
        self.session_settings = settings_of(session_settings)
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
        if limit is not None:
            return validate_limit(limit)
        settings = self.session_settings
        if isinstance(settings, SessionSettings):  # what the SDK's resolver would read
            return validate_limit(settings.limit)
        return validate_limit(resolve_session_limit(limit, settings))

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

    def close(self) -> Closing:
        """Release this session's connections; works with and without `await`.

        In synchronous code (a script, a `with` block) it blocks until done, as
        [`aclose`][redis_openai_agents.AgentSession.aclose] would. In async code
        `await session.close()` works as with the SDK's `RedisSession`; there the close
        runs as a task of the running loop, so a `close()` without `await` finishes as
        soon as the loop gets control.

        Returns:
            The close, already done in synchronous code; awaiting it waits for it.
        """
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._sync(self.aclose())
            return Closing(None)
        return Closing(asyncio.ensure_future(self.aclose()))

    async def ping(self) -> bool:
        """Whether the server answers, as the SDK's `RedisSession.ping()` reports it.

        Returns:
            True when Redis replied to `PING`; False when it could not be reached.
        """
        try:
            async with self._connection.errors():
                return bool(await self._client().ping())
        except RedisUnavailableError:
            return False

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
        self._sync(self.aclose())
