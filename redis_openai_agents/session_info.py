"""What `AgentSession.list_sessions` returns for each conversation."""

from __future__ import annotations

from datetime import datetime, timezone

from pydantic import BaseModel, ConfigDict


class SessionInfo(BaseModel):
    """A summary of one conversation, read from its metadata without touching its messages."""

    model_config = ConfigDict(frozen=True)

    conversation_id: str
    user_id: str
    created_at: datetime
    updated_at: datetime
    message_count: int
    """Entries of `get_messages()`: every stored item, tool calls and reasoning included."""
    title: str
    last_agent: str | None = None
    expires_at: datetime | None = None

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
