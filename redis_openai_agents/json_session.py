"""JSONSession: one RedisJSON document per session, for nested data and conversation items.

The document holds the caller's values under `data` and the SDK's conversation items under
`items`, so neither can overwrite the other. Every write is one script: it creates the
document if needed, applies the change and slides the expiry, all at once.
"""

from __future__ import annotations

import enum
from typing import Any
from urllib.parse import unquote

from agents.items import TResponseInputItem
from agents.memory import SessionSettings

from . import _exact_json as exact
from . import items as item_codec
from . import scripts
from ._base import TTL, RedisBackedSession
from ._bridge import shielded
from .compaction import DocumentCompaction
from .connection import RedisClient
from .durability import DEFAULT_WAIT_TIMEOUT
from .errors import JSONSessionNotFoundError
from .json_conversation import JSONConversation, list_owned
from .keys import (
    DEFAULT_PREFIX,
    ConversationKeys,
    json_session_key,
    json_write_records_key,
    owned_json_session_key,
    validate_id,
)
from .retry import DEFAULT_RETRY_TIMEOUT


class _Whole(enum.Enum):
    """`delete()` without a key: the whole document."""

    DOCUMENT = "the whole document"


_ESCAPES = {"%": "%25", '"': "%22", "\\": "%5C"}
_JSON_CAPABILITY = "JSON data type (RedisJSON module, JSON.* commands)"


def _escape(ch: str) -> str:
    return _ESCAPES.get(ch) or (f"%{ord(ch):02X}" if ord(ch) < 0x20 else ch)


def _field_name(key: str) -> str:
    """A document field name that RedisJSON's path parser reads back as written.

    Dots, `$`, brackets and quotes in keys are all fine inside a bracketed, double-quoted
    path segment, except `"`, `\\`, control characters and leading spaces (which the
    parser drops): those are percent-encoded, `%` included, so decoding is exact.
    """
    body = key.lstrip(" ")
    return "%20" * (len(key) - len(body)) + "".join(_escape(ch) for ch in body)


def _path(key: str) -> str:
    return f'$.data["{_field_name(key)}"]'


def _validate_key(key: object) -> str:
    if not isinstance(key, str):
        raise TypeError(f"JSONSession keys must be strings, got {type(key).__name__}")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise TypeError("JSONSession keys must be valid Unicode text") from None
    return key


def _encode_value(value: Any) -> str:
    try:
        return exact.encode(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"value cannot be stored as JSON: {exc}") from None


class JSONSession(JSONConversation, DocumentCompaction, RedisBackedSession):
    """Async key-value storage for nested session data, and an Agents SDK session too.

    The whole session is one RedisJSON document: your values under `data`, the SDK's
    conversation items under `items`, so neither can overwrite the other. With `user_id=`
    it belongs to that user (listed by `JSONSession.list_sessions`, never by
    `AgentSession.list_sessions`); without, to nobody. Calls raise
    [`RedisModuleMissingError`][redis_openai_agents.RedisModuleMissingError] on a server
    without the JSON data type.

    Example:
        ```python
        from redis_openai_agents import JSONSession

        async with JSONSession("checkout-42", ttl=3600) as session:
            await session.set("cart", {"items": [{"sku": "A1", "qty": 2}]})
            cart = await session.get("cart")
        ```
    """

    def __init__(
        self,
        session_id: str,
        redis_url: str | None = None,
        ttl: TTL | None = None,
        *,
        redis_client: RedisClient | None = None,
        prefix: str = DEFAULT_PREFIX,
        session_settings: SessionSettings | dict[str, Any] | None = None,
        user_id: str | None = None,
        retry_timeout: float = DEFAULT_RETRY_TIMEOUT,
        wait_replicas: int = 0,
        wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
    ) -> None:
        """Name a session; nothing is sent to Redis until the first call.

        Args:
            session_id: Any non-empty string up to 4096 characters without NUL or U+001F.
            redis_url: The server: this argument, then `$REDIS_URL`, then
                `redis://localhost:6379`.
            ttl: Expiry in seconds or as a `timedelta`. It slides: every write moves the
                document's expiry to `ttl` after that write; reads do not extend it. None
                keeps the ttl stored in the document, so a new document then has none.
            redis_client: A `redis.Redis` or `redis.asyncio.Redis` to use instead of a
                URL, for settings a URL cannot carry. The session never closes it.
            prefix: First part of the document's key, so several applications can share
                one Redis. Must not contain `{` or `}`.
            session_settings: The SDK's `SessionSettings`; its `limit` applies when
                [`get_items`][redis_openai_agents.JSONSession.get_items] gets none.
            user_id: The session's owner. Sessions of an owner are scoped to them (the
                same id under two users names two sessions), are listed by
                [`list_sessions`][redis_openai_agents.JSONSession.list_sessions] and
                erased with the user's conversations; None for a session of nobody's.
            retry_timeout: Seconds the server may stay unreachable (counted from the
                first failed attempt) while a call retries, before it raises
                [`RedisUnavailableError`][redis_openai_agents.RedisUnavailableError].
                Retried writes are applied once; 0 disables retries.
            wait_replicas: How many replicas must acknowledge each write (`WAIT`, in the
                same round trip; on a cluster, straight after it on the same master)
                before it returns; 0 returns once the master applied it.
            wait_timeout: Seconds a write waits for those acknowledgements before raising
                [`ReplicationTimeoutError`][redis_openai_agents.ReplicationTimeoutError].

        Raises:
            InvalidIdentifierError: The id or the prefix is not allowed.
            InvalidTTLError: `ttl` is not a positive number of seconds.
            ValueError: Both `redis_url` and `redis_client` were given, or a retry or
                replication setting is out of range.
            TypeError: `redis_client` is not a redis-py client.
        """
        self.session_id = validate_id(session_id, "session_id")
        """The session's id, as given."""
        super().__init__(
            redis_url=redis_url,
            redis_client=redis_client,
            ttl=ttl,
            prefix=prefix,
            session_settings=session_settings,
            retry_timeout=retry_timeout,
            wait_replicas=wait_replicas,
            wait_timeout=wait_timeout,
        )
        self.user_id = None if user_id is None else validate_id(user_id, "user_id")
        """The session's owner, or None."""
        self.key = (
            json_session_key(self.prefix, self.session_id)
            if self.user_id is None
            else owned_json_session_key(self.prefix, self.user_id, self.session_id)
        )
        """The Redis key of the document, for inspecting it with `JSON.GET`."""
        self._write_records = (
            json_write_records_key(self.prefix, self.session_id)
            if self.user_id is None
            else ConversationKeys(self.prefix, self.user_id, self.session_id).write_records
        )
        """Where writes record their ids: the document's slot, shared with its owner's."""
        self._current_agent: str | None = None

    def __repr__(self) -> str:
        return f"JSONSession(session_id={self.session_id!r}, redis_url={self.redis_url!r})"

    @classmethod
    async def load(
        cls,
        session_id: str,
        redis_url: str | None = None,
        *,
        user_id: str | None = None,
        ttl: TTL | None = None,
        redis_client: RedisClient | None = None,
        prefix: str = DEFAULT_PREFIX,
        session_settings: SessionSettings | dict[str, Any] | None = None,
        retry_timeout: float = DEFAULT_RETRY_TIMEOUT,
        wait_replicas: int = 0,
        wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
    ) -> JSONSession:
        """Open an existing session, with `current_agent` read from it.

        Args:
            session_id: The session to open.
            redis_url: The server, as for the constructor.
            user_id: The session's owner; needed for a session that has one.
            ttl: Sliding expiry from the next write on; None keeps the stored one.
            redis_client: A redis-py client instead of a URL, as for the constructor.
            prefix: First part of the document's key, as for the constructor.
            session_settings: The SDK's `SessionSettings`, as for the constructor.
            retry_timeout: Seconds the server may stay unreachable, as for the constructor.
            wait_replicas: Replicas that must acknowledge each write, as for the constructor.
            wait_timeout: Seconds a write waits for them, as for the constructor.

        Raises:
            JSONSessionNotFoundError: No such session (for that owner): never written,
                expired or deleted. A `SessionNotFoundError` and a `ValueError`.
        """
        session = cls(
            session_id,
            redis_url,
            ttl,
            user_id=user_id,
            redis_client=redis_client,
            prefix=prefix,
            session_settings=session_settings,
            retry_timeout=retry_timeout,
            wait_replicas=wait_replicas,
            wait_timeout=wait_timeout,
        )
        try:
            meta = await session.get_metadata()
        except BaseException:
            await session.aclose()
            raise
        if not meta:
            await session.aclose()
            raise JSONSessionNotFoundError(session_id, session.user_id)
        return session

    @classmethod
    async def list_sessions(
        cls,
        user_id: str,
        redis_url: str | None = None,
        *,
        redis_client: RedisClient | None = None,
        prefix: str = DEFAULT_PREFIX,
    ) -> list[str]:
        """The ids of the JSON sessions owned by `user_id`, sorted.

        Reads the key space once with SCAN (in steps, never blocking the server), so its
        cost grows with the database; keep ids you need often in your own records.

        Args:
            user_id: Whose sessions to list.
            redis_url: The server, as for the constructor.
            redis_client: A redis-py client instead of a URL, as for the constructor.
            prefix: First part of the keys, as for the constructor.
        """
        probe = cls("_", redis_url, user_id=user_id, redis_client=redis_client, prefix=prefix)
        try:
            return await list_owned(user_id, probe.prefix, probe._connection)
        finally:
            await probe.aclose()

    async def _write(self, op: str, *operands: Any) -> Any:
        ttl = "" if self._ttl_ms is None else self._ttl_ms
        return await self._connection.write(
            scripts.JSON_WRITE,
            self._write_records,
            [self.key],
            [op, ttl, *operands],
            _JSON_CAPABILITY,
            data_ttl_ms=self._ttl_ms,
        )

    async def _get(self, path: str) -> list[Any]:
        key = self.key
        raw = await self._connection.call(
            lambda client: client.execute_command("JSON.GET", key, path)  # type: ignore[no-untyped-call]
        )
        return [] if raw is None else list(item_codec.decode(raw))

    # Key-value data

    async def set(self, key: str, value: Any) -> None:
        """Store a value under `key`, replacing any previous one.

        Numbers come back exactly, even those RedisJSON alone would round (floats with 16
        or more significant digits, integers beyond 64 bits).

        Args:
            key: Any string; characters JSONPath would misread are escaped.
            value: A JSON value: dict, list, str, int, float (not NaN or infinity), bool or
                None. Pydantic models are stored as their JSON dump.

        Raises:
            TypeError: `key` is not a string, or `value` cannot be stored as JSON; both are
                checked before anything is written.
        """
        await self._write("set", _path(_validate_key(key)), _encode_value(value))

    async def get(self, key: str, default: Any = None) -> Any:
        """The value stored under `key`, or `default` when there is none.

        Reading does not extend the expiry.
        """
        found = await self._get(_path(_validate_key(key)))
        return exact.restore(found[0]) if found else default

    async def get_all(self) -> dict[str, Any]:
        """Every key set on this session, with its value; `{}` when there is none."""
        found = await self._get("$.data")
        return {unquote(k): exact.restore(v) for k, v in found[0].items()} if found else {}

    async def delete(self, key: str | _Whole = _Whole.DOCUMENT) -> bool:
        """Remove one key, the rest of the document staying; or, without a key, all of it.

        Returns:
            True when the key (or the document) existed.

        Raises:
            TypeError: `key` is given and is not a string (`None` included).
        """
        if key is _Whole.DOCUMENT:
            async with self._connection.errors():
                return bool(await shielded(self._client().unlink(self.key)))
        return bool(await self._write("del", _path(_validate_key(key))))

    async def clear(self) -> None:
        """Delete the whole document: data and conversation items.

        To forget only the conversation items, use
        [`clear_session`][redis_openai_agents.JSONSession.clear_session].
        """
        await self._write("drop")

    async def exists(self) -> bool:
        """Whether the document exists.

        False before the first write, after [`clear`][redis_openai_agents.JSONSession.clear]
        and once the document has expired.
        """
        key = self.key
        return bool(await self._connection.call(lambda client: client.exists(key)))

    # The Agents SDK session protocol

    async def get_items(self, limit: int | None = None) -> list[TResponseInputItem]:
        """The latest conversation items, oldest first, exactly as they were stored.

        Args:
            limit: How many of the latest items. None uses `session_settings.limit`, and
                returns every item when that is unset too; 0 returns `[]`.

        Raises:
            ValueError: `limit` is negative or not an integer.
        """
        effective = self._item_limit(limit)
        if effective == 0:
            return []
        key, path = self.key, "$.items" if effective is None else f"$.items[-{effective}:]"
        raw = await self._connection.call(
            lambda client: client.execute_command("JSON.GET", key, path)  # type: ignore[no-untyped-call]
        )
        if raw is None:
            return []
        found = item_codec.decode(raw)
        items: list[Any] = (found[0] if found else []) if effective is None else found
        if isinstance(raw, bytes) and exact.WRAPPER_KEY.encode() not in raw:
            return items  # nothing was stored wrapped: no item needs restoring
        return [exact.restore(item) for item in items]

    async def add_items(self, items: list[TResponseInputItem]) -> None:
        """Append a batch of conversation items atomically: all of them or none.

        Raises:
            InvalidItemError: An item is not a dict or cannot be stored as JSON; nothing
                is written.
        """
        batch = item_codec.normalize_items(items)
        encoded = [item_codec.encode_item(item, exact.encode) for item in batch]
        if encoded:
            await self._write("append", *encoded)

    async def pop_item(self) -> TResponseInputItem | None:
        """Remove and return the latest conversation item; a write, so the expiry slides.

        Returns:
            The removed item, or None when there is none.
        """
        raw = await self._write("pop")
        return None if raw is None else exact.restore(item_codec.decode(raw))

    async def clear_session(self) -> None:
        """Forget the conversation items; the session's key-value data stays."""
        await self._write("clear_items")
