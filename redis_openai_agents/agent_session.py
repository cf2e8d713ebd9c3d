"""AgentSession: a user's conversation with agents, stored in Redis hashes.

Each item is one hash in RedisVL MessageHistory's schema (readable by MessageHistory),
with the complete SDK item in its `metadata` field so nothing a run produced is lost.
Order comes from a per-conversation sequence number assigned inside Redis.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import redis.asyncio as aioredis
from agents.items import TResponseInputItem
from agents.memory import SessionSettings
from redis.exceptions import NoPermissionError, ResponseError

from . import items as item_codec
from . import scripts
from ._base import TTL, RedisBackedSession, validate_limit
from .compaction import ConversationCompaction
from .connection import RedisClient
from .durability import DEFAULT_WAIT_TIMEOUT
from .errors import BranchNotFoundError, InvalidItemError, SessionNotFoundError
from .keys import (
    DEFAULT_PREFIX,
    MAIN_BRANCH,
    ConversationKeys,
    conversation_meta_prefix,
    message_index_prefix,
    user_index_key,
    validate_id,
)
from .message_history import MessageHistoryAccess
from .retry import DEFAULT_RETRY_TIMEOUT
from .search import ConversationSearch
from .session_info import SessionInfo, from_epoch
from .tags import ConversationTags, decode_stored, list_tagged, validate_tags
from .turns import is_user_message
from .usage import UsageMixin

_INFO_FIELDS = (
    "user_id",
    "created_at",
    "updated_at",
    "count",
    "title",
    "last_agent",
    "expires_at_ms",
    "tags",
)
_MESSAGE_FIELDS = ("metadata", "role", "content", "tool_call_id", "timestamp", "extra")
_TITLE_WIDTH = 60
_HOLE_RETRIES = 12


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class AgentSession(
    ConversationSearch,
    ConversationTags,
    UsageMixin,
    ConversationCompaction,
    MessageHistoryAccess,
    RedisBackedSession,
):
    """A persistent, multi-user conversation usable as an OpenAI Agents SDK session.

    Pass it to `Runner.run(agent, input, session=session)`, or store results by hand with
    [`store_agent_result`][redis_openai_agents.AgentSession.store_agent_result].
    Conversation ids are scoped to their user: every key of a user's conversations shares
    one Redis Cluster hash tag, and another user cannot load them.

    Any call that reaches Redis raises
    [`RedisUnavailableError`][redis_openai_agents.RedisUnavailableError] when the server
    cannot be reached (after retrying for `retry_timeout` seconds). A conversation needs
    no Redis module; RedisVL `MessageHistory` reads and full-text search need the Query
    Engine, and raise
    [`RedisModuleMissingError`][redis_openai_agents.RedisModuleMissingError] without it.
    Every write is applied at most once however often it is
    re-sent; see [`WriteOutcomeUnknownError`][redis_openai_agents.WriteOutcomeUnknownError]
    and, with `wait_replicas`,
    [`ReplicationTimeoutError`][redis_openai_agents.ReplicationTimeoutError].

    Example:
        ```python
        from agents import Agent, Runner
        from redis_openai_agents import AgentSession

        agent = Agent(name="assistant", instructions="Be brief.")
        session = AgentSession.create(user_id="alice", ttl=3600)
        Runner.run_sync(agent, "My name is Alice.", session=session)

        # Later, in any process that reaches the same Redis:
        session = AgentSession.load(session.conversation_id, user_id="alice")
        for info in AgentSession.list_sessions(user_id="alice"):
            print(info)
        ```
    """

    def __init__(
        self,
        conversation_id: str,
        *,
        user_id: str,
        redis_url: str | None = None,
        ttl: TTL | None = None,
        redis_client: RedisClient | None = None,
        prefix: str = DEFAULT_PREFIX,
        session_settings: SessionSettings | dict[str, Any] | None = None,
        retry_timeout: float = DEFAULT_RETRY_TIMEOUT,
        wait_replicas: int = 0,
        wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
    ) -> None:
        """Name a conversation; nothing is sent to Redis until the first call.

        A conversation opened this way appears in
        [`list_sessions`][redis_openai_agents.AgentSession.list_sessions] only after its
        first write; [`create`][redis_openai_agents.AgentSession.create] records it at once,
        and [`load`][redis_openai_agents.AgentSession.load] checks that it exists.

        Args:
            conversation_id: Any non-empty string up to 4096 characters without NUL or
                U+001F. Scoped to the user: the same id under two users names two
                conversations.
            user_id: The conversation's owner, with the same rules as `conversation_id`.
            redis_url: The server: this argument, then `$REDIS_URL`, then
                `redis://localhost:6379`. Sessions with the same URL share one
                connection pool per event loop.
            ttl: Expiry in seconds or as a `timedelta`. It slides: every write moves the
                expiry of every key of the conversation to `ttl` after that write, so the
                conversation never half-expires; reads do not extend it. None keeps the
                ttl stored with the conversation, so a new conversation then has none.
            redis_client: A `redis.Redis` or `redis.asyncio.Redis` to use instead of a
                URL, for settings a URL cannot carry. The session never closes it.
            prefix: First part of every key and of the search index name, so several
                applications can share one Redis. Must not contain `{` or `}`, which
                would move the Cluster hash tag.
            session_settings: The SDK's `SessionSettings`; its `limit` applies when
                [`get_items`][redis_openai_agents.AgentSession.get_items] gets none.
            retry_timeout: Seconds the server may stay unreachable (counted from the
                first failed attempt) while a call retries, before it raises
                [`RedisUnavailableError`][redis_openai_agents.RedisUnavailableError].
                Retried writes are applied once; 0 disables retries.
            wait_replicas: How many replicas must acknowledge each write (`WAIT`, in the
                same round trip; on a cluster, straight after it on the same master)
                before it returns; 0 returns once the master applied it.
            wait_timeout: Seconds a write waits for those acknowledgements before raising
                [`ReplicationTimeoutError`][redis_openai_agents.ReplicationTimeoutError].

        Raises:
            InvalidIdentifierError: An id or the prefix is not allowed.
            InvalidTTLError: `ttl` is not a positive number of seconds.
            ValueError: Both `redis_url` and `redis_client` were given, or a retry or
                replication setting is out of range.
            TypeError: `redis_client` is not a redis-py client.
        """
        self.conversation_id = validate_id(conversation_id, "conversation_id")
        """The conversation's id, unique within its user."""
        self.user_id = validate_id(user_id, "user_id")
        """The conversation's owner."""
        super().__init__(
            redis_url=redis_url,
            redis_client=redis_client,
            ttl=ttl,
            prefix=prefix,
            session_settings=session_settings,
            retry_timeout=retry_timeout,
            wait_replicas=wait_replicas,
            wait_timeout=wait_timeout,
        )
        self._keys = ConversationKeys(self.prefix, self.user_id, self.conversation_id)
        self._entry_prefix = self._keys.message_prefix[len(message_index_prefix(self.prefix)) + 1 :]
        self._current_agent: str | None = None

    @property
    def session_id(self) -> str:
        """The SDK's name for the conversation id."""
        return self.conversation_id

    def __repr__(self) -> str:
        return (
            f"AgentSession(conversation_id={self.conversation_id!r}, "
            f"user_id={self.user_id!r}, redis_url={self.redis_url!r})"
        )

    # Opening, loading, listing
    #
    # The classmethods below take the constructor's keyword options by name, so that IDEs
    # and the reference show them; each passes them on unchanged.

    @classmethod
    async def acreate(
        cls,
        user_id: str,
        redis_url: str | None = None,
        ttl: TTL | None = None,
        *,
        conversation_id: str | None = None,
        redis_client: RedisClient | None = None,
        prefix: str = DEFAULT_PREFIX,
        session_settings: SessionSettings | dict[str, Any] | None = None,
        retry_timeout: float = DEFAULT_RETRY_TIMEOUT,
        wait_replicas: int = 0,
        wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
    ) -> AgentSession:
        """Start a conversation and record it in the user's list straight away.

        Args:
            user_id: The conversation's owner.
            redis_url: The server, as for the constructor.
            ttl: Sliding expiry in seconds or as a `timedelta`; None for none.
            conversation_id: The new conversation's id; by default a random UUID hex. An
                existing conversation of that id is continued, not replaced.
            redis_client: A redis-py client to use instead of a URL, as for the constructor.
            prefix: The key prefix, as for the constructor.
            session_settings: The SDK's `SessionSettings`, as for the constructor.
            retry_timeout: Seconds the server may stay unreachable, as for the constructor.
            wait_replicas: Replicas that must acknowledge each write, as for the constructor.
            wait_timeout: Seconds a write waits for them, as for the constructor.

        Returns:
            The session, already listed by
                [`list_sessions`][redis_openai_agents.AgentSession.list_sessions].
        """
        session = cls(
            uuid.uuid4().hex if conversation_id is None else conversation_id,
            user_id=user_id,
            redis_url=redis_url,
            ttl=ttl,
            redis_client=redis_client,
            prefix=prefix,
            session_settings=session_settings,
            retry_timeout=retry_timeout,
            wait_replicas=wait_replicas,
            wait_timeout=wait_timeout,
        )
        try:
            await session._append([])
        except BaseException:
            await session.aclose()
            raise
        return session

    @classmethod
    def create(
        cls,
        user_id: str,
        redis_url: str | None = None,
        ttl: TTL | None = None,
        *,
        conversation_id: str | None = None,
        redis_client: RedisClient | None = None,
        prefix: str = DEFAULT_PREFIX,
        session_settings: SessionSettings | dict[str, Any] | None = None,
        retry_timeout: float = DEFAULT_RETRY_TIMEOUT,
        wait_replicas: int = 0,
        wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
    ) -> AgentSession:
        """Blocking version of [`acreate`][redis_openai_agents.AgentSession.acreate].

        Same arguments, result and errors; works inside a running event loop
        (a Jupyter cell) too.
        """
        return cls._sync(
            cls.acreate(
                user_id,
                redis_url,
                ttl,
                conversation_id=conversation_id,
                redis_client=redis_client,
                prefix=prefix,
                session_settings=session_settings,
                retry_timeout=retry_timeout,
                wait_replicas=wait_replicas,
                wait_timeout=wait_timeout,
            )
        )

    @classmethod
    async def aload(
        cls,
        conversation_id: str,
        user_id: str,
        redis_url: str | None = None,
        *,
        ttl: TTL | None = None,
        redis_client: RedisClient | None = None,
        prefix: str = DEFAULT_PREFIX,
        session_settings: SessionSettings | dict[str, Any] | None = None,
        retry_timeout: float = DEFAULT_RETRY_TIMEOUT,
        wait_replicas: int = 0,
        wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
    ) -> AgentSession:
        """Open an existing conversation of this user.

        Loading reads only the metadata and does not extend the expiry. The conversation
        keeps the ttl stored with it unless `ttl=` is passed, which then applies from the
        next write on.

        Args:
            conversation_id: The conversation to open.
            user_id: Its owner.
            redis_url: The server, as for the constructor.
            ttl: A new sliding expiry from the next write on; None keeps the stored one.
            redis_client: A redis-py client to use instead of a URL, as for the constructor.
            prefix: The key prefix the conversation was created with.
            session_settings: The SDK's `SessionSettings`, as for the constructor.
            retry_timeout: Seconds the server may stay unreachable, as for the constructor.
            wait_replicas: Replicas that must acknowledge each write, as for the constructor.
            wait_timeout: Seconds a write waits for them, as for the constructor.

        Returns:
            The session, with [`current_agent`][redis_openai_agents.AgentSession.current_agent]
                set from the stored metadata.

        Raises:
            SessionNotFoundError: The conversation never existed, expired, or belongs to
                another user; the three cases are indistinguishable on purpose.
        """
        session = cls(
            conversation_id,
            user_id=user_id,
            redis_url=redis_url,
            ttl=ttl,
            redis_client=redis_client,
            prefix=prefix,
            session_settings=session_settings,
            retry_timeout=retry_timeout,
            wait_replicas=wait_replicas,
            wait_timeout=wait_timeout,
        )
        try:
            meta = session._keys.meta
            agent = await session._connection.call(
                lambda client: client.hmget(meta, ["user_id", "last_agent", "tags"])
            )
        except BaseException:
            await session.aclose()
            raise
        if agent[0] is None:
            await session.aclose()
            raise SessionNotFoundError(conversation_id, user_id)
        session._current_agent = None if agent[1] is None else _text(agent[1])
        session._known_tags = decode_stored(agent[2])
        return session

    @classmethod
    def load(
        cls,
        conversation_id: str,
        user_id: str,
        redis_url: str | None = None,
        *,
        ttl: TTL | None = None,
        redis_client: RedisClient | None = None,
        prefix: str = DEFAULT_PREFIX,
        session_settings: SessionSettings | dict[str, Any] | None = None,
        retry_timeout: float = DEFAULT_RETRY_TIMEOUT,
        wait_replicas: int = 0,
        wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
    ) -> AgentSession:
        """Blocking version of [`aload`][redis_openai_agents.AgentSession.aload].

        Same arguments, result and errors; works inside a running event loop
        (a Jupyter cell) too.
        """
        return cls._sync(
            cls.aload(
                conversation_id,
                user_id,
                redis_url,
                ttl=ttl,
                redis_client=redis_client,
                prefix=prefix,
                session_settings=session_settings,
                retry_timeout=retry_timeout,
                wait_replicas=wait_replicas,
                wait_timeout=wait_timeout,
            )
        )

    @classmethod
    async def alist_sessions(
        cls,
        user_id: str,
        redis_url: str | None = None,
        limit: int = 50,
        offset: int = 0,
        *,
        redis_client: RedisClient | None = None,
        prefix: str = DEFAULT_PREFIX,
        tags: Iterable[str] | None = None,
    ) -> list[SessionInfo]:
        """One page of the user's conversations, most recently updated first.

        Reads the user's own sorted set and each listed conversation's metadata in one
        script: the cost grows with the page, never with the size of the database.
        Listing does not extend any expiry.

        Args:
            user_id: Whose conversations to list.
            redis_url: The server, as for the constructor.
            limit: Page size; 0 returns an empty list.
            offset: How many of the most recently updated conversations to skip.
            redis_client: A redis-py client to use instead of a URL, as for the constructor.
            prefix: The key prefix the conversations were created with.
            tags: Only conversations carrying every one of these tags (see
                [`set_tags`][redis_openai_agents.AgentSession.set_tags]), in the same
                order; None or `[]` lists all. One tag costs a page, as without tags;
                several cost more when few conversations carry them all.

        Returns:
            One [`SessionInfo`][redis_openai_agents.SessionInfo] per conversation, the
                most recently written first.

        Raises:
            ValueError: `limit` or `offset` is negative or not an integer.
            InvalidTagError: A tag is not allowed, or `tags` is a single string.
        """
        page = validate_limit(limit)
        start = validate_limit(offset)
        wanted = validate_tags(tags) if tags is not None else []
        probe = cls(
            "_", user_id=user_id, redis_url=redis_url, redis_client=redis_client, prefix=prefix
        )
        try:
            if not page:
                return []
            keys = [user_index_key(probe.prefix, probe.user_id)]
            args = [conversation_meta_prefix(probe.prefix, probe.user_id), start, page]
            if wanted:
                rows = await list_tagged(
                    probe._connection,
                    probe.prefix,
                    probe.user_id,
                    wanted,
                    start or 0,
                    page,
                    _INFO_FIELDS,
                )
            else:
                rows = await probe._connection.call(
                    lambda client: scripts.LIST(client, keys, [*args, *_INFO_FIELDS])
                )
        finally:
            probe._connection.release()
        return [_session_info(row[0], row[1:]) for row in item_codec.decode(rows)]

    @classmethod
    def list_sessions(
        cls,
        user_id: str,
        redis_url: str | None = None,
        limit: int = 50,
        offset: int = 0,
        *,
        redis_client: RedisClient | None = None,
        prefix: str = DEFAULT_PREFIX,
        tags: Iterable[str] | None = None,
    ) -> list[SessionInfo]:
        """Blocking version of [`alist_sessions`][redis_openai_agents.AgentSession.alist_sessions].

        Same arguments, result and errors; works inside a running event loop
        (a Jupyter cell) too.
        """
        return cls._sync(
            cls.alist_sessions(
                user_id,
                redis_url,
                limit,
                offset,
                redis_client=redis_client,
                prefix=prefix,
                tags=tags,
            )
        )

    @classmethod
    async def alist_conversations(
        cls,
        user_id: str,
        redis_url: str | None = None,
        limit: int = 50,
        offset: int = 0,
        *,
        ttl: TTL | None = None,
        redis_client: RedisClient | None = None,
        prefix: str = DEFAULT_PREFIX,
        session_settings: SessionSettings | dict[str, Any] | None = None,
        retry_timeout: float = DEFAULT_RETRY_TIMEOUT,
        wait_replicas: int = 0,
        wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
        tags: Iterable[str] | None = None,
    ) -> list[AgentSession]:
        """One page of the user's conversations as sessions, most recently updated first.

        Args:
            user_id: Whose conversations to list.
            redis_url: The server, as for the constructor.
            limit: Page size, as for
                [`list_sessions`][redis_openai_agents.AgentSession.list_sessions].
            offset: How many of the most recently updated conversations to skip.
            ttl: The ttl the returned sessions write with; None keeps each stored one.
            redis_client: A redis-py client to use instead of a URL, as for the constructor.
            prefix: The key prefix the conversations were created with.
            session_settings: The SDK's `SessionSettings` for the returned sessions.
            retry_timeout: Seconds the server may stay unreachable, as for the constructor.
            wait_replicas: Replicas that must acknowledge each write, as for the constructor.
            wait_timeout: Seconds a write waits for them, as for the constructor.
            tags: Only conversations carrying every one of these tags, as for
                [`list_sessions`][redis_openai_agents.AgentSession.list_sessions].

        Returns:
            Sessions ready to use, without another round trip each.
        """
        infos = await cls.alist_sessions(
            user_id, redis_url, limit, offset, redis_client=redis_client, prefix=prefix, tags=tags
        )
        return [
            cls(
                info.conversation_id,
                user_id=user_id,
                redis_url=redis_url,
                ttl=ttl,
                redis_client=redis_client,
                prefix=prefix,
                session_settings=session_settings,
                retry_timeout=retry_timeout,
                wait_replicas=wait_replicas,
                wait_timeout=wait_timeout,
            )
            for info in infos
        ]

    @classmethod
    def list_conversations(
        cls,
        user_id: str,
        redis_url: str | None = None,
        limit: int = 50,
        offset: int = 0,
        *,
        ttl: TTL | None = None,
        redis_client: RedisClient | None = None,
        prefix: str = DEFAULT_PREFIX,
        session_settings: SessionSettings | dict[str, Any] | None = None,
        retry_timeout: float = DEFAULT_RETRY_TIMEOUT,
        wait_replicas: int = 0,
        wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
        tags: Iterable[str] | None = None,
    ) -> list[AgentSession]:
        """Blocking version of `alist_conversations`.

        Same arguments, result and errors; works inside a running event loop
        (a Jupyter cell) too.
        """
        return cls._sync(
            cls.alist_conversations(
                user_id,
                redis_url,
                limit,
                offset,
                ttl=ttl,
                redis_client=redis_client,
                prefix=prefix,
                session_settings=session_settings,
                retry_timeout=retry_timeout,
                wait_replicas=wait_replicas,
                wait_timeout=wait_timeout,
                tags=tags,
            )
        )

    # The Agents SDK session protocol

    async def get_items(
        self, limit: int | None = None, branch_id: str | None = None
    ) -> list[TResponseInputItem]:
        """The latest items, oldest first, exactly as they were stored.

        Args:
            limit: How many of the latest items. None uses `session_settings.limit`, and
                returns every item when that is unset too; 0 returns `[]`.
            branch_id: The branch to read; None for the
                [current one][redis_openai_agents.AgentSession.current_branch_id]. A
                branch that does not exist reads as empty, as in the SDK.

        Raises:
            ValueError: `limit` is negative or not an integer.
        """
        effective = self._item_limit(limit)
        if effective == 0:
            return []
        order = self._order_of(branch_id)
        pause = 0.01
        for _ in range(_HOLE_RETRIES):
            raws = await self._connection.call(
                lambda client: self._read_items(client, effective, order)
            )
            items = item_codec.decode_joined(raws)
            if items is not None:
                return items
            # As in `_read`: an item listed but not found is looked for again first.
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.2)
        return item_codec.decode_many([raw for raw in raws if raw is not None])

    async def add_items(self, items: list[TResponseInputItem]) -> None:
        """Append a batch atomically: all of it, contiguous and in order, or none of it.

        Raises:
            InvalidItemError: An item is not a dict or cannot be stored as JSON; nothing
                is written.
        """
        batch = item_codec.normalize_items(items)
        if batch:
            await self._append(batch)

    async def pop_item(self) -> TResponseInputItem | None:
        """Remove and return the latest item of the current branch.

        This is a write: the count, `updated_at` and the sliding expiry move with it. An
        item another branch still holds stays stored for that branch; popping a turn's
        user message drops the turn and its usage.

        Returns:
            The removed item, or None when the branch holds none.
        """
        branch = self._branch

        async def send() -> Any:
            keys = [*self._conversation_keys, *self._other_orders(branch), *self._tag_keys()]
            args = [self._keys.message_prefix, self.conversation_id, branch, self._live]
            return await self._write(scripts.POP, keys, args)

        raw = await self._with_tags(lambda: self._with_branches(send))
        return None if raw is None else item_codec.decode(raw)

    async def clear_session(self) -> None:
        """Delete the conversation: messages, metadata and its entry in the user's list."""
        await self.aclear()

    # Guide API

    async def astore_agent_result(self, result: Any) -> int:
        """Store what a `Runner.run` result adds to this conversation.

        The result's items are lined up against the end of the stored conversation, so
        history it was given (the guide's `history + [message]` pattern), a run that saved
        itself through `session=`, and a result stored twice are not stored again. Items
        are compared whole, model-assigned ids included: with the Responses API every reply
        has its own id, so a repeated exchange is still stored; with a model that reuses
        one placeholder id, an exchange identical to the last one stored is taken as stored.

        Args:
            result: A `RunResult` (anything with `to_input_list()`); its `last_agent`
                becomes [`current_agent`][redis_openai_agents.AgentSession.current_agent].

        Returns:
            How many items were appended.
        """
        full = item_codec.normalize_items(result.to_input_list())
        stored_tail = await self.get_items(limit=len(full)) if full else []
        overlap = item_codec.new_input_items(full, stored_tail)
        agent = getattr(getattr(result, "last_agent", None), "name", None)
        await self._append(full[overlap:], agent=agent)
        return len(full) - overlap

    def store_agent_result(self, result: Any) -> int:
        """Blocking version of `astore_agent_result`.

        Same arguments, result and errors as
        [`astore_agent_result`][redis_openai_agents.AgentSession.astore_agent_result];
        works inside a running event loop (a Jupyter cell) too.
        """
        return self._sync(self.astore_agent_result(result))

    async def aget_messages(
        self, limit: int | None = None, *, top_k: int | None = None
    ) -> list[dict[str, Any]]:
        """The conversation as readable dicts, oldest first, for display and logs.

        Every item appears, tool calls and reasoning included, rendered as text; use
        [`get_items`][redis_openai_agents.AgentSession.get_items] for the SDK items
        themselves.

        Args:
            limit: How many of the latest entries; None for all.
            top_k: Alias of `limit`, as in RedisVL's `MessageHistory`.

        Returns:
            Dicts with `role`, `content`, `type` (the SDK item type), `timestamp`
                (server time in seconds), `tool_call_id` when the item has one, and
                `metadata` when [`add_message`][redis_openai_agents.AgentSession.add_message]
                got keyword arguments.

        Raises:
            ValueError: `limit` is negative or not an integer.
        """
        effective = validate_limit(limit if limit is not None else top_k)
        rows = await self._read(_MESSAGE_FIELDS, effective)
        return [_message_view(row) for row in rows]

    def get_messages(
        self, limit: int | None = None, *, top_k: int | None = None
    ) -> list[dict[str, Any]]:
        """Blocking version of [`aget_messages`][redis_openai_agents.AgentSession.aget_messages].

        Same arguments, result and errors; works inside a running event loop
        (a Jupyter cell) too.
        """
        return self._sync(self.aget_messages(limit, top_k=top_k))

    async def ato_agent_inputs(self) -> list[TResponseInputItem]:
        """The whole conversation as SDK input items, exactly as they were stored."""
        return await self.get_items()

    def to_agent_inputs(self) -> list[TResponseInputItem]:
        """Blocking version of `ato_agent_inputs`.

        See [`ato_agent_inputs`][redis_openai_agents.AgentSession.ato_agent_inputs]; works
        inside a running event loop (a Jupyter cell) too.
        """
        return self._sync(self.ato_agent_inputs())

    async def aadd_message(self, role: str, content: str, **metadata: Any) -> None:
        """Append one plain message, for history that did not come from a run.

        Args:
            role: Usually `user` or `assistant`.
            content: The message text.
            **metadata: JSON values kept beside the message (not sent to the model);
                [`get_messages`][redis_openai_agents.AgentSession.get_messages] returns
                them under `metadata`.

        Raises:
            InvalidItemError: A metadata value cannot be stored as JSON; nothing is
                written.
        """
        item: dict[str, Any] = {"role": role, "content": content}
        await self._append([item], extras=[metadata] if metadata else None)

    def add_message(self, role: str, content: str, **metadata: Any) -> None:
        """Blocking version of [`aadd_message`][redis_openai_agents.AgentSession.aadd_message].

        Same arguments, result and errors; works inside a running event loop
        (a Jupyter cell) too.
        """
        self._sync(self.aadd_message(role, content, **metadata))

    async def astore_exchange(
        self, user_message: str, assistant_response: str, agent_name: str | None = None
    ) -> None:
        """Append a user message and the assistant's reply together, atomically.

        Args:
            user_message: What the user said.
            assistant_response: The reply.
            agent_name: The agent that replied; becomes
                [`current_agent`][redis_openai_agents.AgentSession.current_agent] and the
                listing's `last_agent`.
        """
        exchange: list[Any] = [
            {"role": "user", "content": user_message},
            {"role": "assistant", "content": assistant_response},
        ]
        await self._append(exchange, agent=agent_name)

    def store_exchange(
        self, user_message: str, assistant_response: str, agent_name: str | None = None
    ) -> None:
        """Blocking version of `astore_exchange`.

        Same arguments, result and errors as
        [`astore_exchange`][redis_openai_agents.AgentSession.astore_exchange];
        works inside a running event loop (a Jupyter cell) too.
        """
        self._sync(self.astore_exchange(user_message, assistant_response, agent_name))

    async def amessage_count(self) -> int:
        """How many items the conversation holds, read from its metadata in O(1).

        Counts every stored item, tool calls and reasoning included, of the current
        branch; 0 for a conversation that does not exist (yet, or any more).
        """
        meta = self._keys.meta
        if self._branch != MAIN_BRANCH:
            order = self._order_of(None)
            return int(await self._connection.call(lambda client: client.llen(order)))
        count = await self._connection.call(lambda client: client.hget(meta, "count"))
        return 0 if count is None else int(count)

    def message_count(self) -> int:
        """Blocking version of [`amessage_count`][redis_openai_agents.AgentSession.amessage_count].

        Works inside a running event loop (a Jupyter cell) too.
        """
        return self._sync(self.amessage_count())

    @property
    def current_agent(self) -> str | None:
        """The agent that last answered in this conversation, as of the last read or write."""
        return self._current_agent

    async def atrack_agent(self, agent_name: str) -> None:
        """Record the agent now answering, without adding an item.

        It becomes [`current_agent`][redis_openai_agents.AgentSession.current_agent], the
        listing's `last_agent`, and joins `agents_used` once; a write, so the expiry slides.
        """
        await self._append([], agent=validate_id(agent_name, "agent_name"))

    def track_agent(self, agent_name: str) -> None:
        """Blocking version of [`atrack_agent`][redis_openai_agents.AgentSession.atrack_agent].

        Works inside a running event loop (a Jupyter cell) too.
        """
        self._sync(self.atrack_agent(agent_name))

    async def aget_metadata(self) -> dict[str, Any]:
        """The conversation's metadata; empty counts and times when it holds nothing yet.

        Returns:
            A dict with `user_id`, `conversation_id`, `current_agent`, `agents_used`,
                `message_count`, `title`, `ttl` (seconds, or None), and `created_at`,
                `updated_at` and `expires_at` (timezone-aware UTC datetimes, or None).
        """
        meta_key = self._keys.meta
        raw = await self._connection.call(lambda client: client.hgetall(meta_key))
        meta = {_text(k): _text(v) for k, v in raw.items()}
        agents = item_codec.decode(meta["agents"]) if "agents" in meta else []
        self._current_agent = meta.get("last_agent")
        ttl_ms = int(meta.get("ttl_ms", 0) or 0)
        return {
            "user_id": self.user_id,
            "conversation_id": self.conversation_id,
            "current_agent": self._current_agent,
            "agents_used": agents,
            "message_count": int(meta.get("count", 0)),
            "title": meta.get("title", ""),
            "created_at": from_epoch(meta.get("created_at")),
            "updated_at": from_epoch(meta.get("updated_at")),
            "ttl": ttl_ms / 1000 if ttl_ms else None,
            "expires_at": from_epoch(int(meta["expires_at_ms"]) / 1000)
            if ttl_ms and "expires_at_ms" in meta
            else None,
        }

    def get_metadata(self) -> dict[str, Any]:
        """Blocking version of [`aget_metadata`][redis_openai_agents.AgentSession.aget_metadata].

        Works inside a running event loop (a Jupyter cell) too.
        """
        return self._sync(self.aget_metadata())

    async def aclear(self) -> None:
        """Delete this conversation and nothing else.

        Its items, its metadata, every branch with its turns and usage, and its entry in
        the user's list go in one script; the user's other conversations and the shared
        search index are untouched. Writing through this object again starts the
        conversation afresh under the same id, on `main`.
        """

        async def send() -> Any:
            keys = [
                *self._conversation_keys,
                *self._other_orders(self._branch),
                *self._tag_keys(),
            ]
            args = [
                self._keys.message_prefix,
                self.conversation_id,
                conversation_meta_prefix(self.prefix, self.user_id),
                self._live,
            ]
            return await self._write(scripts.CLEAR, keys, args)

        await self._with_tags(lambda: self._with_branches(send))
        self._current_agent = None
        self._branch, self._live = MAIN_BRANCH, ""
        self._known_tags = ()

    def clear(self) -> None:
        """Blocking version of [`aclear`][redis_openai_agents.AgentSession.aclear].

        Works inside a running event loop (a Jupyter cell) too.
        """
        self._sync(self.aclear())

    async def adelete(self) -> None:
        """Delete this conversation.

        Same as [`aclear`][redis_openai_agents.AgentSession.aclear].
        """
        await self.aclear()

    def delete(self) -> None:
        """Delete this conversation.

        Same as [`clear`][redis_openai_agents.AgentSession.clear].
        """
        self._sync(self.aclear())

    # Storage

    async def _append(
        self,
        new_items: Sequence[Any],
        *,
        agent: str | None = None,
        extras: list[Mapping[str, Any]] | None = None,
    ) -> int:
        encoded = item_codec.encode_items(new_items)
        extra_json: list[Any] = (
            [item_codec.encode_item_bytes(e) for e in extras] if extras else [b""] * len(encoded)
        )
        args: list[Any] = [
            self._keys.message_prefix,
            self._entry_prefix,
            self.user_id,
            self.conversation_id,
            "" if self._ttl_ms is None else self._ttl_ms,
            _agent_name(agent),
            item_codec.storable_text(
                item_codec.shorten(item_codec.user_text(new_items), _TITLE_WIDTH)
            ),
            len(encoded),
        ]
        text_view = item_codec.text_view
        turn_starts: list[int] = []
        for i, (item, raw, extra) in enumerate(zip(new_items, encoded, extra_json, strict=True)):
            role, content, tool_call_id = text_view(item)
            args += (
                role,
                item_codec.storable_bytes(content),
                item_codec.storable_bytes(tool_call_id),
                raw,
                extra,
            )
            if is_user_message(item):
                turn_starts.append(i)
        await self._store(args, turn_starts)
        if agent:
            self._current_agent = agent
        return len(encoded)

    async def _store(self, args: list[Any], turn_starts: list[int]) -> None:
        """The append to the current branch, recording which items start a turn. A
        cancel never leaves the append half-known (see `RedisConnection.write`): it is
        stored whole, or not at all when the cancel came before it was sent.
        """
        connection = self._connection
        branch = self._branch
        keys = self._conversation_keys
        reply = await self._with_tags(
            lambda: self._with_branches(
                lambda: connection.write(
                    scripts.APPEND,
                    self._keys.write_records,
                    [*keys, *self._other_orders(branch), *self._tag_keys()],
                    [*args, branch, self._live, len(turn_starts), *turn_starts],
                    data_ttl_ms=self._ttl_ms,
                )
            )
        )
        if reply == [-2]:
            raise BranchNotFoundError(branch)

    @property
    def _conversation_keys(self) -> list[str]:
        """The keys every writing script declares first, in the order the scripts expect:
        then come the order lists of the other branches."""
        return [
            self._keys.meta,
            self._keys.user_index,
            self._order_of(None),
            self._keys.branches,
        ]

    async def _read(
        self, fields: Sequence[str], limit: int | None, order: str | None = None
    ) -> list[list[Any]]:
        """Rows of `fields` for the newest `limit` items (all when None), oldest first.

        `order` names a branch's order list; None reads the current branch.

        One SORT_RO: Redis fetches each item's hash by the sequence numbers in the order
        list, in C, as fast as reading one list (newest first with DESC when limited).
        Where GET patterns are refused, one script reads the hashes instead.
        """
        if limit == 0:
            return []
        order_key = self._order_of(None) if order is None else order
        pause = 0.01
        for _ in range(_HOLE_RETRIES):
            rows = await self._connection.call(
                lambda client: self._read_once(client, fields, limit, order_key)
            )
            if all(row[0] is not None for row in rows):
                return rows
            # An item listed but not found is gone, or (on a cluster) in a slot being
            # migrated between masters for a moment: look again before leaving it out.
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.2)
        return [row for row in rows if row[0] is not None]

    async def _read_items(self, client: aioredis.Redis, limit: int | None, order: str) -> list[Any]:
        """The stored JSON of the newest `limit` items (all when None) of the order list
        `order`, oldest first.

        `_read` for the one field `get_items` needs, without building a row per item.
        """
        if self._connection.sort_patterns_allowed:
            pattern = self._keys.item_pattern
            window = () if limit is None else ("LIMIT", 0, limit, "DESC")
            try:
                flat: list[Any] = await client.execute_command(  # type: ignore[no-untyped-call]
                    "SORT_RO", order, "BY", "nosort", *window, "GET", pattern
                )
            except ResponseError as exc:
                if not _refuses_patterns(exc):
                    raise
                self._connection.sort_patterns_allowed = False
            else:
                if limit is not None:
                    flat.reverse()
                return flat
        return [row[0] for row in await self._read_once(client, ("metadata",), limit, order)]

    async def _read_once(
        self, client: aioredis.Redis, fields: Sequence[str], limit: int | None, order: str
    ) -> list[list[Any]]:
        width = len(fields)
        rows = None
        if self._connection.sort_patterns_allowed:
            rows = await self._sort_read(client, fields, limit, order)
        if rows is None:
            flat = await scripts.READ(
                client,
                [order],
                [self._keys.message_prefix, -1 if limit is None else limit, *fields],
            )
            rows = [flat[i : i + width] for i in range(0, len(flat), width)]
        return rows

    async def _sort_read(
        self, client: aioredis.Redis, fields: Sequence[str], limit: int | None, order: str
    ) -> list[Any] | None:
        window = () if limit is None else ("LIMIT", 0, limit, "DESC")
        gets = [a for f in fields for a in ("GET", f"{self._keys.message_pattern}->{f}")]
        try:
            flat = await client.execute_command(  # type: ignore[no-untyped-call]
                "SORT_RO", order, "BY", "nosort", *window, *gets
            )
        except ResponseError as exc:
            if not _refuses_patterns(exc):
                raise
            self._connection.sort_patterns_allowed = False
            return None
        width = len(fields)
        rows = [flat[i : i + width] for i in range(0, len(flat), width)]
        if limit is not None:
            rows.reverse()
        return rows


def _agent_name(agent: str | None) -> str:
    """An agent name as stored in the metadata, which must read back as given."""
    if not agent:
        return ""
    try:
        agent.encode("utf-8")
    except (UnicodeEncodeError, AttributeError):
        raise InvalidItemError(f"agent name {agent!r} is not valid Unicode text") from None
    return agent


def _refuses_patterns(exc: ResponseError) -> bool:
    """An ACL or cluster refusal of SORT's GET patterns, as opposed to any other error."""
    message = str(exc).lower()
    return isinstance(exc, NoPermissionError) or "pattern" in message or "slot" in message


def _session_info(conversation_id: str, values: list[Any]) -> SessionInfo:
    """A listed conversation from its metadata fields (missing ones come back as false)."""
    user_id, created, updated, count, title, last_agent, expires_ms, tags = values
    return SessionInfo(
        conversation_id=conversation_id,
        user_id=user_id,
        created_at=from_epoch(created),  # type: ignore[arg-type]
        updated_at=from_epoch(updated or created),  # type: ignore[arg-type]
        message_count=int(count or 0),
        title=title or "",
        last_agent=last_agent or None,
        expires_at=from_epoch(int(expires_ms) / 1000) if expires_ms else None,
        tags=decode_stored(tags),
    )


def _message_view(row: list[Any]) -> dict[str, Any]:
    raw, role, content, tool_call_id, timestamp, extra = row
    item = item_codec.decode(raw)
    view: dict[str, Any] = {
        "role": _text(role),
        "content": _text(content) if content is not None else "",
        "type": item.get("type", "message") if isinstance(item, dict) else "message",
        "timestamp": float(timestamp) if timestamp is not None else None,
    }
    if tool_call_id:
        view["tool_call_id"] = _text(tool_call_id)
    if extra:
        view["metadata"] = item_codec.decode(extra)
    return view
