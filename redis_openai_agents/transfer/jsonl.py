"""The JSON Lines export format: one line per conversation, its items exactly as stored.

A line is a JSON object with `format`, `version`, `user_id`, `conversation_id`,
`current_agent`, `metadata` and `items`. Items keep their JSON types (ints stay ints,
`null`s stay), so an exported file imports back to JSON-equal items.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from .. import items as item_codec
from ..errors import TransferSourceError
from .conversation import Conversation

FORMAT = "redis-openai-agents/conversation"
VERSION = 1


def encode_line(conversation: Conversation) -> str:
    """One conversation as one line of JSON (no newline inside: JSON escapes them)."""
    return item_codec.dumps(
        {
            "format": FORMAT,
            "version": VERSION,
            "user_id": conversation.user_id,
            "conversation_id": conversation.conversation_id,
            "current_agent": conversation.current_agent,
            "metadata": conversation.metadata,
            "items": conversation.items,
        }
    )


def decode_line(line: str, where: str = "line") -> Conversation:
    """A conversation from one exported line.

    Raises:
        TransferSourceError: The line is not an exported conversation of this format.
    """
    try:
        record = json.loads(line)
    except ValueError as exc:
        raise TransferSourceError(f"{where}: not JSON ({exc})") from None
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise TransferSourceError(f"{where}: not a {FORMAT} record")
    if record.get("version") != VERSION:
        raise TransferSourceError(f"{where}: format version {record.get('version')!r} is unknown")
    items = record.get("items")
    conversation_id = record.get("conversation_id")
    if not isinstance(conversation_id, str) or not isinstance(items, list):
        raise TransferSourceError(f"{where}: needs a string conversation_id and a list of items")
    if not all(isinstance(item, dict) for item in items):
        raise TransferSourceError(f"{where}: every item must be a JSON object")
    user_id = record.get("user_id")
    agent = record.get("current_agent")
    metadata = record.get("metadata")
    return Conversation(
        conversation_id,
        items,
        user_id=user_id if isinstance(user_id, str) else None,
        current_agent=agent if isinstance(agent, str) else None,
        metadata=metadata if isinstance(metadata, dict) else {},
    )


def read_jsonl(source: str | Path | IO[str]) -> Iterator[Conversation]:
    """The conversations of a JSON Lines export, a file path or an open text file.

    Blank lines are ignored. A file is read one line at a time, so any size works.

    Raises:
        TransferSourceError: The file is missing or a line is not an exported conversation
            (the error names the line); the lines before it were read normally.
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.exists():
            raise TransferSourceError(f"{path}: no such file")
        if path.is_dir():
            raise TransferSourceError(f"{path}: is a directory, not a JSON Lines file")
        with path.open(encoding="utf-8") as file:
            yield from _lines(file, str(path))
    else:
        yield from _lines(source, getattr(source, "name", "input"))


def _lines(file: IO[str], name: str) -> Iterator[Conversation]:
    try:
        for number, line in enumerate(file, 1):
            if line.strip():
                yield decode_line(line, f"{name}:{number}")
    except UnicodeDecodeError as exc:
        raise TransferSourceError(f"{name}: not UTF-8 text ({exc.reason})") from None


def metadata_of(info: dict[str, Any]) -> dict[str, Any]:
    """A conversation's stored metadata as JSON values (times as ISO 8601 text)."""
    out: dict[str, Any] = {}
    for key in ("title", "created_at", "updated_at", "agents_used", "ttl"):
        value = info.get(key)
        if value is not None and value != "":
            out[key] = value.isoformat() if hasattr(value, "isoformat") else value
    return out
