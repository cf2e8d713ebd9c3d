"""What moves between stores: one conversation with its items, and what an import did."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Conversation:
    """One conversation read from a source, ready to be written elsewhere.

    `items` are the SDK's items exactly as the source held them. `user_id` is None for
    sources that have no users (the SDK's sessions, 0.1.0's message history); the import
    then needs one.
    """

    conversation_id: str
    items: list[dict[str, Any]]
    user_id: str | None = None
    current_agent: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    """What the source said about the conversation (times, title), kept for reference."""


@dataclass
class TransferReport:
    """What an import did, per conversation; running it again only moves `unchanged` up.

    A conversation already stored with exactly the source's items is `unchanged`; one
    stored with the first part of them (an import that was interrupted, or a source that
    grew since) is `resumed` from where it stops; one whose stored items differ from the
    source's is left as it is and named in `conflicts`.
    """

    conversations: int = 0
    """Conversations read from the source."""
    created: int = 0
    """Conversations that did not exist and were written whole."""
    resumed: int = 0
    """Conversations that held a first part of the source's items and were completed."""
    unchanged: int = 0
    """Conversations that already held exactly the source's items."""
    items_written: int = 0
    """Items appended, over all conversations."""
    conflicts: list[str] = field(default_factory=list)
    """Ids of conversations whose stored items are not a first part of the source's."""
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """Conversations that could not be imported, with the reason (e.g. an invalid id)."""
