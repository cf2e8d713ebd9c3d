"""RedisVL's MessageHistory bound to one AgentSession conversation, writing through it.

Every item of an AgentSession is a hash in the schema of RedisVL's `MessageHistory`, so a
`MessageHistory` over the session's index reads conversations as they are. Its writes do
not know the conversation's order list, count and expiry, though: hashes it adds are
invisible to the session and survive its `clear()`, and a hash it drops leaves the count
stale. `ConversationHistory` is a `MessageHistory` whose reads are RedisVL's own (scoped
to one user's conversation) and whose writes are the session's, so both stay consistent.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import TYPE_CHECKING, Any, cast

import redis
from redis.cluster import RedisCluster
from redisvl.extensions.message_history import MessageHistory
from redisvl.query.filter import Tag

from ._bridge import run_sync
from .connection import QUERY_ENGINE, RedisClient, call_for_prefix
from .errors import BranchError, InvalidItemError, MessageIndexError
from .index import (
    INDEXING_TIMEOUT,
    drop_message_index,
    ensure_message_index,
    message_index_name_for,
    shard_index_name,
    wait_until_indexed,
)
from .keys import (
    DEFAULT_PREFIX,
    hash_tag,
    message_index_name,
    message_index_prefix,
)
from .scripts import LuaScript
from .topology import AsyncClient, is_cluster_url

if TYPE_CHECKING:
    from .agent_session import AgentSession

DROP = LuaScript("ttl", "tag_sets", "drop_item", write_once=True)

SyncClient = redis.Redis | RedisCluster
"""What RedisVL's synchronous `MessageHistory` queries through."""

_ROLES = {
    "user": "user",
    "assistant": "assistant",
    "system": "system",
    "developer": "developer",
    "llm": "assistant",  # RedisVL's deprecated name, which `store()` still writes
}


def index_name(prefix: str) -> str:
    """The index a history of conversations under `prefix` queries."""
    return message_index_name(prefix)


async def _enable(client: AsyncClient, prefix: str, wait: bool) -> int:
    """Create the index on every master where it is missing, then (with `wait`) wait
    until it holds the messages stored before it existed; how many it holds."""
    present = await ensure_message_index(client, prefix)
    if not all(present):
        raise MessageIndexError(
            prefix,
            "hash slots moved to another master while the message indexes were being "
            "created; call enable_message_index again",
        )
    if not wait:
        return 0
    return await wait_until_indexed(
        client, lambda shard: shard_index_name(prefix, shard), INDEXING_TIMEOUT
    )


async def _indexed_name(client: AsyncClient, session: AgentSession) -> str:
    """Make sure the index exists and holds every stored message, and name the one
    holding the session's conversation: on a cluster, each master's own (see
    `index.message_index_name_for`)."""
    await _enable(client, session.prefix, wait=True)
    return await message_index_name_for(client, session.prefix, session.user_id)


def message_item(message: object) -> dict[str, Any]:
    """The SDK item for one MessageHistory message, or InvalidItemError before any write.

    A `tool` message is a function call's output (its `tool_call_id` the call id); the
    other roles are plain messages. `metadata` is refused: in this index the field holds
    the stored SDK item itself, which is what MessageHistory's reads return under it.
    """
    if not isinstance(message, Mapping):
        raise InvalidItemError(f"a message must be a dict, got {type(message).__name__}")
    role, content = message.get("role"), message.get("content")
    if not isinstance(content, str):
        raise InvalidItemError("a message needs `content`, a string")
    if "metadata" in message:
        raise InvalidItemError(
            "MessageHistory metadata cannot be stored in an AgentSession: the `metadata` "
            "field holds the SDK item. Use AgentSession.add_message(role, content, **metadata)"
            ", whose metadata get_messages() returns."
        )
    call_id = message.get("tool_call_id")
    if role == "tool":
        if not isinstance(call_id, str) or not call_id:
            raise InvalidItemError("a `tool` message needs `tool_call_id`, the call it answers")
        return {"type": "function_call_output", "call_id": call_id, "output": content}
    if call_id is not None:
        raise InvalidItemError("only `tool` messages carry a `tool_call_id`")
    if not isinstance(role, str) or role not in _ROLES:
        raise InvalidItemError(f"unknown role {role!r}; use one of {sorted(_ROLES)} or 'tool'")
    return {"role": _ROLES[role], "content": content}


class ConversationHistory(MessageHistory):  # type: ignore[misc]
    """A RedisVL `MessageHistory` of one AgentSession conversation.

    Get one from [`AgentSession.message_history`][redis_openai_agents.AgentSession.message_history].
    Reads (`get_recent`, `messages`) are RedisVL's own queries of the session's index,
    scoped to this user's conversation: another user's conversation of the same id, or
    hashes another `MessageHistory` wrote, never appear. Writes go through the session,
    one atomic script each, so the conversation's order, count, expiry and listing follow:

    - `add_message`, `add_messages`, `store`: appended like
      [`add_items`][redis_openai_agents.AgentSession.add_items] (a batch all or nothing);
      a `tool` message becomes a `function_call_output` item, the others plain messages.
    - `drop()` removes the newest item, `drop(entry_id)` that item.
    - `clear()` deletes this conversation only, as
      [`AgentSession.clear`][redis_openai_agents.AgentSession.clear] does, where RedisVL's
      own `clear()` would empty the index of every conversation of every user.
    - `delete()`, which would drop the index of every conversation, is refused.

    Another conversation's `session_tag` is refused by every method. RedisVL's history is
    synchronous; like the session's blocking methods, these work inside a running event
    loop too.
    """

    def __init__(
        self,
        session: AgentSession,
        redis_client: SyncClient,
        name: str | None = None,
        *,
        owned: SyncClient | None = None,
    ) -> None:
        super().__init__(
            name=name or index_name(session.prefix),
            session_tag=session.conversation_id,
            prefix=message_index_prefix(session.prefix),
            redis_client=redis_client,
            create_index=False,
        )
        self._session = session
        self._owned = owned
        self._default_session_filter = (Tag("session_tag") == session.conversation_id) & (
            Tag("user_tag") == session.user_id
        )

    def __repr__(self) -> str:
        session = self._session
        return (
            f"ConversationHistory(conversation_id={session.conversation_id!r}, "
            f"user_id={session.user_id!r})"
        )

    @property
    def session(self) -> AgentSession:
        """The conversation this history reads and writes."""
        return self._session

    def _check_tag(self, session_tag: str | None) -> None:
        if session_tag is not None and session_tag != self._session.conversation_id:
            raise ValueError(
                f"this history is bound to conversation {self._session.conversation_id!r}; "
                f"open {session_tag!r} with its own AgentSession(...).message_history()"
            )

    def get_recent(
        self,
        top_k: int = 5,
        as_text: bool = False,
        raw: bool = False,
        session_tag: str | None = None,
        role: str | list[str] | None = None,
    ) -> list[str] | list[dict[str, str]]:
        """RedisVL's `get_recent`, over this conversation only."""
        self._check_tag(session_tag)
        result: list[str] | list[dict[str, str]] = super().get_recent(
            top_k=top_k, as_text=as_text, raw=raw, role=role
        )
        return result

    def count(self, session_tag: str | None = None) -> int:
        """How many items the conversation holds (its stored count, one read)."""
        self._check_tag(session_tag)
        return self._session.message_count()

    def add_messages(self, messages: list[dict[str, str]], session_tag: str | None = None) -> None:
        """Append the messages to the conversation, all of them or none.

        Raises:
            InvalidItemError: A message has no string `content`, an unknown role, a `tool`
                role without `tool_call_id`, or `metadata`; nothing is written.
        """
        self._check_tag(session_tag)
        batch = [message_item(message) for message in messages]
        if batch:
            self._session._sync(self._session._append(batch))

    def add_message(self, message: dict[str, str], session_tag: str | None = None) -> None:
        """Append one message to the conversation (see `add_messages`)."""
        self.add_messages([message], session_tag)

    def drop(self, id: str | None = None) -> None:
        """Remove the newest item, or the item with this `entry_id`.

        Raises:
            ValueError: `id` is not the entry id of an item of this conversation.
        """
        session = self._session
        if id is None:
            session._sync(session.pop_item())
            return
        entry_prefix = session._entry_prefix
        seq = id[len(entry_prefix) :] if isinstance(id, str) else ""
        if not isinstance(id, str) or not id.startswith(entry_prefix) or not seq.isdigit():
            raise ValueError(f"{id!r} is not the entry id of an item of this conversation")
        keys = session._keys
        write = session._with_tags(
            lambda: session._connection.write(
                DROP,
                keys.write_records,
                [keys.meta, keys.user_index, keys.order, keys.branches, *session._tag_keys()],
                [keys.message_prefix, session.conversation_id, seq],
                data_ttl_ms=session._ttl_ms,
            )
        )
        if session._sync(write) == -1:
            raise BranchError(
                f"conversation {session.conversation_id!r} keeps turns or branches, which may "
                "share this item; remove the newest item with drop() or pop_item()"
            )

    def clear(self) -> None:
        """Delete this conversation, and nothing else (see the class description)."""
        self._session.clear()

    def delete(self) -> None:
        """Refused: it would drop the index every conversation under the prefix shares.

        Raises:
            ValueError: Always. Delete the conversation with `clear()`.
        """
        raise ValueError(
            f"the index {self._name!r} holds every conversation under the prefix; "
            "delete this conversation with clear()"
        )

    def close(self) -> None:
        """Close the client this history opened; a client passed in stays open."""
        if self._owned is not None:
            self._owned.close()

    def __enter__(self) -> ConversationHistory:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _reader(session: AgentSession) -> tuple[SyncClient, SyncClient | None]:
    """A synchronous client of the server holding the conversation, and the one to close.

    On a cluster, each master's index covers only its own keys: the client is one of the
    master serving the user's slot.
    """
    connection = session._connection
    external = connection._external
    client: SyncClient
    owned: SyncClient | None = None
    if isinstance(external, (redis.Redis, RedisCluster)):
        client = external
    elif connection._url is not None:
        url = connection._url
        client = RedisCluster.from_url(url) if is_cluster_url(url) else redis.Redis.from_url(url)
        owned = client
    else:
        raise TypeError(
            "RedisVL's MessageHistory is synchronous and this session uses an asyncio client: "
            "pass a redis.Redis for the same server as message_history(redis_client=...)"
        )
    if isinstance(client, RedisCluster):
        node = client.get_node_from_key(hash_tag(session.user_id))  # type: ignore[no-untyped-call]
        master = cast(redis.Redis, node.redis_connection)
        return master, owned
    return client, owned


class MessageHistoryAccess:
    """What AgentSession adds for RedisVL: a `MessageHistory` of its own conversation."""

    def message_history(self, redis_client: SyncClient | None = None) -> ConversationHistory:
        """This conversation as a RedisVL `MessageHistory`, writing through the session.

        The index name, key prefix and session tag are the session's, and the index is
        created if it is missing. See
        [`ConversationHistory`][redis_openai_agents.ConversationHistory] for what its
        methods do.

        Args:
            redis_client: A synchronous `redis.Redis` for RedisVL's queries. By default the
                session's own client when it is synchronous, else a new client for the
                session's URL, which `close()` closes.

        Raises:
            TypeError: The session uses an asyncio client and no `redis_client` was given.
        """
        session = cast("AgentSession", self)
        client, owned = (redis_client, None) if redis_client is not None else _reader(session)
        connection = session._connection
        name = session._sync(connection.call(lambda c: _indexed_name(c, session), QUERY_ENGINE))
        return ConversationHistory(session, client, name, owned=owned)

    @classmethod
    async def aenable_message_index(
        cls,
        redis_url: str | None = None,
        *,
        redis_client: RedisClient | None = None,
        prefix: str = DEFAULT_PREFIX,
        wait: bool = True,
    ) -> int:
        """Create the RedisVL `MessageHistory` index over every conversation under
        `prefix`, for readers you construct yourself; idempotent.

        [`message_history()`][redis_openai_agents.AgentSession.message_history] creates it
        by itself; call this once per prefix before querying with a
        `MessageHistory(name="roa:messages", create_index=False, ...)`, `FT.SEARCH` or
        RedisInsight. Applications that never do pay nothing: while the index exists,
        the server indexes every message written under the prefix (for every user),
        which costs an append a sixth to a quarter of its time (see the benchmarks).
        Messages stored earlier are indexed in the background.

        Args:
            redis_url: The server, as for the constructor.
            redis_client: A redis-py client to use instead of a URL, as for the constructor.
            prefix: The key prefix whose conversations become readable by RedisVL.
            wait: Return only once the messages already stored are indexed (at most ten
                minutes); False returns at once, and queries until then may miss older
                messages.

        Returns:
            How many messages the index holds (0 with `wait=False`).

        On a Redis Cluster every master gets an index of its own (the Query Engine of
        Redis Stack has no cross-shard coordinator), named by a slot it serves; call it
        again after resharding or adding masters.

        Raises:
            RedisModuleMissingError: The server has no Query Engine.
            MessageIndexError: On a cluster, slots moved while the indexes were being
                created; call it again.
        """
        return await call_for_prefix(
            redis_url, redis_client, prefix, lambda c, p: _enable(c, p, wait), QUERY_ENGINE
        )

    @classmethod
    def enable_message_index(
        cls,
        redis_url: str | None = None,
        *,
        redis_client: RedisClient | None = None,
        prefix: str = DEFAULT_PREFIX,
        wait: bool = True,
    ) -> int:
        """Blocking version of
        [`aenable_message_index`][redis_openai_agents.AgentSession.aenable_message_index].

        Same arguments, result and errors; works inside a running event loop (a Jupyter
        cell) too.
        """
        return run_sync(
            cls.aenable_message_index(
                redis_url, redis_client=redis_client, prefix=prefix, wait=wait
            )
        )

    @classmethod
    async def adisable_message_index(
        cls,
        redis_url: str | None = None,
        *,
        redis_client: RedisClient | None = None,
        prefix: str = DEFAULT_PREFIX,
    ) -> bool:
        """Drop the `MessageHistory` index of `prefix`; the conversations themselves stay.

        Appends stop paying for indexing at once. The sessions never read through the
        index; `MessageHistory` queries fail until
        [`enable_message_index`][redis_openai_agents.AgentSession.enable_message_index]
        or [`message_history()`][redis_openai_agents.AgentSession.message_history]
        creates it again.

        Returns:
            Whether there was an index to drop.
        """
        return await call_for_prefix(
            redis_url, redis_client, prefix, drop_message_index, QUERY_ENGINE
        )

    @classmethod
    def disable_message_index(
        cls,
        redis_url: str | None = None,
        *,
        redis_client: RedisClient | None = None,
        prefix: str = DEFAULT_PREFIX,
    ) -> bool:
        """Blocking version of `adisable_message_index`.

        See [`adisable_message_index`][redis_openai_agents.AgentSession.adisable_message_index];
        works inside a running event loop (a Jupyter cell) too.
        """
        return run_sync(
            cls.adisable_message_index(redis_url, redis_client=redis_client, prefix=prefix)
        )
