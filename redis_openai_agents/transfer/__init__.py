"""Bringing conversations in from the SDK's sessions and 0.1.0, and taking them out.

Readers turn a source into [`Conversation`][redis_openai_agents.transfer.Conversation]s;
[`aimport_conversations`][redis_openai_agents.transfer.aimport_conversations] writes them
into `AgentSession` (idempotent and resumable), and
[`aexport_user`][redis_openai_agents.transfer.aexport_user] writes a user's conversations
as JSON Lines. `python -m redis_openai_agents --help` does the same from a shell.
"""

from .conversation import Conversation, TransferReport
from .copy import (
    aexport_user,
    aimport_conversations,
    aread_user,
    export_user,
    import_conversations,
)
from .jsonl import read_jsonl
from .sources import read_message_history, read_redis_sessions, read_sqlite

__all__ = [
    "Conversation",
    "TransferReport",
    "aexport_user",
    "aimport_conversations",
    "aread_user",
    "export_user",
    "import_conversations",
    "read_jsonl",
    "read_message_history",
    "read_redis_sessions",
    "read_sqlite",
]
