"""Pytest plugin: the Agents SDK's own session tests, run with our classes in its backends' place.

Loaded by `scripts/peer_suites.py` with `-p peer_shim`. `$ROA_PEER_CLASS` names the class
under test (`AgentSession` or `JSONSession`) and `$REDIS_URL` the server. The SDK's
`SQLiteSession` and `RedisSession` names are rebound before the tests import them, to
subclasses that only translate the constructors: a database path or a key prefix becomes
a key prefix of ours, so sessions the SDK would keep apart stay apart.
"""

from __future__ import annotations

import hashlib
import os
import sys
import uuid
from typing import Any

import agents
import agents.extensions.memory.encrypt_session  # keeps the real SQLiteSession for its checks
import agents.extensions.memory.redis_session as sdk_redis_session
import agents.memory
import agents.memory.sqlite_session as sdk_sqlite_session
import redis.asyncio as aioredis

from redis_openai_agents import AgentSession, JSONSession
from redis_openai_agents._base import RedisBackedSession

# The SDK's Redis suite runs on fakeredis when it can import it; ours need a real server.
sys.modules["fakeredis"] = None  # type: ignore[assignment]

_TARGETS: dict[str, type[RedisBackedSession]] = {
    "AgentSession": AgentSession,
    "JSONSession": JSONSession,
}
TARGET = _TARGETS[os.environ.get("ROA_PEER_CLASS", "AgentSession")]
URL = os.environ.get("REDIS_URL", "redis://localhost:6379")
USER = "peer-suite"


def _prefix(label: str) -> str:
    """A key prefix of ours for one SDK storage location (a db file, a key prefix)."""
    return "peer-" + hashlib.sha1(label.encode()).hexdigest()[:12]


def _construct(
    session_id: str, prefix: str, client: Any, ttl: Any, settings: Any
) -> dict[str, Any]:
    where: dict[str, Any] = {"redis_client": client} if client is not None else {"redis_url": URL}
    options: dict[str, Any] = {"ttl": ttl, "prefix": prefix, "session_settings": settings, **where}
    if TARGET is AgentSession:
        options["user_id"] = USER
    return options


class PeerSQLiteSession(TARGET):  # type: ignore[valid-type,misc]
    """`SQLiteSession(session_id, db_path=":memory:", session_settings=None)`."""

    def __init__(
        self, session_id: str, db_path: Any = ":memory:", session_settings: Any = None
    ) -> None:
        label = uuid.uuid4().hex if str(db_path) == ":memory:" else str(db_path)
        super().__init__(
            session_id, **_construct(session_id, _prefix(label), None, None, session_settings)
        )


class PeerRedisSession(TARGET):  # type: ignore[valid-type,misc]
    """`RedisSession(session_id, *, redis_client, key_prefix=, ttl=, session_settings=)`."""

    def __init__(
        self,
        session_id: str,
        *,
        redis_client: Any = None,
        key_prefix: str = "agents:session",
        ttl: int | None = None,
        session_settings: Any = None,
    ) -> None:
        self._owned_client: aioredis.Redis | None = None
        options = _construct(session_id, _prefix(key_prefix), redis_client, ttl, session_settings)
        super().__init__(session_id, **options)

    @classmethod
    def from_url(
        cls,
        session_id: str,
        *,
        url: str,
        redis_kwargs: dict[str, Any] | None = None,
        session_settings: Any = None,
        **kwargs: Any,
    ) -> PeerRedisSession:
        """The SDK's tests name database 15; ours stay on the server under test."""
        if not redis_kwargs:
            return cls(session_id, session_settings=session_settings, **kwargs)
        client = aioredis.Redis.from_url(URL, **redis_kwargs)
        session = cls(session_id, redis_client=client, session_settings=session_settings, **kwargs)
        session._owned_client = client
        return session

    async def aclose(self) -> None:
        await super().aclose()
        if self._owned_client is not None:
            await self._owned_client.aclose()


for module in (agents, agents.memory, sdk_sqlite_session):
    module.SQLiteSession = PeerSQLiteSession  # type: ignore[attr-defined]
sdk_redis_session.RedisSession = PeerRedisSession  # type: ignore[misc]
