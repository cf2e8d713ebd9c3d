"""JSONSession: one RedisJSON document per session, for nested data and conversation items.

The document holds the caller's values under `data` and the SDK's conversation items under
`items`, so neither can overwrite the other. Every write is one script: it creates the
document if needed, applies the change and slides the expiry, all at once.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from agents.items import TResponseInputItem
from agents.memory import SessionSettings
from agents.memory.session_settings import resolve_session_limit

from . import _exact_json as exact
from . import items as item_codec
from . import scripts
from ._base import TTL, RedisBackedSession, validate_limit
from ._bridge import shielded
from .connection import RedisClient
from .keys import DEFAULT_PREFIX, json_session_key, validate_id

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
        raise ValueError("JSONSession keys must be valid Unicode text") from None
    return key


def _encode_value(value: Any) -> str:
    try:
        return exact.encode(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"value cannot be stored as JSON: {exc}") from None


class JSONSession(RedisBackedSession):
    """Async key-value storage for nested session data, and an Agents SDK session too."""

    def __init__(
        self,
        session_id: str,
        redis_url: str | None = None,
        ttl: TTL | None = None,
        *,
        redis_client: RedisClient | None = None,
        prefix: str = DEFAULT_PREFIX,
        session_settings: SessionSettings | None = None,
    ) -> None:
        self.session_id = validate_id(session_id, "session_id")
        super().__init__(
            redis_url=redis_url,
            redis_client=redis_client,
            ttl=ttl,
            prefix=prefix,
            session_settings=session_settings,
        )
        self.key = json_session_key(self.prefix, self.session_id)

    def __repr__(self) -> str:
        return f"JSONSession(session_id={self.session_id!r}, redis_url={self.redis_url!r})"

    async def _write(self, op: str, *operands: Any) -> Any:
        ttl = "" if self._ttl_ms is None else self._ttl_ms
        async with self._connection.errors(_JSON_CAPABILITY):
            return await shielded(
                scripts.JSON_WRITE(self._client(), [self.key], [op, ttl, *operands])
            )

    async def _get(self, path: str) -> list[Any]:
        async with self._connection.errors():
            raw = await self._client().execute_command(  # type: ignore[no-untyped-call]
                "JSON.GET", self.key, path
            )
        return [] if raw is None else list(item_codec.decode(raw))

    # Key-value data

    async def set(self, key: str, value: Any) -> None:
        """Store a JSON value under `key`; nothing is written if it is not JSON."""
        await self._write("set", _path(_validate_key(key)), _encode_value(value))

    async def get(self, key: str, default: Any = None) -> Any:
        found = await self._get(_path(_validate_key(key)))
        return exact.restore(found[0]) if found else default

    async def get_all(self) -> dict[str, Any]:
        """Every key set on this session, with its value."""
        found = await self._get("$.data")
        return {unquote(k): exact.restore(v) for k, v in found[0].items()} if found else {}

    async def delete(self, key: str) -> bool:
        """Remove one key; True when it existed."""
        return bool(await self._write("del", _path(_validate_key(key))))

    async def clear(self) -> None:
        """Delete the whole document: data and conversation items."""
        async with self._connection.errors():
            await shielded(self._client().unlink(self.key))

    async def exists(self) -> bool:
        async with self._connection.errors():
            return bool(await self._client().exists(self.key))

    # The Agents SDK session protocol

    async def get_items(self, limit: int | None = None) -> list[TResponseInputItem]:
        effective = validate_limit(resolve_session_limit(limit, self.session_settings))
        if effective == 0:
            return []
        found = await self._get("$.items" if effective is None else f"$.items[-{effective}:]")
        items = (found[0] if found else []) if effective is None else found
        return [exact.restore(item) for item in items]

    async def add_items(self, items: list[TResponseInputItem]) -> None:
        batch = item_codec.normalize_items(items)
        item_codec.encode_items(batch)
        encoded = [exact.encode(item) for item in batch]
        if encoded:
            await self._write("append", *encoded)

    async def pop_item(self) -> TResponseInputItem | None:
        raw = await self._write("pop")
        return None if raw is None else exact.restore(item_codec.decode(raw))

    async def clear_session(self) -> None:
        """Forget the conversation items; the session's key-value data stays."""
        await self._write("clear_items")
