"""Turns, tool calls and previews read from a branch's items, as the SDK reports them.

A turn starts at each user message (`role == "user"`); items before the first one are
turn 0. What counts as a tool call, and a tool's name, is the SDK's own rule: its
`AdvancedSQLiteSession` classifies each item as it stores it, and the functions here ask
it the same questions, so the answers match whichever item types the installed SDK knows.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any, cast

from agents.extensions.memory.advanced_sqlite_session import AdvancedSQLiteSession

# Its classifiers read nothing of the session they are called on.
_SDK = cast(Any, AdvancedSQLiteSession)

_TOOL_CALL_TYPES = frozenset(
    {
        "tool_call",
        "function_call",
        "computer_call",
        "file_search_call",
        "web_search_call",
        "code_interpreter_call",
        "tool_search_call",
        "custom_tool_call",
        "mcp_call",
        "mcp_approval_request",
        "shell_call",
        "apply_patch_call",
    }
)
_NAMED_BY_TYPE = frozenset({"shell_call", "apply_patch_call"})


def is_user_message(item: Any) -> bool:
    """Whether an item starts a turn."""
    return isinstance(item, dict) and item.get("role") == "user"


def message_type(item: Any) -> str:
    """`user`, `assistant`, the item's `type`, or `other`."""
    return cast(str, _SDK._classify_message_type(None, item))


def tool_name(item: Any) -> str | None:
    """The tool an item calls or answers for, qualified as the SDK names it."""
    return cast("str | None", _SDK._extract_tool_name(None, item))


def numbered(items: Iterable[Any]) -> list[tuple[int, Any]]:
    """Each item with the number of the turn it belongs to."""
    turn = 0
    out = []
    for item in items:
        if is_user_message(item):
            turn += 1
        out.append((turn, item))
    return out


def by_turns(items: Iterable[Any]) -> dict[int, list[dict[str, str | None]]]:
    """Item types and tool names grouped by turn, in conversation order."""
    turns: dict[int, list[dict[str, str | None]]] = {}
    for turn, item in numbered(items):
        turns.setdefault(turn, []).append(
            {"type": message_type(item), "tool_name": tool_name(item)}
        )
    return turns


def tool_usage(items: Iterable[Any]) -> list[tuple[str, int, int]]:
    """(tool name, calls, turn) per tool and turn, by turn.

    A tool search answered without a call in the same turn counts once, as in the SDK.
    """
    counts: dict[tuple[int, str | None], int] = {}
    searches: list[tuple[int, str | None]] = []
    called: set[tuple[int, str | None]] = set()
    for turn, item in numbered(items):
        kind = message_type(item)
        name = tool_name(item)
        if kind in _TOOL_CALL_TYPES:
            if name is None and kind in _NAMED_BY_TYPE:
                name = kind
            counts[turn, name] = counts.get((turn, name), 0) + 1
            if kind == "tool_search_call":
                called.add((turn, name))
        elif kind == "tool_search_output":
            searches.append((turn, name))
    for key in searches:
        if key not in called:
            counts[key] = counts.get(key, 0) + 1
    ordered = sorted(
        counts.items(), key=lambda kv: (kv[0][0], kv[0][1] is not None, kv[0][1] or "")
    )
    return [cast("tuple[str, int, int]", (name, n, turn)) for (turn, name), n in ordered]


def preview(content: Any, max_length: int | None = None) -> str:
    """A user message's content as text, cut to `max_length` characters plus `...`."""
    text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
    if max_length is not None and len(text) > max_length:
        return text[:max_length] + "..."
    return text


def content_of(item: Any) -> Any:
    """A message's `content`: text, or a list of parts."""
    return item.get("content", "") if isinstance(item, dict) else ""


def contains(content: Any, search_term: str) -> bool:
    """Whether a message's text holds `search_term`, ignoring ASCII case (as SQL `LIKE`)."""
    pattern = re.compile(re.escape(search_term), re.IGNORECASE | re.ASCII)
    if isinstance(content, str):
        texts: Sequence[Any] = [content]
    elif isinstance(content, list):
        texts = [part.get("text", "") for part in content if isinstance(part, dict)]
    else:
        return False
    return any(isinstance(text, str) and pattern.search(text) for text in texts)


def turn_view(
    turn: int, item: Any, timestamp: float | None, max_length: int | None
) -> dict[str, Any]:
    """One user turn in the shape of `AdvancedSQLiteSession.get_conversation_turns`."""
    content = content_of(item)
    return {
        "turn": turn,
        "content": preview(content, max_length),
        "full_content": content,
        "timestamp": sql_timestamp(timestamp),
        "can_branch": True,
    }


def sql_timestamp(seconds: float | None) -> str | None:
    """Seconds since the epoch as SQLite's `CURRENT_TIMESTAMP` text (UTC), as the SDK shows."""
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
