"""Bounded retries with backoff for calls that lost their connection or timed out.

Safe because every write carries a write id (see `write_ids`): a retried write is
applied once. The bound counts from the first failure, so a call that waited out a
socket timeout still gets its retries, and only a server that stays unreachable for
`retry_timeout` seconds makes the call fail.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

import redis.exceptions as redis_errors

from .errors import RedisOpenAIAgentsError

T = TypeVar("T")

DEFAULT_RETRY_TIMEOUT = 5.0
"""Seconds a server may stay unreachable before a call raises `RedisUnavailableError`."""
_FIRST_DELAY = 0.025
_MAX_DELAY = 1.0


class Unreachable(Exception):
    """Every attempt failed within the bound; `__cause__` is the last failure."""

    def __init__(self, last: BaseException, reply_lost: bool, bound: float) -> None:
        super().__init__(str(last) or type(last).__name__)
        self.last = last
        self.bound = bound
        """How long the retries went on, in seconds."""
        self.reply_lost = reply_lost
        """True when a request may have reached the server without its reply coming back."""


def validate_retry_timeout(value: object) -> float:
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"retry_timeout must be a non-negative number of seconds, got {value!r}")
    return float(value)


def is_transient(exc: BaseException) -> bool:
    """A failure a later attempt can get past: lost or refused connections, timeouts,
    a server still loading its data, a master demoted to replica in a failover."""
    if isinstance(
        exc,
        (
            redis_errors.AuthenticationError,
            redis_errors.AuthorizationError,
            RedisOpenAIAgentsError,
        ),
    ):
        return False
    return isinstance(
        exc,
        (
            redis_errors.ConnectionError,
            redis_errors.TimeoutError,
            redis_errors.ReadOnlyError,
            ConnectionError,
            TimeoutError,
        ),
    ) or (isinstance(exc, redis_errors.ResponseError) and str(exc).startswith("MASTERDOWN"))


def _not_connected(exc: BaseException) -> bool:
    """A failure to open a connection at all (refused, unknown host, connect timeout)."""
    text = str(exc)
    return isinstance(exc, (redis_errors.ConnectionError, redis_errors.TimeoutError)) and (
        "connecting to" in text or "Connection refused" in text
    )


def _reply_lost(exc: BaseException) -> bool:
    """Whether the request may have been sent and applied without an answer."""
    if _not_connected(exc):
        return False
    return not isinstance(exc, (redis_errors.ReadOnlyError, redis_errors.BusyLoadingError))


async def with_retries(
    attempt: Callable[[], Awaitable[T]],
    retry_timeout: float,
    on_failure: Callable[[BaseException], Awaitable[None]] | None = None,
    *,
    connecting_fails_at_once: bool = False,
) -> T:
    """Run `attempt` until it succeeds, a non-transient error, or the bound runs out.

    With `connecting_fails_at_once`, a connection that cannot even be opened ends the
    call at once: for a server never reached, that is most likely a wrong URL.

    Raises:
        Unreachable: The server stayed unreachable for `retry_timeout` seconds.
    """
    deadline: float | None = None
    delay = 0.0
    reply_lost = False
    while True:
        try:
            return await attempt()
        except Exception as exc:
            if not is_transient(exc):
                raise
            reply_lost = reply_lost or _reply_lost(exc)
            if connecting_fails_at_once and deadline is None and _not_connected(exc):
                raise Unreachable(exc, reply_lost, 0.0) from exc
            now = asyncio.get_running_loop().time()
            if deadline is None:
                deadline = now + retry_timeout
            if now >= deadline:
                raise Unreachable(exc, reply_lost, retry_timeout) from exc
            if on_failure is not None:
                await on_failure(exc)
            wait = min(delay * (0.5 + random.random()), max(deadline - now, 0.0))
            if wait > 0:
                await asyncio.sleep(wait)
            delay = min(max(delay * 2, _FIRST_DELAY), _MAX_DELAY)
