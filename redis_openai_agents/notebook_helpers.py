"""A look at what a session stored in Redis, for the guide's notebooks (tooling, not the library).

The guide's notebooks show the keys their own sessions wrote, never the rest of the
database: a reader's Redis may already hold conversations of the guide's `user_123` or a
`complex-session-1` document from earlier runs, and those are none of the notebook's
business. Every helper here therefore takes the sessions it reports on and talks to Redis
through their own connection, so it works whatever URL or client they were given, and a
notebook's first error about reaching Redis comes from the library itself.

The session classes never import this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ._base import RedisBackedSession
from .agent_session import AgentSession
from .json_session import JSONSession
from .keys import TAG_SEPARATOR

CLEANUP_DONE = "Nothing left in Redis from this notebook."
"""What `check_nothing_left` prints when the sessions it checks are gone."""

_UNITS = (("hour", 3_600_000), ("minute", 60_000), ("second", 1_000))


def ttl_words(milliseconds: int) -> str:
    """A key's PTTL as a person reads it: "about 1 hour", "about 4 seconds", "no expiry"."""
    if milliseconds < 0:
        return "no expiry" if milliseconds == -1 else "gone"
    for unit, size in _UNITS:
        count = round(milliseconds / size)
        if count:
            return f"about {count} {unit}{'s' if count > 1 else ''}"
    return "under a second"


def _natural_order(key: str) -> list[Any]:
    """Message keys by number: ...:2 before ...:10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", key)]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def _own_keys(session: RedisBackedSession) -> list[str]:
    """The keys that belong to this one conversation or document, and no other."""
    if isinstance(session, JSONSession):
        return [session.key]
    if not isinstance(session, AgentSession):
        raise TypeError(f"expected an AgentSession or a JSONSession, got {type(session).__name__}")
    keys = session._keys
    found = [
        _text(key)
        async for key in session._client().scan_iter(match=keys.message_pattern, count=1000)
    ]
    live = await session._client().hget(keys.branches, "branches")
    branches = [keys.branch_order(b) for b in _text(live or "").split(TAG_SEPARATOR) if b]
    return [keys.meta, keys.order, keys.branches, *branches, *found]


async def _describe(session: RedisBackedSession) -> list[tuple[str, str, int]]:
    """(key, type, PTTL) of each existing key of the session, in natural order."""
    client = session._client()
    async with session._connection.errors():
        keys = await _own_keys(session)
        async with client.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.type(key)
                pipe.pttl(key)
            replies = await pipe.execute()
    rows = [
        (key, _text(replies[2 * i]), int(replies[2 * i + 1]))
        for i, key in enumerate(keys)
        if _text(replies[2 * i]) != "none"
    ]
    return sorted(rows, key=lambda row: _natural_order(row[0]))


async def _listed(session: AgentSession) -> bool:
    async with session._connection.errors():
        score = await session._client().zscore(session._keys.user_index, session.conversation_id)
    return score is not None


def show_stored(session: RedisBackedSession) -> None:
    """Print the keys this session wrote, with their Redis type and time to live.

    For an `AgentSession`, also whether the conversation is in its user's list (a sorted
    set shared by all of that user's conversations, which is why it is not shown whole).
    """
    rows = session._sync(_describe(session))
    for key, kind, pttl in rows:
        print(f"{key}  [{kind}, {ttl_words(pttl)}]")
    if not rows:
        print("nothing stored for this session")
    if isinstance(session, AgentSession):
        user_list = session._keys.user_index
        listed = session._sync(_listed(session))
        print(f"{user_list}  {'lists' if listed else 'does not list'} this conversation")


def leftovers(sessions: Iterable[RedisBackedSession]) -> list[str]:
    """What is still in Redis of these sessions: their keys, and user-list entries."""
    left: list[str] = []
    for session in sessions:
        left += [key for key, _, _ in session._sync(_describe(session))]
        if isinstance(session, AgentSession) and session._sync(_listed(session)):
            left.append(f"{session._keys.user_index} -> {session.conversation_id}")
    return left


def check_nothing_left(*sessions: RedisBackedSession) -> None:
    """Fail unless every key these sessions wrote is gone; other data is not looked at."""
    left = leftovers(sessions)
    if left:
        raise AssertionError(f"still in Redis: {left}")
    print(CLEANUP_DONE)
