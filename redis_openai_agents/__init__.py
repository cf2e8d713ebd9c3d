"""Persistent, multi-user OpenAI Agents SDK sessions in Redis.

The sessions and helpers are imported on first use, so that the tools beside them
(`python -m redis_openai_agents.embedded`, the errors) start without importing the
Agents SDK and RedisVL, which take seconds.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    BranchDeletionError,
    BranchError,
    BranchExistsError,
    BranchNotFoundError,
    InvalidIdentifierError,
    InvalidItemError,
    InvalidRedisURLError,
    InvalidTagError,
    InvalidTTLError,
    JSONSessionNotFoundError,
    MessageIndexError,
    RedisAuthenticationError,
    RedisCommandError,
    RedisModuleMissingError,
    RedisOpenAIAgentsError,
    RedisUnavailableError,
    ReplicationTimeoutError,
    SearchNotEnabledError,
    SessionNotFoundError,
    TransferSourceError,
    TurnNotFoundError,
    WriteOutcomeUnknownError,
)
from .keys import DEFAULT_PREFIX

if TYPE_CHECKING:
    from ._base import TTL
    from .agent_session import AgentSession
    from .connection import DEFAULT_REDIS_URL, RedisClient
    from .erase import ErasedUser, aerase_user, erase_user
    from .json_session import JSONSession
    from .message_history import ConversationHistory
    from .search import SearchHit
    from .session_info import SessionInfo

_LAZY_EXPORTS = {
    "TTL": "._base",
    "AgentSession": ".agent_session",
    "DEFAULT_REDIS_URL": ".connection",
    "RedisClient": ".connection",
    "ErasedUser": ".erase",
    "aerase_user": ".erase",
    "erase_user": ".erase",
    "JSONSession": ".json_session",
    "ConversationHistory": ".message_history",
    "SearchHit": ".search",
    "SessionInfo": ".session_info",
}

__all__ = [
    "DEFAULT_PREFIX",
    "DEFAULT_REDIS_URL",
    "TTL",
    "AgentSession",
    "BranchDeletionError",
    "BranchError",
    "BranchExistsError",
    "BranchNotFoundError",
    "ConversationHistory",
    "ErasedUser",
    "InvalidIdentifierError",
    "InvalidItemError",
    "InvalidRedisURLError",
    "InvalidTTLError",
    "InvalidTagError",
    "JSONSession",
    "JSONSessionNotFoundError",
    "MessageIndexError",
    "RedisAuthenticationError",
    "RedisClient",
    "RedisCommandError",
    "RedisModuleMissingError",
    "RedisOpenAIAgentsError",
    "RedisUnavailableError",
    "ReplicationTimeoutError",
    "SearchHit",
    "SearchNotEnabledError",
    "SessionInfo",
    "SessionNotFoundError",
    "TransferSourceError",
    "TurnNotFoundError",
    "WriteOutcomeUnknownError",
    "aerase_user",
    "erase_user",
]

__version__ = "0.2.0"


def __getattr__(name: str) -> Any:
    """Import a session or helper the first time it is asked for."""
    module = _LAZY_EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
