"""Persistent, multi-user OpenAI Agents SDK sessions in Redis."""

from ._base import TTL
from .agent_session import AgentSession
from .connection import DEFAULT_REDIS_URL, RedisClient
from .erase import ErasedUser, aerase_user, erase_user
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
from .json_session import JSONSession
from .keys import DEFAULT_PREFIX
from .message_history import ConversationHistory
from .search import SearchHit
from .session_info import SessionInfo

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
