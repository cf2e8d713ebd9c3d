"""Typed errors, so callers can react to what went wrong without parsing messages."""

from __future__ import annotations


class RedisOpenAIAgentsError(Exception):
    """Base class of every error this package raises on purpose."""


class SessionNotFoundError(RedisOpenAIAgentsError, LookupError):
    """The conversation does not exist for this user.

    Raised alike for a conversation that never existed, that expired, or that belongs to
    another user, so that a caller cannot probe for other users' conversation ids.
    """

    def __init__(self, conversation_id: str, user_id: str) -> None:
        super().__init__(f"No conversation {conversation_id!r} for user {user_id!r}")
        self.conversation_id = conversation_id
        """The id that was asked for."""
        self.user_id = user_id
        """The user it was asked for."""


class JSONSessionNotFoundError(SessionNotFoundError, ValueError):
    """`JSONSession.load` found no such session (for that owner).

    Also a `ValueError`, as redis-openai-agents 0.1.0 raised one.
    """

    def __init__(self, session_id: str, user_id: str | None) -> None:
        super().__init__(session_id, user_id or "")
        owner = "" if user_id is None else f" of user {user_id!r}"
        self.args = (f"JSON session {session_id!r}{owner} not found",)


class InvalidIdentifierError(RedisOpenAIAgentsError, ValueError):
    """A user, conversation or session id that cannot name a conversation."""


class InvalidTTLError(RedisOpenAIAgentsError, ValueError):
    """A ttl that is not a positive number of seconds."""


class InvalidItemError(RedisOpenAIAgentsError, TypeError):
    """An item that cannot be stored losslessly as JSON; nothing was written."""


class InvalidRedisURLError(RedisOpenAIAgentsError, ValueError):
    """A `redis_url` (or `$REDIS_URL`) that does not name a Redis server.

    Raised when the session is created, before anything is sent, with the accepted schemes
    in the message.
    """


class RedisUnavailableError(RedisOpenAIAgentsError, ConnectionError):
    """Redis could not be reached or refused the connection."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(self._message(url, reason))
        self.url = url
        """The server's URL, with any password masked."""
        self.reason = reason
        """What went wrong, in redis-py's words or ours."""

    @staticmethod
    def _message(url: str, reason: str) -> str:
        return f"Cannot reach Redis at {url}: {reason}"


class RedisAuthenticationError(RedisUnavailableError):
    """The server was reached but refused the credentials: none given, or wrong ones."""

    @staticmethod
    def _message(url: str, reason: str) -> str:
        return f"Redis at {url}: authentication failed. {reason}"


class RedisModuleMissingError(RedisOpenAIAgentsError, RuntimeError):
    """The Redis server lacks a capability this session type needs.

    `AgentSession` needs the Query Engine (`FT.*` commands) and `JSONSession` the JSON data
    type; Redis 8 and Redis Stack 7.4+ have both. The Query Engine only works in database
    0, so keep `AgentSession` data there.
    """

    def __init__(self, capability: str, url: str) -> None:
        super().__init__(
            f"The Redis server at {url} has no {capability}. Redis 8 or Redis Stack 7.4 "
            "provides it; `docker compose up -d` in a clone of the redis-openai-agents "
            "repository starts one."
        )
        self.capability = capability
        """What is missing, e.g. `Query Engine (RediSearch module, FT.* commands)`."""
        self.url = url
        """The server's URL, with any password masked."""


class RedisCommandError(RedisOpenAIAgentsError, RuntimeError):
    """Redis refused a command (out of memory, read-only replica, ACL, wrong key type...).

    The redis-py exception is kept as `__cause__`.
    """

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"Redis at {url} refused the command: {reason}")
        self.url = url
        self.reason = reason


class TransferSourceError(RedisOpenAIAgentsError, ValueError):
    """Data to import or export that cannot be read as what it was said to be.

    A missing file, a file that is not an SDK `SQLiteSession` database, a JSON Lines line
    that is not an exported conversation: nothing was written for the source it names.
    """


class WriteOutcomeUnknownError(RedisUnavailableError):
    """A write was sent but no reply came before the retry bound ran out.

    It may or may not have been applied. Repeating the same call with the same arguments
    on the same session object (within five minutes) re-sends it under its first write id,
    so it is applied at most once and answers with its first outcome.
    """


class ReplicationTimeoutError(RedisOpenAIAgentsError, TimeoutError):
    """A write was applied on the master but fewer replicas than asked acknowledged it.

    Raised by sessions created with `wait_replicas=`. The write may still reach the
    replicas later, or be lost in a failover; repeating the same call with the same
    arguments on the same session object re-sends it under its first write id, so it is
    applied at most once and answers with its first outcome.
    """

    def __init__(self, url: str, acknowledged: int, required: int, timeout: float) -> None:
        super().__init__(
            f"Redis at {url}: {acknowledged} of {required} replica(s) acknowledged the write "
            f"within {timeout:g} s"
        )
        self.url = url
        """The master's URL, with any password masked."""
        self.acknowledged = acknowledged
        """How many replicas acknowledged the write in time."""
        self.required = required
        """The `wait_replicas` asked for."""


class BranchError(RedisOpenAIAgentsError, ValueError):
    """A branch operation that cannot be done as asked; nothing was changed.

    A `ValueError`, as the SDK's `AdvancedSQLiteSession` raises, so code written for it
    keeps catching these.
    """


class BranchNotFoundError(BranchError, LookupError):
    """No live branch of that id in this conversation (never created, or deleted)."""

    def __init__(self, branch_id: str) -> None:
        super().__init__(f"Branch '{branch_id}' does not exist")
        self.branch_id = branch_id
        """The id that was asked for."""


class BranchExistsError(BranchError):
    """A branch name already used in this conversation; ids are never reused."""

    def __init__(self, branch_id: str) -> None:
        super().__init__(f"Branch ID '{branch_id}' has already been used. Choose a new branch ID.")
        self.branch_id = branch_id
        """The name that was asked for."""


class BranchDeletionError(BranchError):
    """A branch that may not be deleted: `main`, or the current one without `force=True`."""

    def __init__(self, branch_id: str, reason: str) -> None:
        super().__init__(reason)
        self.branch_id = branch_id
        """The branch that was to be deleted."""


class TurnNotFoundError(BranchError, LookupError):
    """No user turn of that number (or matching that text) on the branch."""


class InvalidTagError(RedisOpenAIAgentsError, ValueError):
    """A conversation tag that cannot be stored: not a string, empty, too long, or with
    control characters or surrounding spaces; nothing was written."""


class MessageIndexError(RedisOpenAIAgentsError, RuntimeError):
    """The `MessageHistory` index of a key prefix could not be created on every master.

    On a Redis Cluster each master gets an index of its own, named by a slot it serves;
    when that slot moves while the indexes are being created, call
    `AgentSession.enable_message_index(prefix=...)` again.
    """

    def __init__(self, prefix: str, reason: str) -> None:
        super().__init__(f"The message index of prefix {prefix!r} is incomplete: {reason}")
        self.prefix = prefix
        """The key prefix whose index was being created."""
        self.reason = reason
        """What went wrong."""


class SearchNotEnabledError(RedisOpenAIAgentsError, LookupError):
    """Full-text search was asked of a key prefix whose search index does not exist.

    Search is opt-in, so that applications that never search pay nothing on their writes:
    `AgentSession.enable_search(prefix=...)` creates the index once per prefix, and the
    server then indexes the messages already stored and every later one.
    """

    def __init__(self, prefix: str, url: str, reason: str | None = None) -> None:
        super().__init__(
            reason
            or f"Full-text search is not enabled for prefix {prefix!r} on {url}: call "
            f"AgentSession.enable_search(prefix={prefix!r}) once, then search."
        )
        self.prefix = prefix
        """The key prefix that was searched."""
        self.url = url
        """The server's URL, with any password masked."""
