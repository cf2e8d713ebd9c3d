"""JSONSession's conversation API (0.1.0's): owners, messages with agents and tokens, metadata.

Messages are the session's SDK conversation items, so what `add_message` stores is what a
`Runner.run(..., session=...)` reads, and the other way round. The owner, the agents and
the token total live in the document's `meta` object, written by one script per call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents.items import TResponseInputItem

from . import items as item_codec
from . import scripts
from .connection import RedisConnection
from .keys import owned_json_prefix, validate_id

_META_PATHS = ("$.meta", "$.created_at", "$.updated_at")


class JSONConversation:
    """What JSONSession adds for conversations: 0.1.0's methods, on the SDK's items."""

    user_id: str | None
    key: str
    _connection: RedisConnection
    _write_records: str
    _ttl_ms: int | None
    _current_agent: str | None

    if TYPE_CHECKING:

        async def get_items(self, limit: int | None = None) -> list[TResponseInputItem]: ...

    async def _message_write(self, op: str, *operands: Any) -> None:
        ttl = "" if self._ttl_ms is None else self._ttl_ms
        session_id: str = getattr(self, "session_id", "")
        agent = await self._connection.write(
            scripts.JSON_MESSAGE,
            self._write_records,
            [self.key],
            [op, ttl, self.user_id or "", session_id, *operands],
            "JSON data type (RedisJSON module, JSON.* commands)",
            data_ttl_ms=self._ttl_ms,
        )
        self._current_agent = None if agent is None else _text(agent)

    async def create(self) -> None:
        """Make sure the document exists, with its owner; existing data is kept."""
        await self._message_write("create")

    async def add_message(
        self,
        role: str,
        content: str,
        agent: str | None = None,
        tokens: int | None = None,
    ) -> None:
        """Append one plain message to the conversation items, atomically.

        Args:
            role: Usually `user` or `assistant`.
            content: The message text.
            agent: The agent that wrote it; becomes
                [`current_agent`][redis_openai_agents.JSONSession.current_agent].
            tokens: Tokens it used, added to the `total_tokens` of
                [`get_metadata`][redis_openai_agents.JSONSession.get_metadata].

        Raises:
            TypeError: `role` or `content` is not a string, or `tokens` not an integer.
        """
        if not isinstance(role, str) or not isinstance(content, str):
            raise TypeError("role and content must be strings")
        if tokens is not None and (not isinstance(tokens, int) or isinstance(tokens, bool)):
            raise TypeError(f"tokens must be an integer, got {type(tokens).__name__}")
        item = item_codec.encode_item({"role": role, "content": content})
        await self._message_write(
            "message", item, agent or "", "" if tokens is None else str(tokens)
        )

    async def track_agent(self, agent_name: str) -> None:
        """Record the agent now answering: `current_agent`, and once in `agents_used`."""
        await self._message_write("agent", validate_id(agent_name, "agent_name"))

    @property
    def current_agent(self) -> str | None:
        """The agent that last answered, as of the last read or write of this object."""
        return self._current_agent

    async def get_messages(
        self, limit: int | None = None, role: str | None = None
    ) -> list[dict[str, Any]]:
        """The conversation as readable dicts (`role`, `content`, `type`), oldest first.

        Args:
            limit: How many of the latest messages (after filtering by role); None for all.
            role: Only messages of this role (`user`, `assistant`, `tool`, `system`).
        """
        items = await self.get_items(None if role else limit)
        views = []
        for item in items:
            view = item_codec.text_view(item)
            views.append(
                {"role": view.role, "content": view.content, "type": item.get("type", "message")}
            )
        if role is not None:
            views = [v for v in views if v["role"] == role]
            if limit is not None:
                views = views[-limit:] if limit else []
        return views

    async def to_agent_inputs(self) -> list[TResponseInputItem]:
        """The whole conversation as SDK input items, exactly as they were stored."""
        return await self.get_items()

    async def get_metadata(self) -> dict[str, Any]:
        """The session's owner, agents, counts and times; `{}` when it does not exist.

        Returns:
            `user_id`, `session_id`, `current_agent`, `agents_used`, `message_count`
                (conversation items), `total_tokens`, `created_at` and `updated_at`
                (seconds since the epoch).
        """
        key = self.key

        async def read(client: Any) -> list[Any]:
            pipe = client.pipeline(transaction=False)
            pipe.execute_command("JSON.GET", key, *_META_PATHS)
            pipe.execute_command("JSON.ARRLEN", key, "$.items")
            return list(await pipe.execute(raise_on_error=False))

        raw, lengths = await self._connection.call(read)
        if raw is None:
            return {}
        if isinstance(lengths, Exception):
            raise lengths
        found = item_codec.decode(raw)
        meta = (found.get("$.meta") or [{}])[0]
        self._current_agent = meta.get("current_agent")
        return {
            "user_id": meta.get("user_id", self.user_id),
            "session_id": getattr(self, "session_id", None),
            "current_agent": self._current_agent,
            "agents_used": meta.get("agents_used", []),
            "message_count": int((lengths or [0])[0] or 0),
            "total_tokens": meta.get("total_tokens", 0),
            "created_at": (found.get("$.created_at") or [None])[0],
            "updated_at": (found.get("$.updated_at") or [None])[0],
        }


async def list_owned(user_id: str, prefix: str, connection: RedisConnection) -> list[str]:
    """The ids of a user's JSON sessions, sorted; one SCAN over the key space."""
    start = owned_json_prefix(prefix, validate_id(user_id, "user_id"))
    pattern = "".join("\\" + ch if ch in "*?[]\\" else ch for ch in start) + "*"
    async with connection.errors():
        found = [
            _text(key)[len(start) :]
            async for key in connection.client().scan_iter(match=pattern, count=1000)
        ]
    return sorted(set(found))


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)
