"""The session backends under test, behind one small async interface.

Every backend gets a key prefix (or database file) of its own, so they never disturb each
other, and removes everything it wrote in `cleanup()`.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import redis
from agents.extensions.memory import RedisSession
from agents.memory import SQLiteSession
from redisvl.extensions.message_history import MessageHistory

from redis_openai_agents import AgentSession, JSONSession

from .items import Item
from .redisinfo import Admin

AGENT = "AgentSession"
JSON = "JSONSession"
SDK_REDIS = "SDK RedisSession"
SDK_SQLITE = "SDK SQLiteSession"
MESSAGE_HISTORY = "RedisVL MessageHistory"

REFERENCE = SDK_REDIS
HISTORY_FIELDS = ("entry_id", "role", "session_tag", "timestamp", "tool_call_id")
"""MessageHistory's fields besides `metadata` and `content` (its `get_recent` reads them)."""
OURS = (AGENT, JSON)
ALL = (AGENT, JSON, SDK_REDIS, SDK_SQLITE, MESSAGE_HISTORY)


class Conversation(Protocol):
    """The Agents SDK session protocol, which every backend here speaks."""

    async def get_items(self, limit: int | None = None) -> list[Any]: ...

    async def add_items(self, items: list[Any]) -> None: ...

    async def pop_item(self) -> Any: ...

    async def clear_session(self) -> None: ...


class Backend(abc.ABC):
    """A factory of conversations of one kind, with the bookkeeping to measure and clean."""

    name: str
    in_redis = True
    has_clear = True

    def __init__(self, url: str, prefix: str, workdir: Path) -> None:
        self.url = url
        self.prefix = prefix
        self.workdir = workdir
        self._open: list[Conversation] = []

    @abc.abstractmethod
    def _make(self, conversation_id: str) -> Conversation: ...

    def conversation(self, conversation_id: str) -> Conversation:
        conv = self._make(conversation_id)
        self._open.append(conv)
        return conv

    def key_pattern(self) -> str:
        return f"{self.prefix}:*"

    def index_name(self) -> str | None:
        return None

    def disk_bytes(self) -> int:
        return 0

    async def _close(self, conv: Conversation) -> None:
        return None

    async def aclose(self) -> None:
        for conv in self._open:
            await self._close(conv)
        self._open.clear()

    def cleanup(self, admin: Admin) -> None:
        admin.delete_matching(self.key_pattern())
        name = self.index_name()
        if name:
            admin.drop_index(name)


class AgentSessionBackend(Backend):
    name = AGENT

    def _make(self, conversation_id: str) -> Conversation:
        return AgentSession(
            conversation_id, user_id=f"u-{conversation_id}", redis_url=self.url, prefix=self.prefix
        )

    def index_name(self) -> str | None:
        return f"{self.prefix}:messages"

    async def _close(self, conv: Conversation) -> None:
        assert isinstance(conv, AgentSession)
        await conv.aclose()


class JSONSessionBackend(Backend):
    name = JSON

    def _make(self, conversation_id: str) -> Conversation:
        return JSONSession(conversation_id, redis_url=self.url, prefix=self.prefix)

    async def _close(self, conv: Conversation) -> None:
        assert isinstance(conv, JSONSession)
        await conv.aclose()


class SDKRedisBackend(Backend):
    name = SDK_REDIS

    def _make(self, conversation_id: str) -> Conversation:
        return RedisSession.from_url(conversation_id, url=self.url, key_prefix=self.prefix)

    async def _close(self, conv: Conversation) -> None:
        assert isinstance(conv, RedisSession)
        await conv.close()


class SDKSQLiteBackend(Backend):
    """The SDK's SQLiteSession on a database file (one file for all conversations)."""

    name = SDK_SQLITE
    in_redis = False

    def __init__(self, url: str, prefix: str, workdir: Path) -> None:
        super().__init__(url, prefix, workdir)
        self.path = workdir / f"{prefix}.sqlite3"

    def _make(self, conversation_id: str) -> Conversation:
        return SQLiteSession(conversation_id, db_path=self.path)

    def disk_bytes(self) -> int:
        files = [self.path, Path(f"{self.path}-wal")]
        return sum(f.stat().st_size for f in files if f.exists())

    async def _close(self, conv: Conversation) -> None:
        assert isinstance(conv, SQLiteSession)
        conv.close()

    def cleanup(self, admin: Admin) -> None:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.remove(f"{self.path}{suffix}")


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def history_message(item: Item) -> dict[str, Any]:
    """How a hand-rolled integration maps an SDK item onto MessageHistory's fields."""
    kind = item.get("type")
    role = item.get("role")
    if isinstance(role, str) and kind in (None, "message"):
        return {"role": role, "content": _text(item.get("content")), "metadata": item}
    if kind == "function_call_output":
        return {
            "role": "tool",
            "content": str(item.get("output", "")),
            "tool_call_id": str(item.get("call_id", "")),
            "metadata": item,
        }
    if kind == "function_call":
        content = f"{item.get('name')}({item.get('arguments', '')})"
        return {"role": "assistant", "content": content, "metadata": item}
    return {"role": "assistant", "content": f"[{kind}]", "metadata": item}


class HistoryConversation:
    """RedisVL MessageHistory used directly, as an integration without this library would.

    MessageHistory is synchronous, so these coroutines block the event loop while Redis
    answers, exactly like calling it from an async agent would. `get_recent` needs a
    `top_k`; for the whole history the count is tracked here (no extra request).
    """

    def __init__(self, history: MessageHistory) -> None:
        self.history = history
        self.count = 0

    async def get_items(self, limit: int | None = None) -> list[Any]:
        top_k = self.count if limit is None else limit
        if top_k <= 0:
            return []
        messages = self.history.get_recent(top_k=top_k)
        return [m.get("metadata") for m in messages if isinstance(m, dict)]

    async def add_items(self, items: list[Any]) -> None:
        self.history.add_messages([history_message(i) for i in items])
        self.count += len(items)

    async def pop_item(self) -> Any:
        if self.count <= 0:
            return None
        self.history.drop()
        self.count -= 1
        return None

    async def pop_many(self, count: int) -> None:
        """Drop the newest `count` messages with one search (untimed undo of a write)."""
        count = min(count, self.count)
        if count <= 0:
            return
        for message in self.history.get_recent(top_k=count, raw=True):
            self.history.drop(message["entry_id"])
        self.count -= count

    async def clear_session(self) -> None:
        # MessageHistory.clear() wipes every conversation of the index, not one.
        raise NotImplementedError("MessageHistory cannot clear a single conversation")


class MessageHistoryBackend(Backend):
    name = MESSAGE_HISTORY
    has_clear = False

    def __init__(self, url: str, prefix: str, workdir: Path) -> None:
        super().__init__(url, prefix, workdir)
        self.client = redis.Redis.from_url(url)
        self._created = False

    def _make(self, conversation_id: str) -> Conversation:
        history = MessageHistory(
            name=self.prefix,
            session_tag=conversation_id,
            redis_client=self.client,
            create_index=not self._created,
        )
        self._created = True
        return HistoryConversation(history)

    def index_name(self) -> str | None:
        return self.prefix

    async def aclose(self) -> None:
        await super().aclose()
        await asyncio.to_thread(self.client.close)


BackendFactory = Callable[[str, str, Path], Backend]

FACTORIES: dict[str, BackendFactory] = {
    AGENT: AgentSessionBackend,
    JSON: JSONSessionBackend,
    SDK_REDIS: SDKRedisBackend,
    SDK_SQLITE: SDKSQLiteBackend,
    MESSAGE_HISTORY: MessageHistoryBackend,
}

SHORT_NAMES = {
    AGENT: "agent",
    JSON: "json",
    SDK_REDIS: "sdk",
    SDK_SQLITE: "sqlite",
    MESSAGE_HISTORY: "mh",
}
