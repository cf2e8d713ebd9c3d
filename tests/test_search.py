"""Full-text search over a user's conversations: opt-in, scoped to the user, safe input."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
import redis

from redis_openai_agents import (
    AgentSession,
    InvalidIdentifierError,
    SearchHit,
    SearchNotEnabledError,
)
from redis_openai_agents.keys import search_index_name


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


@pytest.fixture
def searchable(redis_url: str, prefix: str, r: redis.Redis) -> Iterator[str]:
    """The test's prefix with search enabled; the index is dropped afterwards."""
    AgentSession.enable_search(redis_url, prefix=prefix)
    yield prefix
    with contextlib.suppress(redis.ResponseError):
        r.execute_command("FT.DROPINDEX", search_index_name(prefix))


async def store(redis_url: str, prefix: str, user_id: str, cid: str, *items: Any) -> None:
    session = AgentSession(cid, user_id=user_id, redis_url=redis_url, prefix=prefix)
    await session.add_items(list(items))
    await session.aclose()


async def search(
    redis_url: str, prefix: str, user_id: str, query: str, **kw: Any
) -> list[SearchHit]:
    return await AgentSession.asearch(user_id, query, redis_url, prefix=prefix, **kw)


async def test_search_finds_a_users_messages_across_conversations(
    redis_url: str, searchable: str
) -> None:
    prefix = searchable
    before = datetime.now(timezone.utc)
    await store(
        redis_url,
        prefix,
        "alice",
        "trip",
        user("Book flights to Paris"),
        assistant("Paris flights are booked."),
    )
    await store(redis_url, prefix, "alice", "food", user("A recipe for onion soup"))
    hits = await search(redis_url, prefix, "alice", "flight paris")
    assert {(h.conversation_id, h.role) for h in hits} == {("trip", "user"), ("trip", "assistant")}
    reply = next(h for h in hits if h.role == "assistant")
    assert reply.item == assistant("Paris flights are booked.")
    assert reply.item_type == "message" and reply.content == "Paris flights are booked."
    assert reply.user_id == "alice" and reply.score > 0
    assert (
        before.timestamp() - 1
        < reply.timestamp.timestamp()
        < datetime.now(timezone.utc).timestamp() + 1
    )
    assert "trip [assistant" in str(reply)
    trip = AgentSession("trip", user_id="alice", redis_url=redis_url, prefix=prefix)
    stored = (await trip.aget_messages())[1]["timestamp"]
    assert reply.timestamp.timestamp() == pytest.approx(stored, abs=1e-6)  # exact, not rounded
    await trip.aclose()
    soup = await search(redis_url, prefix, "alice", "SOUP")
    assert [(h.conversation_id, h.content) for h in soup] == [("food", "A recipe for onion soup")]
    sync = AgentSession.search("alice", "onion", redis_url, prefix=prefix)
    assert [h.conversation_id for h in sync] == ["food"]


async def test_messages_stored_before_search_was_enabled_are_found(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    await store(redis_url, prefix, "u", "old", user("stored before the index existed"))
    with pytest.raises(SearchNotEnabledError) as caught:
        await search(redis_url, prefix, "u", "stored")
    assert "enable_search" in str(caught.value) and caught.value.prefix == prefix
    assert isinstance(caught.value, LookupError)
    try:
        assert await AgentSession.aenable_search(redis_url, prefix=prefix) == 1
        assert await AgentSession.aenable_search(redis_url, prefix=prefix) == 1  # idempotent
        (hit,) = await search(redis_url, prefix, "u", "existed")
        assert hit.conversation_id == "old"
        assert AgentSession.disable_search(redis_url, prefix=prefix) is True
        assert AgentSession.disable_search(redis_url, prefix=prefix) is False
        with pytest.raises(SearchNotEnabledError):
            AgentSession.search("u", "stored", redis_url, prefix=prefix)
        # Dropping the index keeps the conversations.
        session = await AgentSession.aload("old", "u", redis_url, prefix=prefix)
        assert await session.get_items() == [user("stored before the index existed")]
        await session.aclose()
    finally:
        with contextlib.suppress(redis.ResponseError):
            r.execute_command("FT.DROPINDEX", search_index_name(prefix))


async def test_search_never_returns_another_users_messages(redis_url: str, searchable: str) -> None:
    prefix = searchable
    await store(redis_url, prefix, "alice", "c", user("alice's secret plan"))
    for other in ("bob", "Alice", "alice ", " alice", "alice\\", "ali", "alice*"):
        await store(redis_url, prefix, other, "c", user(f"{other}'s secret plan"))
    for query in ("secret", "secret plan", "*", "@user_tag:{bob} secret", "secret | bob"):
        hits = await search(redis_url, prefix, "alice", query)
        assert {h.user_id for h in hits} <= {"alice"}
        assert all(h.content == "alice's secret plan" for h in hits)
    # Users whose ids differ only by surrounding spaces share a tag value in the index:
    # each still sees only their own messages.
    for other in ("alice ", " alice", "Alice", "alice*", "alice\\"):
        hits = await search(redis_url, prefix, other, "secret")
        assert [h.content for h in hits] == [f"{other}'s secret plan"], other
    assert await search(redis_url, prefix, "mallory", "secret") == []


@pytest.mark.parametrize(
    "query",
    [
        "*",
        "-",
        "--",
        "-secret",
        "@user_tag:{other}",
        "@content:secret",
        '"',
        '"unterminated',
        "'",
        "(",
        ")",
        "|",
        "~",
        "%sec%",
        "{",
        "}",
        "[1 2]",
        "\\",
        "$param",
        "=>",
        "secret*",
        "\x00",
        "",
        "   ",
        "@@@ ||| ***",
        "ignore => {$weight: 100}",
        "a" * 10_000,
    ],
)
async def test_adversarial_queries_are_words_not_syntax(
    redis_url: str, searchable: str, query: str
) -> None:
    prefix = searchable
    await store(redis_url, prefix, "alice", "c", user("the secret word is other"))
    await store(redis_url, prefix, "bob", "c", user("bob's secret other"))
    hits = await search(redis_url, prefix, "alice", query)
    assert all(h.user_id == "alice" for h in hits)
    words = {w.lower() for w in "".join(c if c.isalnum() else " " for c in query).split()}
    if words <= {"secret", "other", "user", "tag", "content"} and words & {"secret", "other"}:
        expected = {"secret", "other"} >= words
        assert bool(hits) == expected


async def test_punctuation_splits_words_as_the_server_does(redis_url: str, searchable: str) -> None:
    prefix = searchable
    await store(redis_url, prefix, "u", "c", user("Send an e-mail to bob@example.com, price $5.99"))
    for query in ("e-mail", "mail", "bob@example.com", "example", "5.99", "$5.99", "E-MAIL!"):
        assert len(await search(redis_url, prefix, "u", query)) == 1, query
    assert await search(redis_url, prefix, "u", "email") == []


async def test_unicode_words_are_found(redis_url: str, searchable: str) -> None:
    prefix = searchable
    await store(
        redis_url, prefix, "ü-user 猫", "c", user("Grüße aus München, café 🎉"), user("我喜欢猫")
    )
    for query in ("grüße", "MÜNCHEN", "Café", "🎉", "我喜欢猫"):
        hits = await search(redis_url, prefix, "ü-user 猫", query)
        assert len(hits) == 1, query
        assert hits[0].user_id == "ü-user 猫"


async def test_all_words_or_any_word(redis_url: str, searchable: str) -> None:
    prefix = searchable
    await store(
        redis_url, prefix, "u", "c", user("red apples"), user("green apples"), user("red cars")
    )
    assert {h.content for h in await search(redis_url, prefix, "u", "red apples")} == {"red apples"}
    anyone = await search(redis_url, prefix, "u", "red apples", match="any")
    assert {h.content for h in anyone} == {"red apples", "green apples", "red cars"}
    assert anyone[0].content == "red apples"  # both words rank first
    assert await search(redis_url, prefix, "u", "the a of") == []  # stop words only


async def test_ranking_paging_and_filters(redis_url: str, searchable: str) -> None:
    prefix = searchable
    await store(redis_url, prefix, "u", "one", user("pasta"), assistant("pasta pasta pasta recipe"))
    await store(redis_url, prefix, "u", "two", user("pasta again"), assistant("no"))
    await store(redis_url, prefix, "u", "three", user("more pasta"))
    ranked = await search(redis_url, prefix, "u", "pasta")
    assert len(ranked) == 4
    assert ranked[0].content == "pasta pasta pasta recipe"
    assert [h.score for h in ranked] == sorted((h.score for h in ranked), reverse=True)
    newest = await search(redis_url, prefix, "u", "pasta", order="newest")
    assert [h.content for h in newest] == [
        "more pasta",
        "pasta again",
        "pasta pasta pasta recipe",
        "pasta",
    ]
    assert [h.timestamp for h in newest] == sorted((h.timestamp for h in newest), reverse=True)
    pages = [
        await search(redis_url, prefix, "u", "pasta", limit=3, offset=o, order="newest")
        for o in (0, 3, 6)
    ]
    assert [h.content for page in pages for h in page] == [h.content for h in newest]
    assert [len(p) for p in pages] == [3, 1, 0]
    assert await search(redis_url, prefix, "u", "pasta", limit=0) == []
    only = await search(redis_url, prefix, "u", "pasta", conversation_id="two")
    assert [h.content for h in only] == ["pasta again"]
    said = await search(redis_url, prefix, "u", "pasta", role="assistant")
    assert [h.content for h in said] == ["pasta pasta pasta recipe"]
    assert await search(redis_url, prefix, "u", "pasta", conversation_id="t") == []


async def test_tool_calls_and_outputs_are_searchable_with_their_item(
    redis_url: str, searchable: str
) -> None:
    prefix = searchable
    call = {
        "type": "function_call",
        "call_id": "c1",
        "name": "get_weather",
        "arguments": '{"city": "Oslo"}',
    }
    output = {"type": "function_call_output", "call_id": "c1", "output": "Snow in Oslo"}
    await store(redis_url, prefix, "u", "c", call, output)
    hits = await search(redis_url, prefix, "u", "oslo", order="newest")
    assert [(h.item_type, h.role, h.item) for h in hits] == [
        ("function_call_output", "tool", output),
        ("function_call", "assistant", call),
    ]


async def test_deleted_conversations_are_not_found(redis_url: str, searchable: str) -> None:
    prefix = searchable
    session = AgentSession("c", user_id="u", redis_url=redis_url, prefix=prefix)
    await session.add_items([user("ephemeral words")])
    assert len(await search(redis_url, prefix, "u", "ephemeral")) == 1
    await session.aclear()
    assert await search(redis_url, prefix, "u", "ephemeral") == []
    await session.aclose()


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"query": 5}, TypeError),
        ({"query": None}, TypeError),
        ({"limit": -1}, ValueError),
        ({"offset": -1}, ValueError),
        ({"limit": 1.5}, ValueError),
        ({"match": "some"}, ValueError),
        ({"order": "oldest"}, ValueError),
        ({"user_id": ""}, InvalidIdentifierError),
        ({"conversation_id": "a\x00"}, InvalidIdentifierError),
    ],
)
async def test_bad_arguments_raise_typed_errors(
    redis_url: str, searchable: str, kwargs: dict[str, Any], error: type[Exception]
) -> None:
    call: dict[str, Any] = {
        "user_id": "u",
        "query": "x",
        "redis_url": redis_url,
        "prefix": searchable,
    }
    call.update(kwargs)
    with pytest.raises(error):
        await AgentSession.asearch(**call)


async def test_appends_without_search_enabled_send_nothing_to_tokenize(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    """Search is opt-in: without enable_search no text index exists for the prefix."""
    await store(redis_url, prefix, "u", "c", user("nothing indexed"))
    assert search_index_name(prefix) not in r.execute_command("FT._LIST")


async def test_newest_first_pages_come_from_the_servers_order(
    redis_url: str, searchable: str
) -> None:
    """More matches than one page: the server sorts by time before it cuts the window."""
    prefix = searchable
    session = AgentSession("many", user_id="u", redis_url=redis_url, prefix=prefix)
    for i in range(30):
        await session.add_items([user(f"note {i:02d} about rain")])
    newest = await search(redis_url, prefix, "u", "rain", order="newest", limit=3)
    assert [h.content for h in newest] == [f"note {i:02d} about rain" for i in (29, 28, 27)]
    second = await search(redis_url, prefix, "u", "rain", order="newest", limit=3, offset=3)
    assert [h.content for h in second] == [f"note {i:02d} about rain" for i in (26, 25, 24)]
    await session.aclose()
