"""Key layout and id validation.

Every key of one user's conversations carries the user id as its Redis Cluster hash tag,
so a conversation, its messages and the user's conversation list always share one slot
and every multi-key operation can run as one atomic script.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from .errors import InvalidIdentifierError

MAX_ID_LENGTH = 4096
DEFAULT_PREFIX = "roa"
"""The key prefix sessions use unless given `prefix=`; one per application sharing a Redis."""
TAG_SEPARATOR = "\x1f"
MAIN_BRANCH = "main"
"""The branch every conversation starts on, stored in the original layout."""
_RESERVED = ("\x00", TAG_SEPARATOR)


def validate_id(value: object, what: str) -> str:
    """Accept any non-empty string up to MAX_ID_LENGTH characters."""
    if not isinstance(value, str):
        raise InvalidIdentifierError(f"{what} must be a string, got {type(value).__name__}")
    if not value:
        raise InvalidIdentifierError(f"{what} must not be empty")
    if len(value) > MAX_ID_LENGTH:
        raise InvalidIdentifierError(
            f"{what} is {len(value)} characters long; the limit is {MAX_ID_LENGTH}"
        )
    if any(ch in value for ch in _RESERVED):
        raise InvalidIdentifierError(f"{what} must not contain NUL or U+001F characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidIdentifierError(f"{what} must be valid Unicode text") from None
    return value


def validate_prefix(prefix: object) -> str:
    """A prefix may not contain braces (they would move the hash tag) or `*` (SORT patterns)."""
    prefix = validate_id(prefix, "prefix")
    if any(ch in prefix for ch in "{}*"):
        raise InvalidIdentifierError("prefix must not contain '{', '}' or '*'")
    return prefix


def _escape(value: str, specials: str) -> str:
    """Percent-encode `%` and `specials`: one-to-one, and ordinary ids stay readable."""
    for ch in "%" + specials:
        value = value.replace(ch, f"%{ord(ch):02X}")
    return value


def hash_tag(value: str) -> str:
    """Escape an id so that it is exactly the content of a `{...}` hash tag.

    `{` and `}` would end the tag early and `*` would be read as the substitution point of
    a SORT pattern, so they are percent-encoded, `%` too.
    """
    return "{" + _escape(value, "{}*") + "}"


@dataclass(frozen=True)
class ConversationKeys:
    """The keys of one conversation of one user, each built once: every call sends some."""

    prefix: str
    user_id: str
    conversation_id: str

    @cached_property
    def _tag(self) -> str:
        return hash_tag(self.user_id)

    @cached_property
    def meta(self) -> str:
        """Hash with the conversation's metadata and sequence bounds."""
        return f"{self.prefix}:conv:{self._tag}:{self.conversation_id}"

    @cached_property
    def user_index(self) -> str:
        """Sorted set of the user's conversation ids, scored by last update time."""
        return user_index_key(self.prefix, self.user_id)

    @cached_property
    def order(self) -> str:
        """List of the conversation's item sequence numbers, oldest first."""
        return f"{self.prefix}:order:{self._tag}:{self.conversation_id}"

    @cached_property
    def message_pattern(self) -> str:
        """SORT ... GET pattern that names each item's hash from its sequence number."""
        return f"{self.message_prefix}*"

    @cached_property
    def item_pattern(self) -> str:
        """SORT ... GET pattern of each item's stored JSON (its `metadata` field)."""
        return f"{self.message_pattern}->metadata"

    @cached_property
    def message_prefix(self) -> str:
        """Messages are hashes at this prefix plus their sequence number."""
        return f"{self.prefix}:msg:{self._tag}:{_escape(self.conversation_id, '*')}:"

    def message(self, seq: int) -> str:
        return f"{self.message_prefix}{seq}"

    @cached_property
    def branches(self) -> str:
        """Hash of the conversation's turns, branches and usage (see `branching`)."""
        return f"{self.prefix}:branches:{self._tag}:{self.conversation_id}"

    def branch_order(self, branch_id: str) -> str:
        """List of a branch's item sequence numbers, like `order` for the main branch.

        Branch ids cannot contain U+001F, so the separator keeps every pair apart.
        """
        if branch_id == MAIN_BRANCH:
            return self.order
        return f"{self.prefix}:branch:{self._tag}:{self.conversation_id}{TAG_SEPARATOR}{branch_id}"

    @cached_property
    def write_records(self) -> str:
        """Hash of the user's recent write ids and their outcomes, each field expiring."""
        return f"{self.prefix}:writes:{self._tag}"


def user_index_key(prefix: str, user_id: str) -> str:
    return f"{prefix}:user:{hash_tag(user_id)}"


def conversation_meta_prefix(prefix: str, user_id: str) -> str:
    return f"{prefix}:conv:{hash_tag(user_id)}:"


def tag_index_prefix(prefix: str, user_id: str) -> str:
    """Keys of a user's per-tag conversation lists start with this (`tag_sets.lua` too)."""
    return f"{prefix}:tag:{hash_tag(user_id)}:"


def tag_index_key(prefix: str, user_id: str, tag: str) -> str:
    """Sorted set of the user's conversation ids carrying `tag`, scored as the user's list.

    The tag follows the hash tag, so it needs no escaping: braces there do not move it.
    """
    return tag_index_prefix(prefix, user_id) + tag


def message_index_name(prefix: str) -> str:
    """The RedisVL MessageHistory index name over every conversation under `prefix`."""
    return f"{prefix}:messages"


def message_index_prefix(prefix: str) -> str:
    """The key prefix the message index covers (RedisVL adds the `:` separator)."""
    return f"{prefix}:msg"


def search_index_name(prefix: str) -> str:
    """The opt-in full-text index over the same messages as the message index."""
    return f"{prefix}:search"


def json_session_key(prefix: str, session_id: str) -> str:
    return f"{prefix}:json:{hash_tag(session_id)}"


def owned_json_prefix(prefix: str, user_id: str) -> str:
    """Keys of a user's JSON sessions start with this; the user's hash tag comes first."""
    return f"{prefix}:json:{hash_tag(user_id)}:"


def owned_json_session_key(prefix: str, user_id: str, session_id: str) -> str:
    """A JSON session with an owner lives in its user's slot, beside their conversations."""
    return owned_json_prefix(prefix, user_id) + session_id


def json_write_records_key(prefix: str, session_id: str) -> str:
    """Hash of a JSONSession's recent write ids and their outcomes, each field expiring."""
    return f"{prefix}:json-writes:{hash_tag(session_id)}"
