"""Run the async core from synchronous code, with or without a running event loop.

Synchronous calls are executed on one private event loop in a daemon thread. This works
from plain scripts and from inside a running loop (a Jupyter cell) alike, where
`asyncio.run` and nested loops would fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Awaitable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_owner_pid: int | None = None


def _bridge_loop() -> asyncio.AbstractEventLoop:
    global _loop, _owner_pid
    with _lock:
        if _loop is None or _owner_pid != os.getpid() or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=loop.run_forever, name="redis-openai-agents-sync", daemon=True
            )
            thread.start()
            _loop, _owner_pid = loop, os.getpid()
        return _loop


def is_bridge_thread() -> bool:
    loop = _loop
    if loop is None:
        return False
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to completion on the bridge loop and return its result."""
    if is_bridge_thread():
        coro.close()
        raise RuntimeError("synchronous session methods cannot be called from async code")
    future = asyncio.run_coroutine_threadsafe(coro, _bridge_loop())
    return future.result()


async def shielded(coro: Awaitable[T]) -> T:
    """Let a write finish even when the caller is cancelled, then re-raise the cancel.

    A write is one atomic command; waiting for its outcome keeps the connection healthy
    and tells the caller the truth: either all of the batch was stored or none of it.
    The write runs as a task of its own that hands its outcome to a future the caller
    waits on: cancelling the caller cancels only that future, and the caller wakes one
    event-loop step sooner than by waiting on the task.
    """
    loop = asyncio.get_running_loop()
    outcome: asyncio.Future[T] = loop.create_future()

    async def run() -> None:
        try:
            result = await coro
        except BaseException as exc:
            if not outcome.done():
                outcome.set_exception(exc)
            if not isinstance(exc, (Exception, asyncio.CancelledError)):
                raise
        else:
            if not outcome.done():
                outcome.set_result(result)

    task = loop.create_task(run())
    try:
        return await outcome
    except asyncio.CancelledError:
        if not outcome.cancelled():
            raise  # the write itself was cancelled, or finished as the caller was
        while not task.done():  # the caller was cancelled: let the write finish first
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait({task})
        raise
