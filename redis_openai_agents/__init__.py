"""Persistent, multi-user OpenAI Agents SDK sessions in Redis."""

from ._base import TTL
from .agent_session import AgentSession
from .connection import DEFAULT_REDIS_URL, RedisClient
from .errors import (
    InvalidIdentifierError,
    InvalidItemError,
    InvalidTTLError,
    RedisCommandError,
    RedisModuleMissingError,
    RedisOpenAIAgentsError,
    RedisUnavailableError,
    ReplicationTimeoutError,
    SessionNotFoundError,
    WriteOutcomeUnknownError,
)
from .json_session import JSONSession
from .keys import DEFAULT_PREFIX
from .session_info import SessionInfo

__all__ = [
    "DEFAULT_PREFIX",
    "DEFAULT_REDIS_URL",
    "TTL",
    "AgentSession",
    "InvalidIdentifierError",
    "InvalidItemError",
    "InvalidTTLError",
    "JSONSession",
    "RedisClient",
    "RedisCommandError",
    "RedisModuleMissingError",
    "RedisOpenAIAgentsError",
    "RedisUnavailableError",
    "ReplicationTimeoutError",
    "SessionInfo",
    "SessionNotFoundError",
    "WriteOutcomeUnknownError",
]

__version__ = "0.2.0"
