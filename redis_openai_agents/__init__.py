"""Persistent, multi-user OpenAI Agents SDK sessions in Redis."""

from ._base import TTL
from .agent_session import AgentSession
from .connection import DEFAULT_REDIS_URL, RedisClient
from .errors import (
    InvalidIdentifierError,
    InvalidItemError,
    InvalidRedisURLError,
    InvalidTTLError,
    RedisAuthenticationError,
    RedisCommandError,
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
    "TTL",
    "AgentSession",
    "InvalidIdentifierError",
    "InvalidItemError",
    "InvalidRedisURLError",
    "InvalidTTLError",
    "JSONSession",
    "RedisAuthenticationError",
    "RedisClient",
    "RedisCommandError",
    "RedisModuleMissingError",
    "RedisOpenAIAgentsError",
    "RedisUnavailableError",
    "SessionInfo",
    "SessionNotFoundError",
]

__version__ = "0.2.0"
