"""Persistent, multi-user OpenAI Agents SDK sessions in Redis."""

from .agent_session import AgentSession
from .connection import DEFAULT_REDIS_URL
from .errors import (
    InvalidIdentifierError,
    InvalidItemError,
    InvalidTTLError,
    RedisModuleMissingError,
    RedisOpenAIAgentsError,
    RedisUnavailableError,
    SessionNotFoundError,
)
from .json_session import JSONSession
from .keys import DEFAULT_PREFIX
from .session_info import SessionInfo

__all__ = [
    "DEFAULT_PREFIX",
    "DEFAULT_REDIS_URL",
    "AgentSession",
    "InvalidIdentifierError",
    "InvalidItemError",
    "InvalidTTLError",
    "JSONSession",
    "RedisModuleMissingError",
    "RedisOpenAIAgentsError",
    "RedisUnavailableError",
    "SessionInfo",
    "SessionNotFoundError",
]

__version__ = "0.2.0"
