"""What `AgentSession.list_sessions` returns for each conversation."""

from __future__ import annotations

from datetime import datetime, timezone

from pydantic import BaseModel, ConfigDict


class SessionInfo(BaseModel):
    """A summary of one conversation, read from its metadata without touching its messages.

    Immutable. `str(info)` gives a one-line description for logs and listings. Times are
    timezone-aware UTC datetimes taken from the Redis server's clock.
    """

    model_config = ConfigDict(frozen=True)

    conversation_id: str
    """Pass it to `AgentSession.load` to open the conversation."""
    user_id: str
    """The conversation's owner."""
    created_at: datetime
    """When the conversation was first written (UTC)."""
    updated_at: datetime
    """When the conversation was last written to (UTC); the listing's sort key."""
    message_count: int
    """Entries of `get_messages()`: every stored item, tool calls and reasoning included."""
    title: str
    """The first user message, shortened to 60 characters.

    Whitespace is collapsed and a cut text ends with `…`; empty until the conversation has
    a user message.
    """
    last_agent: str | None = None
    """The agent last named by `store_agent_result` or `store_exchange`.

    None when neither named one: runs that save through `session=` do not record their
    agent.
    """
    expires_at: datetime | None = None
    """When the whole conversation expires unless written to again (UTC); None without ttl."""
    tags: tuple[str, ...] = ()
    """The conversation's tags (`AgentSession.set_tags`), in the order first given."""

    def __str__(self) -> str:
        title = f"'{self.title}'" if self.title else "(no user message yet)"
        agent = f", agent {self.last_agent}" if self.last_agent else ""
        plural = "" if self.message_count == 1 else "s"
        updated = self.updated_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        return (
            f"{self.conversation_id}: {title}, {self.message_count} message{plural}"
            f"{agent}, updated {updated}"
        )


def from_epoch(value: str | bytes | float | None) -> datetime | None:
    if value is None or value == b"" or value == "":
        return None
    return datetime.fromtimestamp(float(value), tz=timezone.utc)
