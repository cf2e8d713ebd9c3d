"""Writing conversations into AgentSession, and reading a user's conversations out.

An import compares what each conversation already holds with the source before writing:
the target id is the source's own id (so `AgentSession(session_id, user_id=...)` finds
the conversation the SDK session named), items already there are not written again, and
a conversation stopped half-way is continued where it stopped. Each batch of items is one
atomic append, so an interrupted import leaves whole batches, never part of one.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from pathlib import Path
from typing import IO, Any, cast

from .. import items as item_codec
from .._base import TTL
from .._bridge import run_sync
from ..agent_session import AgentSession
from ..connection import RedisClient
from ..errors import InvalidIdentifierError, TransferSourceError
from ..keys import DEFAULT_PREFIX
from .conversation import Conversation, TransferReport
from .jsonl import encode_line, metadata_of

Source = Iterable[Conversation] | AsyncIterable[Conversation]
"""Conversations from any reader of this package, or your own."""
Progress = Callable[[int], object]
"""Called with the number of items just handled (written or found already stored)."""

BATCH_ITEMS = 500
"""Items per atomic append: large enough to be fast, small enough to resume often."""
_PAGE = 500


async def _each(source: Source) -> AsyncIterator[Conversation]:
    if isinstance(source, AsyncIterable):
        async for conversation in source:
            yield conversation
    else:
        for conversation in source:
            yield conversation


async def aimport_conversations(
    source: Source,
    *,
    user_id: str | None = None,
    redis_url: str | None = None,
    redis_client: RedisClient | None = None,
    prefix: str = DEFAULT_PREFIX,
    ttl: TTL | None = None,
    progress: Progress | None = None,
) -> TransferReport:
    """Write conversations into AgentSession; running it again writes nothing twice.

    Args:
        source: Conversations, e.g. from
            [`read_sqlite`][redis_openai_agents.transfer.read_sqlite] or
            [`read_jsonl`][redis_openai_agents.transfer.read_jsonl].
        user_id: The owner of every imported conversation; needed for sources without
            users, and overrides the `user_id` of exported ones (to move a user's data
            to another id).
        redis_url: The target server, as for `AgentSession`.
        redis_client: A client to use instead of a URL.
        prefix: The target key prefix.
        ttl: Sliding expiry for the imported conversations; None for none.
        progress: Called as items are handled, for progress bars.

    Returns:
        Counts per outcome; conversations whose stored items differ from the source's are
            left as they are and listed in `conflicts`.

    Raises:
        TransferSourceError: A conversation has no user and `user_id` was not given.
    """
    report = TransferReport()
    holder = AgentSession(
        "_", user_id="_", redis_url=redis_url, redis_client=redis_client, prefix=prefix
    )
    try:
        async for conversation in _each(source):
            report.conversations += 1
            owner = user_id if user_id is not None else conversation.user_id
            if owner is None:
                raise TransferSourceError(
                    f"conversation {conversation.conversation_id!r} has no user; pass user_id="
                )
            try:
                session = AgentSession(
                    conversation.conversation_id,
                    user_id=owner,
                    redis_url=redis_url,
                    redis_client=redis_client,
                    prefix=prefix,
                    ttl=ttl,
                )
            except InvalidIdentifierError as exc:
                report.skipped.append((conversation.conversation_id, str(exc)))
                continue
            try:
                await _import_one(session, conversation, report, progress)
            finally:
                session._connection.release()
    finally:
        await holder.aclose()
    return report


async def _import_one(
    session: AgentSession,
    conversation: Conversation,
    report: TransferReport,
    progress: Progress | None,
) -> None:
    items = conversation.items
    async with session._connection.errors():
        owner, count = await session._client().hmget(session._keys.meta, ["user_id", "count"])
    start = 0
    if owner is not None and int(count or 0):
        stored = await session.get_items()
        given = [item_codec.canonical(item) for item in items[: len(stored)]]
        if len(stored) > len(items) or given != [item_codec.canonical(s) for s in stored]:
            report.conflicts.append(conversation.conversation_id)
            return
        start = len(stored)
    if owner is not None and start == len(items):
        report.unchanged += 1
        if progress and items:
            progress(len(items))
        return
    if progress and start:
        progress(start)
    remaining = items[start:]
    if not remaining:
        await session._append([], agent=conversation.current_agent)
    for offset in range(0, len(remaining), BATCH_ITEMS):
        batch = remaining[offset : offset + BATCH_ITEMS]
        last = offset + BATCH_ITEMS >= len(remaining)
        await session._append(batch, agent=conversation.current_agent if last else None)
        report.items_written += len(batch)
        if progress:
            progress(len(batch))
    if start:
        report.resumed += 1
    else:
        report.created += 1


def import_conversations(
    source: Source,
    *,
    user_id: str | None = None,
    redis_url: str | None = None,
    redis_client: RedisClient | None = None,
    prefix: str = DEFAULT_PREFIX,
    ttl: TTL | None = None,
    progress: Progress | None = None,
) -> TransferReport:
    """Blocking version of
    [`aimport_conversations`][redis_openai_agents.transfer.aimport_conversations]."""
    return run_sync(
        aimport_conversations(
            source,
            user_id=user_id,
            redis_url=redis_url,
            redis_client=redis_client,
            prefix=prefix,
            ttl=ttl,
            progress=progress,
        )
    )


async def aread_user(
    user_id: str,
    *,
    redis_url: str | None = None,
    redis_client: RedisClient | None = None,
    prefix: str = DEFAULT_PREFIX,
) -> AsyncIterator[Conversation]:
    """Every conversation of a user, with its items and metadata, one at a time.

    The list of conversations is taken first, so conversations written meanwhile do not
    shift the pages; one deleted meanwhile is left out.
    """
    options: dict[str, Any] = {
        "redis_url": redis_url,
        "redis_client": redis_client,
        "prefix": prefix,
    }
    ids: list[str] = []
    while True:
        page = await AgentSession.alist_sessions(
            user_id=user_id, limit=_PAGE, offset=len(ids), **options
        )
        ids += [info.conversation_id for info in page]
        if len(page) < _PAGE:
            break
    holder = AgentSession("_", user_id=user_id, **options)
    try:
        for conversation_id in dict.fromkeys(ids):
            session = AgentSession(conversation_id, user_id=user_id, **options)
            try:
                meta = await session.aget_metadata()
                items = await session.get_items()
            finally:
                session._connection.release()
            if meta["created_at"] is None:
                continue
            yield Conversation(
                conversation_id,
                cast(list[dict[str, Any]], items),
                user_id=user_id,
                current_agent=meta["current_agent"],
                metadata=metadata_of(meta),
            )
    finally:
        await holder.aclose()


async def aexport_user(
    user_id: str,
    destination: str | Path | IO[str],
    *,
    redis_url: str | None = None,
    redis_client: RedisClient | None = None,
    prefix: str = DEFAULT_PREFIX,
    progress: Progress | None = None,
) -> int:
    """Write a user's conversations to a JSON Lines file, one conversation per line.

    A path is written to a temporary file beside it and renamed when complete, so a failed
    export never leaves a partial file under the name asked for.

    Returns:
        How many conversations were written.
    """
    conversations = aread_user(
        user_id, redis_url=redis_url, redis_client=redis_client, prefix=prefix
    )
    if not isinstance(destination, (str, Path)):
        return await _write(conversations, destination, progress)
    path = Path(destination)
    fd, temporary = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            written = await _write(conversations, file, progress)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return written


async def _write(
    conversations: AsyncIterator[Conversation], file: IO[str], progress: Progress | None
) -> int:
    written = 0
    async for conversation in conversations:
        file.write(encode_line(conversation) + "\n")
        written += 1
        if progress:
            progress(len(conversation.items))
    return written


def export_user(
    user_id: str,
    destination: str | Path | IO[str],
    *,
    redis_url: str | None = None,
    redis_client: RedisClient | None = None,
    prefix: str = DEFAULT_PREFIX,
    progress: Progress | None = None,
) -> int:
    """Blocking version of [`aexport_user`][redis_openai_agents.transfer.aexport_user]."""
    return run_sync(
        aexport_user(
            user_id,
            destination,
            redis_url=redis_url,
            redis_client=redis_client,
            prefix=prefix,
            progress=progress,
        )
    )
