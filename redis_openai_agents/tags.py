"""Conversation tags: labels on a user's conversations, and listing the conversations by tag.

A conversation's tags live in its metadata hash; each tag also has a sorted set of the
user's conversation ids carrying it, scored like the user's list (server time of the last
write), all in the user's slot. The scripts that append, pop and delete keep those sets in
step in the same atomic step, so listing by tag reads a page, never the whole list.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from . import items as item_codec
from . import scripts
from ._bridge import run_sync
from .errors import InvalidTagError, RedisCommandError, SessionNotFoundError
from .keys import conversation_meta_prefix, tag_index_key

if TYPE_CHECKING:
    from .connection import RedisConnection
    from .keys import ConversationKeys

MAX_TAG_LENGTH = 128
"""The longest tag, in characters."""

_RESENDS = 8


def validate_tag(tag: object) -> str:
    """A tag is a non-empty string of up to MAX_TAG_LENGTH characters, case-sensitive.

    Control characters (line breaks, NUL, U+001F...) and leading or trailing spaces are
    refused rather than silently changed, so that a tag reads back exactly as given.
    """
    if not isinstance(tag, str):
        raise InvalidTagError(f"a tag must be a string, got {type(tag).__name__}")
    if not tag:
        raise InvalidTagError("a tag must not be empty")
    if len(tag) > MAX_TAG_LENGTH:
        raise InvalidTagError(f"tag is {len(tag)} characters long; the limit is {MAX_TAG_LENGTH}")
    if tag != tag.strip():
        raise InvalidTagError(f"tag {tag!r} must not start or end with spaces")
    if any(unicodedata.category(ch) == "Cc" for ch in tag):
        raise InvalidTagError(f"tag {tag!r} must not contain control characters")
    try:
        tag.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidTagError(f"tag {tag!r} is not valid Unicode text") from None
    return tag


def validate_tags(tags: object) -> list[str]:
    """A list, tuple or set of tags, each checked, duplicates dropped, order kept."""
    if isinstance(tags, (str, bytes)) or not isinstance(tags, Iterable):
        raise InvalidTagError(
            f"tags must be a list of strings, got {type(tags).__name__}"
            + (" (wrap one tag in a list: ['work'])" if isinstance(tags, str) else "")
        )
    return list(dict.fromkeys(validate_tag(tag) for tag in tags))


def tags_reply(result: Any) -> tuple[str, ...] | None:
    """The stored tags when a script refused a write for undeclared tag sets, else None."""
    if isinstance(result, list) and len(result) == 2 and result[0] in (b"tags", "tags"):
        return tuple(item_codec.decode(result[1]))
    return None


def decode_stored(raw: Any) -> tuple[str, ...]:
    """The `tags` field of a metadata hash (absent or false: no tags)."""
    if not raw:
        return ()
    return tuple(item_codec.decode(raw))


class ConversationTags:
    """Tags on one conversation, mixed into `AgentSession`."""

    if TYPE_CHECKING:
        _connection: RedisConnection
        _keys: ConversationKeys
        _ttl_ms: int | None
        prefix: str
        user_id: str
        conversation_id: str

    _known_tags: tuple[str, ...] = ()
    """The tags this object last saw stored; their sets are declared with every write."""

    def _tag_keys(self, tags: Iterable[str] = ()) -> list[str]:
        seen = dict.fromkeys([*self._known_tags, *tags])
        return [tag_index_key(self.prefix, self.user_id, tag) for tag in seen]

    async def _with_tags(self, send: Callable[[], Awaitable[Any]]) -> Any:
        """Run a conversation's writing script, built with the tag sets last seen.

        When the stored tags differ from the ones this object knows (another process
        tagged the conversation), the script writes nothing and answers with them; the
        write is then sent again declaring their sets.
        """
        for _ in range(_RESENDS):
            result = await send()
            stored = tags_reply(result)
            if stored is None:
                return result
            self._known_tags = stored
        raise RedisCommandError(
            self._connection.display_url, "the conversation's tags kept changing during a write"
        )

    async def _tag_write(self, op: str, tags: list[str]) -> list[str]:
        args = [op, self.conversation_id, conversation_meta_prefix(self.prefix, self.user_id)]
        for _ in range(_RESENDS):
            keys = [self._keys.meta, self._keys.user_index, *self._tag_keys(tags)]
            result = await self._connection.write(
                scripts.TAGS,
                self._keys.write_records,
                keys,
                [*args, *tags],
                data_ttl_ms=self._ttl_ms,
            )
            if result is None:
                raise SessionNotFoundError(self.conversation_id, self.user_id)
            stored = tags_reply(result)
            if stored is None:
                self._known_tags = decode_stored(result)
                return list(self._known_tags)
            self._known_tags = stored
        raise RedisCommandError(
            self._connection.display_url, "the conversation's tags kept changing during a write"
        )

    async def aset_tags(self, tags: Sequence[str]) -> list[str]:
        """Replace the conversation's tags.

        Tagging does not count as a write to the conversation: `updated_at`, its place in
        [`list_sessions`][redis_openai_agents.AgentSession.list_sessions] and its expiry
        stay as they were. Re-sent by a retry, it is applied once.

        Args:
            tags: The new tags, e.g. `["work", "travel"]`; `[]` removes them all. Each is a
                case-sensitive string of 1 to 128 characters without control characters
                or surrounding spaces; duplicates are dropped, the order is kept.

        Returns:
            The conversation's tags, as stored.

        Raises:
            InvalidTagError: A tag is not allowed, or `tags` is a single string; nothing
                is written.
            SessionNotFoundError: The conversation does not exist (yet, or any more).
        """
        return await self._tag_write("set", validate_tags(tags))

    def set_tags(self, tags: Sequence[str]) -> list[str]:
        """Blocking version of [`aset_tags`][redis_openai_agents.AgentSession.aset_tags].

        Same arguments, result and errors; works inside a running event loop (a Jupyter
        cell) too.
        """
        return run_sync(self.aset_tags(tags))

    async def aadd_tags(self, tags: Sequence[str]) -> list[str]:
        """Add tags to the conversation, after the ones it has; tags it has stay once.

        Args:
            tags: The tags to add, with the rules of
                [`set_tags`][redis_openai_agents.AgentSession.set_tags].

        Returns:
            The conversation's tags, as stored.

        Raises:
            InvalidTagError: A tag is not allowed; nothing is written.
            SessionNotFoundError: The conversation does not exist (yet, or any more).
        """
        return await self._tag_write("add", validate_tags(tags))

    def add_tags(self, tags: Sequence[str]) -> list[str]:
        """Blocking version of [`aadd_tags`][redis_openai_agents.AgentSession.aadd_tags].

        Same arguments, result and errors; works inside a running event loop too.
        """
        return run_sync(self.aadd_tags(tags))

    async def aremove_tags(self, tags: Sequence[str]) -> list[str]:
        """Remove tags from the conversation; tags it does not have are ignored.

        Args:
            tags: The tags to remove.

        Returns:
            The conversation's tags, as stored.

        Raises:
            InvalidTagError: A tag is not allowed; nothing is written.
            SessionNotFoundError: The conversation does not exist (yet, or any more).
        """
        return await self._tag_write("remove", validate_tags(tags))

    def remove_tags(self, tags: Sequence[str]) -> list[str]:
        """Blocking version of [`aremove_tags`][redis_openai_agents.AgentSession.aremove_tags].

        Same arguments, result and errors; works inside a running event loop too.
        """
        return run_sync(self.aremove_tags(tags))

    async def atags(self) -> list[str]:
        """The conversation's tags, in the order they were first given; `[]` for none.

        One read of the metadata; a conversation that does not exist has none.
        """
        meta = self._keys.meta
        raw = await self._connection.call(lambda client: client.hget(meta, "tags"))
        self._known_tags = decode_stored(raw)
        return list(self._known_tags)

    def tags(self) -> list[str]:
        """Blocking version of [`atags`][redis_openai_agents.AgentSession.atags].

        Works inside a running event loop (a Jupyter cell) too.
        """
        return run_sync(self.atags())


async def list_tagged(
    connection: RedisConnection,
    prefix: str,
    user_id: str,
    tags: list[str],
    offset: int,
    limit: int,
    fields: Sequence[str],
) -> Any:
    """Rows of the conversations carrying every tag, as `list.lua` returns the user's list.

    One tag's set is listed exactly as the user's list is (`list.lua`): O(log N + page).
    """
    keys = [tag_index_key(prefix, user_id, tag) for tag in tags]
    args = [conversation_meta_prefix(prefix, user_id), offset, limit, *fields]
    script = scripts.LIST if len(keys) == 1 else scripts.LIST_TAGGED
    return await connection.call(lambda client: script(client, keys, args))
