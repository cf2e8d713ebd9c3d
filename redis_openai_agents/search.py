"""Full-text search over all of one user's conversations, through the opt-in search index.

A query is always scoped to one user: the index's `user_tag` filter is built by RedisVL's
`Tag` filter (which escapes it), and every hit is checked once more against the user's
own key space, because the Query Engine trims spaces around tag values. The words of the
query are split where the server splits text when it indexes it, so punctuation in a query
can never become query syntax.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from redis.exceptions import MovedError, ResponseError
from redisvl.query import FilterQuery
from redisvl.query.filter import FilterExpression, Tag
from redisvl.utils.token_escaper import TokenEscaper

from . import items as item_codec
from . import scripts
from ._base import validate_limit
from ._bridge import run_sync
from .connection import QUERY_ENGINE, RedisClient, RedisConnection, call_for_prefix
from .errors import SearchNotEnabledError
from .index import INDEXING_TIMEOUT
from .keys import (
    DEFAULT_PREFIX,
    hash_tag,
    message_index_prefix,
    validate_id,
    validate_prefix,
)
from .search_index import (
    SORT_TIME,
    STOP_WORDS,
    create_search_index,
    drop_search_index,
    is_missing_index,
    search_index_name_on,
    wait_until_search_indexed,
)
from .topology import AsyncClient, MasterShard, master_shards

Order = Literal["relevance", "newest"]
"""How search results are ranked: by BM25 relevance, or newest message first."""
Match = Literal["all", "any"]
"""Whether a message must contain every word of the query, or any one of them."""


# Where the Query Engine splits text into words when it indexes it (measured on 2.10):
# punctuation except `_` and `\`, spaces and tabs. A line break does not split words
# there; in a query, line breaks and other control characters are dropped as breaks too.
_SEPARATORS = re.compile(r"""[!"#$%&'()*+,\-./:;<=>?@\[\]^`{|}~\s\x00-\x1f\x7f-\x9f]+""")
_ESCAPER = TokenEscaper()
_FIELDS = ("content", "role", "session_tag", "timestamp", "metadata")
_MAX_WIDENINGS = 6


class SearchHit(BaseModel):
    """One message found by [`search`][redis_openai_agents.AgentSession.search].

    Immutable. `str(hit)` gives a one-line description for logs and listings.
    """

    model_config = ConfigDict(frozen=True)

    conversation_id: str
    """The conversation the message is in; pass it to `AgentSession.load` to open it."""
    user_id: str
    """The conversation's owner: always the user that was searched."""
    role: str
    """`user`, `assistant`, `system` or `tool`, as `get_messages` reports it."""
    content: str
    """The message's text, as `get_messages` shows it (tool calls rendered as text)."""
    item_type: str
    """The SDK item type: `message`, `function_call`, `function_call_output`..."""
    item: Any
    """The stored SDK item itself, exactly as `get_items` returns it."""
    timestamp: datetime
    """When the message was stored (UTC, from the Redis server's clock)."""
    score: float
    """Its BM25 relevance to the query; higher is more relevant."""

    def __str__(self) -> str:
        when = self.timestamp.strftime("%Y-%m-%d %H:%M:%S UTC")
        text = item_codec.shorten(self.content, 80)
        return f"{self.conversation_id} [{self.role}, {when}]: {text}"


def query_words(query: object) -> list[str]:
    """The query's words, lower-cased and escaped, split as the server splits text."""
    if not isinstance(query, str):
        raise TypeError(f"query must be a string, got {type(query).__name__}")
    words = (word.lower() for word in _SEPARATORS.split(query))
    return [_ESCAPER.escape(word) for word in words if word and word not in STOP_WORDS]


def build_query(
    user_id: str,
    words: list[str],
    *,
    match: Match,
    conversation_id: str | None,
    role: str | None,
    order: Order,
    window: int,
) -> FilterQuery:
    """The FT.SEARCH of one page window: the user's messages holding the words."""
    # The Query Engine trims spaces around tag values when it indexes them, so the filter
    # names the trimmed value; hits are then checked against the exact ids.
    scope = Tag("user_tag") == user_id.strip(" ")
    if conversation_id is not None:
        scope = scope & (Tag("session_tag") == conversation_id.strip(" "))
    if role is not None:
        scope = scope & (Tag("role") == role)
    text = FilterExpression(f"@content:({(' | ' if match == 'any' else ' ').join(words)})")
    query = FilterQuery(
        filter_expression=scope & text,
        return_fields=[*_FIELDS, SORT_TIME],
        num_results=window,
        sort_by=(SORT_TIME, "DESC") if order == "newest" else None,
    )
    query.scorer("BM25STD").with_scores()
    return query


class ConversationSearch:
    """Full-text search over a user's conversations, mixed into `AgentSession`."""

    @classmethod
    async def aenable_search(
        cls,
        redis_url: str | None = None,
        *,
        redis_client: RedisClient | None = None,
        prefix: str = DEFAULT_PREFIX,
        wait: bool = True,
    ) -> int:
        """Turn on full-text search for every conversation under `prefix`; idempotent.

        Creates a second search index over the same message hashes, with `content` as
        TEXT. Nothing changes on the write path, and applications that never call this
        pay nothing; once it exists, the server tokenizes every message written under
        the prefix (for every user), which adds to the server's time per append (see the
        benchmarks). Messages stored earlier are indexed in the background.

        Args:
            redis_url: The server, as for the constructor.
            redis_client: A redis-py client to use instead of a URL, as for the constructor.
            prefix: The key prefix whose conversations become searchable.
            wait: Return only once the messages already stored are indexed (at most
                ten minutes); False returns at once, and searches until then may miss
                older messages.

        Returns:
            How many messages the index holds (0 with `wait=False`).

        On a Redis Cluster every master gets an index of its own (the Query Engine of
        Redis Stack has no cross-shard coordinator), named by a slot it serves; call it
        again after resharding or adding masters.

        Raises:
            SearchNotEnabledError: On a cluster, slots moved while the indexes were
                being created; call it again.
        """
        connection = RedisConnection(redis_url, redis_client)
        prefix = validate_prefix(prefix)
        try:
            present = await connection.call(
                lambda client: create_search_index(client, prefix),
                QUERY_ENGINE,
            )
            if not all(present):
                raise SearchNotEnabledError(
                    prefix, connection.display_url, _partial_reason(prefix, present)
                )
            if not wait:
                return 0
            return await connection.call(
                lambda client: wait_until_search_indexed(client, prefix, INDEXING_TIMEOUT)
            )
        finally:
            connection.release()

    @classmethod
    def enable_search(
        cls,
        redis_url: str | None = None,
        *,
        redis_client: RedisClient | None = None,
        prefix: str = DEFAULT_PREFIX,
        wait: bool = True,
    ) -> int:
        """Blocking version of [`aenable_search`][redis_openai_agents.AgentSession.aenable_search].

        Same arguments, result and errors; works inside a running event loop (a Jupyter
        cell) too.
        """
        return run_sync(
            cls.aenable_search(redis_url, redis_client=redis_client, prefix=prefix, wait=wait)
        )

    @classmethod
    async def adisable_search(
        cls,
        redis_url: str | None = None,
        *,
        redis_client: RedisClient | None = None,
        prefix: str = DEFAULT_PREFIX,
    ) -> bool:
        """Drop the search index of `prefix`; the conversations themselves stay.

        Appends stop paying for tokenizing at once. Searching raises
        [`SearchNotEnabledError`][redis_openai_agents.SearchNotEnabledError] until
        [`enable_search`][redis_openai_agents.AgentSession.enable_search] is called again.

        Returns:
            Whether there was an index to drop.
        """
        return await call_for_prefix(redis_url, redis_client, prefix, drop_search_index)

    @classmethod
    def disable_search(
        cls,
        redis_url: str | None = None,
        *,
        redis_client: RedisClient | None = None,
        prefix: str = DEFAULT_PREFIX,
    ) -> bool:
        """Blocking version of `adisable_search`.

        See [`adisable_search`][redis_openai_agents.AgentSession.adisable_search]; works
        inside a running event loop (a Jupyter cell) too.
        """
        return run_sync(cls.adisable_search(redis_url, redis_client=redis_client, prefix=prefix))

    @classmethod
    async def asearch(
        cls,
        user_id: str,
        query: str,
        redis_url: str | None = None,
        limit: int = 10,
        offset: int = 0,
        *,
        conversation_id: str | None = None,
        role: str | None = None,
        match: Match = "all",
        order: Order = "relevance",
        redis_client: RedisClient | None = None,
        prefix: str = DEFAULT_PREFIX,
    ) -> list[SearchHit]:
        """Find the user's messages that contain the words of `query`, in all their conversations.

        Only this user's conversations are searched, whatever the query holds. Words
        match whole words, case-insensitively, with English stemming (`flights` finds
        `flight`); punctuation and operators in the query (`*`, `-`, `|`, `@field:`,
        quotes) are word breaks, never query syntax, and common English words (`the`,
        `a`, `of`...) are ignored. A query without other words finds nothing. The Query
        Engine splits stored text at spaces, tabs and punctuation but not at line breaks,
        so a word that touches a line break on either side is stored joined to its
        neighbour and found only by that joined form.

        Args:
            user_id: Whose conversations to search.
            query: The words to look for.
            redis_url: The server, as for the constructor.
            limit: Page size; 0 returns an empty list.
            offset: How many of the best results to skip, for the next page.
            conversation_id: Search only this conversation of the user.
            role: Only messages of this role (`user`, `assistant`, `tool`, `system`).
            match: `"all"` (default): a message must contain every word; `"any"`: one
                word is enough, and messages with more of them rank higher.
            order: `"relevance"` (default): BM25 score first, newer first among equal
                scores; `"newest"`: the most recent matching messages first.
            redis_client: A redis-py client to use instead of a URL, as for the constructor.
            prefix: The key prefix the conversations were created with.

        Returns:
            One [`SearchHit`][redis_openai_agents.SearchHit] per matching message.

        Raises:
            SearchNotEnabledError: The prefix has no search index: call
                [`enable_search`][redis_openai_agents.AgentSession.enable_search] first.
            TypeError: `query` is not a string.
            ValueError: `limit`, `offset`, `match` or `order` is not allowed.
            InvalidIdentifierError: `user_id` or `conversation_id` is not allowed.
        """
        user_id = validate_id(user_id, "user_id")
        if conversation_id is not None:
            conversation_id = validate_id(conversation_id, "conversation_id")
        if role is not None:
            role = validate_id(role, "role")
        if match not in ("all", "any"):
            raise ValueError(f"match must be 'all' or 'any', got {match!r}")
        if order not in ("relevance", "newest"):
            raise ValueError(f"order must be 'relevance' or 'newest', got {order!r}")
        page = validate_limit(limit) or 0
        start = validate_limit(offset) or 0
        prefix = validate_prefix(prefix)
        words = query_words(query)
        connection = RedisConnection(redis_url, redis_client)
        try:
            if not page or not words:
                return []
            search = _UserSearch(connection, prefix, user_id, words, match, order)
            return await search.page(conversation_id, role, start, page)
        finally:
            connection.release()

    @classmethod
    def search(
        cls,
        user_id: str,
        query: str,
        redis_url: str | None = None,
        limit: int = 10,
        offset: int = 0,
        *,
        conversation_id: str | None = None,
        role: str | None = None,
        match: Match = "all",
        order: Order = "relevance",
        redis_client: RedisClient | None = None,
        prefix: str = DEFAULT_PREFIX,
    ) -> list[SearchHit]:
        """Blocking version of [`asearch`][redis_openai_agents.AgentSession.asearch].

        Same arguments, result and errors; works inside a running event loop (a Jupyter
        cell) too.
        """
        return run_sync(
            cls.asearch(
                user_id,
                query,
                redis_url,
                limit,
                offset,
                conversation_id=conversation_id,
                role=role,
                match=match,
                order=order,
                redis_client=redis_client,
                prefix=prefix,
            )
        )


class _UserSearch:
    """One search of one user: the query on every master, merged into one ranking."""

    def __init__(
        self,
        connection: RedisConnection,
        prefix: str,
        user_id: str,
        words: list[str],
        match: Match,
        order: Order,
    ) -> None:
        self.connection = connection
        self.prefix = prefix
        self.user_id = user_id
        self.words = words
        self.match: Match = match
        self.order: Order = order
        self.own_keys = f"{message_index_prefix(prefix)}:{hash_tag(user_id)}:"

    async def page(
        self, conversation_id: str | None, role: str | None, offset: int, limit: int
    ) -> list[SearchHit]:
        window = offset + limit
        for _ in range(_MAX_WIDENINGS):
            query = build_query(
                self.user_id,
                self.words,
                match=self.match,
                conversation_id=conversation_id,
                role=role,
                order=self.order,
                window=window,
            )
            replies = await self.connection.call(
                lambda client, query=query: self._everywhere(client, query)  # type: ignore[misc]
            )
            # Each master's reply is in its own order: the rank within it breaks ties.
            ranked = [
                (row, (m, i))
                for m, reply in enumerate(replies)
                for i, row in enumerate(_rows(reply))
                if row[0].startswith(self.own_keys)
            ]
            ranked.sort(key=lambda pair: (self._rank(pair[0]), pair[1]))
            rows = [row for row, _ in ranked[:window]]
            await self._fill(rows)
            order = {row[0]: n for n, row in enumerate(rows)}
            rows.sort(key=lambda row: (self._rank(row), order[row[0]]))  # with exact times
            kept = [
                row
                for row in rows
                if "metadata" in row[2]
                and (conversation_id is None or row[2].get("session_tag") == conversation_id)
                and (role is None or row[2].get("role") == role)
            ]
            # A tag value with surrounding spaces matches the trimmed one, and a message
            # may be deleted since it matched: when such hits left the window short while
            # the index holds more, look further.
            if len(kept) >= window or not any(_total(reply) > window for reply in replies):
                break
            window *= 2
        chosen = kept[offset : offset + limit]
        return [_hit(self.user_id, key, score, fields) for key, score, fields in chosen]

    def _rank(self, row: tuple[str, float, dict[str, str]]) -> tuple[float, float]:
        _, score, fields = row
        stamp = float(fields.get("timestamp") or fields.get(SORT_TIME) or 0)
        if self.order == "newest":
            return (-stamp, 0.0)  # the server sorted by the exact time: its order breaks ties
        return (-score, -stamp)

    async def _everywhere(self, client: AsyncClient, query: FilterQuery) -> list[Any]:
        """The query on each master, each under its own index name (see search_index)."""
        async with master_shards(client) as shards:
            serving = [shard for shard in shards if shard.slots is None or shard.slots]
            replies = [await self._on(shard, query) for shard in serving]
        missing = sum(reply is None for reply in replies)
        if missing:
            reason = None
            if missing < len(replies):
                reason = _partial_reason(self.prefix, [r is not None for r in replies])
            raise SearchNotEnabledError(self.prefix, self.connection.display_url, reason)
        return replies

    async def _on(self, shard: MasterShard, query: FilterQuery) -> Any:
        try:
            return await shard.client.execute_command(  # type: ignore[no-untyped-call]
                "FT.SEARCH", search_index_name_on(self.prefix, shard), *query.get_args()
            )
        except MovedError:
            return None
        except ResponseError as exc:
            if is_missing_index(exc):
                return None
            raise

    async def _fill(self, rows: list[tuple[str, float, dict[str, str]]]) -> None:
        """Read the fields the Query Engine did not return, in one script in the user's slot.

        Without a coordinator, the Query Engine loads fields only of documents in the
        slot of the index name; the page's messages all live in the user's slot.
        """
        lacking = [row for row in rows if "metadata" not in row[2]]
        if not lacking:
            return
        keys = [row[0] for row in lacking]
        raw = await self.connection.call(
            lambda client: scripts.HISTORY_READ(client, keys, list(_FIELDS))
        )
        for row, values in zip(lacking, item_codec.decode(raw), strict=True):
            row[2].update({f: v for f, v in zip(_FIELDS, values, strict=True) if v != ""})


def _hit(user_id: str, key: str, score: float, fields: dict[str, str]) -> SearchHit:
    """A hit from its hash's fields."""
    item = item_codec.decode(fields["metadata"])
    return SearchHit(
        conversation_id=fields.get("session_tag", ""),
        user_id=user_id,
        role=fields.get("role", ""),
        content=fields.get("content", ""),
        item_type=item.get("type", "message") if isinstance(item, dict) else "message",
        item=item,
        timestamp=datetime.fromtimestamp(float(fields.get("timestamp") or 0), tz=timezone.utc),
        score=score,
    )


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _get(reply: dict[Any, Any], name: str) -> Any:
    return reply.get(name, reply.get(name.encode()))


def _total(reply: Any) -> int:
    if isinstance(reply, dict):
        return int(_get(reply, "total_results") or 0)
    return int(reply[0])


def _rows(reply: Any) -> list[tuple[str, float, dict[str, str]]]:
    """(key, score, fields) of each result, from a RESP3 map or a RESP2 array."""
    rows: list[tuple[str, float, dict[str, str]]] = []
    if isinstance(reply, dict):
        for result in _get(reply, "results") or []:
            attributes = _get(result, "extra_attributes") or {}
            fields = {_text(k): _text(v) for k, v in attributes.items()}
            rows.append((_text(_get(result, "id")), float(_get(result, "score") or 0), fields))
        return rows
    for i in range(1, len(reply), 3):
        flat = reply[i + 2] or []
        fields = {_text(flat[j]): _text(flat[j + 1]) for j in range(0, len(flat) - 1, 2)}
        rows.append((_text(reply[i]), float(reply[i + 1]), fields))
    return rows


def _partial_reason(prefix: str, present: Iterable[bool]) -> str:
    found = list(present)
    return (
        f"The search index of prefix {prefix!r} exists on {sum(found)} of {len(found)} "
        "masters of this Redis Cluster (slots moved or a master joined since it was "
        "created), so a search could miss messages: call "
        f"AgentSession.enable_search(prefix={prefix!r}) again."
    )
