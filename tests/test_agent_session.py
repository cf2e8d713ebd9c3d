"""AgentSession's own API: opening, listing, ids, storage layout, compatibility and errors."""

from __future__ import annotations

import asyncio
import json
import math
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
from agents import Agent, RunConfig, Runner
from openai.types.responses import ResponseOutputMessage, ResponseOutputText
from redis.crc import key_slot
from redisvl.extensions.message_history import MessageHistory

from redis_openai_agents import (
    AgentSession,
    InvalidIdentifierError,
    InvalidItemError,
    InvalidTTLError,
    RedisUnavailableError,
    SessionInfo,
    SessionNotFoundError,
)
from redis_openai_agents.keys import ConversationKeys, hash_tag
from redis_openai_agents.offline import OfflineModelProvider

OFFLINE = RunConfig(model_provider=OfflineModelProvider(), tracing_disabled=True)
UNREACHABLE_URL = "redis://:secret@127.0.0.1:1"
MASKED_URL = "redis://:***@127.0.0.1:1"


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


def keys_of(r: redis.Redis, prefix: str) -> list[str]:
    return sorted(r.scan_iter(f"{prefix}:*", count=1000))


def data_keys_of(r: redis.Redis, prefix: str) -> list[str]:
    """Every key under the prefix except the index's bookkeeping and the write records."""
    return [
        k
        for k in keys_of(r, prefix)
        if not k.startswith((f"{prefix}:messages", f"{prefix}:writes:"))
    ]


def snapshot(r: redis.Redis, prefix: str) -> dict[str, Any]:
    """Everything stored under the prefix: hash fields, sorted-set members with scores."""
    state: dict[str, Any] = {}
    for key in data_keys_of(r, prefix):
        kind = r.type(key)
        if kind == "hash":
            state[key] = r.hgetall(key)
        elif kind == "zset":
            state[key] = r.zrange(key, 0, -1, withscores=True)
        else:
            state[key] = kind
    return state


def meta_key(prefix: str, user_id: str, conversation_id: str) -> str:
    return f"{prefix}:conv:{hash_tag(user_id)}:{conversation_id}"


def message_key(prefix: str, user_id: str, conversation_id: str, seq: int) -> str:
    return ConversationKeys(prefix, user_id, conversation_id).message(seq)


def order_key(prefix: str, user_id: str, conversation_id: str) -> str:
    return f"{prefix}:order:{hash_tag(user_id)}:{conversation_id}"


def user_index_key(prefix: str, user_id: str) -> str:
    return f"{prefix}:user:{hash_tag(user_id)}"


def message_keys(r: redis.Redis, prefix: str, user_id: str, conversation_id: str) -> list[str]:
    start = message_key(prefix, user_id, conversation_id, 0)[:-1]
    return [k for k in data_keys_of(r, prefix) if k.startswith(start) and k[len(start) :].isdigit()]


def conversation_keys(r: redis.Redis, prefix: str, user_id: str, conversation_id: str) -> list[str]:
    """The conversation's metadata key, order list, message keys and its user's index."""
    keys = [
        meta_key(prefix, user_id, conversation_id),
        order_key(prefix, user_id, conversation_id),
        user_index_key(prefix, user_id),
    ]
    keys += message_keys(r, prefix, user_id, conversation_id)
    return sorted(k for k in keys if r.exists(k))


def new(
    redis_url: str, prefix: str, user_id: str, conversation_id: str = "conv", **kw: Any
) -> AgentSession:
    return AgentSession(conversation_id, user_id=user_id, redis_url=redis_url, prefix=prefix, **kw)


# Create and load


async def test_create_then_load_sees_the_same_conversation(
    redis_url: str, prefix: str, user_id: str
) -> None:
    created = await AgentSession.acreate(user_id, redis_url, prefix=prefix)
    assert len(created.conversation_id) >= 16
    assert created.session_id == created.conversation_id
    await created.add_items([user("hello")])

    loaded = await AgentSession.aload(created.conversation_id, user_id, redis_url, prefix=prefix)
    assert loaded.conversation_id == created.conversation_id
    assert loaded.user_id == user_id
    assert await loaded.get_items() == [user("hello")]

    sync_loaded = AgentSession.load(created.conversation_id, user_id, redis_url, prefix=prefix)
    assert sync_loaded.to_agent_inputs() == [user("hello")]
    for s in (created, loaded, sync_loaded):
        await s.aclose()


async def test_create_returns_a_new_conversation_each_time_listed_even_when_empty(
    redis_url: str, prefix: str, user_id: str
) -> None:
    first = AgentSession.create(user_id, redis_url, prefix=prefix)
    second = AgentSession.create(user_id, redis_url, prefix=prefix)
    assert first.conversation_id != second.conversation_id
    listed = AgentSession.list_sessions(user_id, redis_url, prefix=prefix)
    assert {s.conversation_id for s in listed} == {first.conversation_id, second.conversation_id}
    assert all(s.message_count == 0 and s.title == "" for s in listed)
    loaded = AgentSession.load(first.conversation_id, user_id, redis_url, prefix=prefix)
    assert loaded.get_messages() == []


async def test_loading_an_unknown_conversation_raises_session_not_found(
    redis_url: str, prefix: str, user_id: str
) -> None:
    with pytest.raises(SessionNotFoundError) as caught:
        await AgentSession.aload("never-created", user_id, redis_url, prefix=prefix)
    assert caught.value.conversation_id == "never-created"
    assert caught.value.user_id == user_id
    assert isinstance(caught.value, LookupError)
    with pytest.raises(SessionNotFoundError):
        AgentSession.load("never-created", user_id, redis_url, prefix=prefix)


async def test_loading_another_users_conversation_raises_the_same_error(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    owner = await AgentSession.acreate("alice", redis_url, prefix=prefix)
    await owner.add_items([user("alice's secret")])
    before = snapshot(r, prefix)

    with pytest.raises(SessionNotFoundError) as other_users:
        await AgentSession.aload(owner.conversation_id, "mallory", redis_url, prefix=prefix)
    with pytest.raises(SessionNotFoundError) as unknown:
        await AgentSession.aload("no-such-id", "mallory", redis_url, prefix=prefix)
    assert type(other_users.value) is type(unknown.value)
    assert "alice" not in str(other_users.value), "the error must not reveal the owner"

    intruder = new(redis_url, prefix, "mallory", owner.conversation_id)
    assert await intruder.get_items() == []
    assert snapshot(r, prefix) == before
    assert await AgentSession.alist_sessions("mallory", redis_url, prefix=prefix) == []
    await owner.aclose()


# Identifiers

TRICKY_IDS = [
    "a:b:c",
    "{braces}",
    "half{open",
    "close}half",
    "star*glob?[x]",
    "comma,separated",
    "with spaces inside",
    " padded ",
    "ünïcødé 会话 🧵",
    "percent%7D%25",
    "x" * 1024,
]


@pytest.mark.parametrize("tricky", TRICKY_IDS, ids=lambda s: s[:20])
async def test_tricky_ids_work_for_users_and_conversations(
    redis_url: str, prefix: str, r: redis.Redis, tricky: str
) -> None:
    session = await AgentSession.acreate(tricky, redis_url, prefix=prefix, conversation_id=tricky)
    assert session.conversation_id == tricky
    await session.add_items([user(f"hello from {tricky}"), assistant("hi")])

    loaded = await AgentSession.aload(tricky, tricky, redis_url, prefix=prefix)
    assert await loaded.get_items() == [user(f"hello from {tricky}"), assistant("hi")]
    listed = await AgentSession.alist_sessions(tricky, redis_url, prefix=prefix)
    assert [(s.conversation_id, s.user_id, s.message_count) for s in listed] == [
        (tricky, tricky, 2)
    ]
    keys = conversation_keys(r, prefix, tricky, tricky)
    assert len(keys) == 5  # metadata, order list, two messages, the user's index
    assert keys == data_keys_of(r, prefix)
    assert len({key_slot(k.encode()) for k in keys}) == 1

    await loaded.aclear()
    assert data_keys_of(r, prefix) == []
    await session.aclose()


DISTINCT_CONVERSATION_IDS = [
    ("X", "X:messages"),
    ("X", "x"),
    ("conv", "conv:0"),
    ("a", "a,b"),
    ("a", " a"),
    ("a", "a "),
    ("a*", "ab"),
    ("{a}", "a"),
    ("a}b", "a%7Db"),
]


@pytest.mark.parametrize(("first_id", "second_id"), DISTINCT_CONVERSATION_IDS)
async def test_conversation_ids_that_look_alike_stay_distinct(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis, first_id: str, second_id: str
) -> None:
    first = new(redis_url, prefix, user_id, first_id)
    second = new(redis_url, prefix, user_id, second_id)
    await first.add_items([user(f"only in {first_id!r}")])
    await second.add_items([user(f"only in {second_id!r}"), assistant("second")])

    assert await new(redis_url, prefix, user_id, first_id).get_items() == [
        user(f"only in {first_id!r}")
    ]
    assert await new(redis_url, prefix, user_id, second_id).get_items() == [
        user(f"only in {second_id!r}"),
        assistant("second"),
    ]
    listed = await AgentSession.alist_sessions(user_id, redis_url, prefix=prefix)
    assert sorted((s.conversation_id, s.message_count) for s in listed) == sorted(
        [(first_id, 1), (second_id, 2)]
    )

    await first.aclear()
    assert await second.get_items() == [user(f"only in {second_id!r}"), assistant("second")]
    assert [
        s.conversation_id
        for s in await AgentSession.alist_sessions(user_id, redis_url, prefix=prefix)
    ] == [second_id]
    await second.aclear()
    assert data_keys_of(r, prefix) == []


DISTINCT_USER_IDS = [
    ("user_1", "user_10"),
    ("tenant_acme:user_42", "tenant_other:user_42"),
    ("Alice", "alice"),
    ("a}b", "a%7Db"),
    ("u*", "u1"),
    ("{x}", "x"),
]


@pytest.mark.parametrize(("first_user", "second_user"), DISTINCT_USER_IDS)
async def test_user_ids_that_look_alike_have_separate_conversations_and_lists(
    redis_url: str, prefix: str, first_user: str, second_user: str
) -> None:
    first = new(redis_url, prefix, first_user, "shared-id")
    second = new(redis_url, prefix, second_user, "shared-id")
    await first.add_items([user(f"I am {first_user}")])
    await second.add_items([user(f"I am {second_user}")])
    extra = await AgentSession.acreate(second_user, redis_url, prefix=prefix)

    assert await new(redis_url, prefix, first_user, "shared-id").get_items() == [
        user(f"I am {first_user}")
    ]
    assert await new(redis_url, prefix, second_user, "shared-id").get_items() == [
        user(f"I am {second_user}")
    ]
    first_list = await AgentSession.alist_sessions(first_user, redis_url, prefix=prefix)
    second_list = await AgentSession.alist_sessions(second_user, redis_url, prefix=prefix)
    assert [s.conversation_id for s in first_list] == ["shared-id"]
    assert {s.conversation_id for s in second_list} == {"shared-id", extra.conversation_id}
    assert {s.user_id for s in first_list} == {first_user}
    with pytest.raises(SessionNotFoundError):
        await AgentSession.aload(extra.conversation_id, first_user, redis_url, prefix=prefix)

    await first.aclear()
    assert await second.get_items() == [user(f"I am {second_user}")]
    for s in (first, second, extra):
        await s.aclose()


async def test_every_key_of_a_users_conversations_hashes_to_one_cluster_slot(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    owner = "tenant:{42}"
    sessions = [new(redis_url, prefix, owner, cid) for cid in ("a", "{b}", "c:1")]
    for s in sessions:
        await s.add_items([user("q"), assistant("a"), user("q2")])
    keys = data_keys_of(r, prefix)
    assert len(keys) == 3 * 5 + 1  # per conversation: metadata, order list, 3 items
    assert len({key_slot(k.encode()) for k in keys}) == 1
    # ...and the slot is the user's, so another user's keys normally land elsewhere.
    other = new(redis_url, prefix, "someone-else", "a")
    await other.add_items([user("x")])
    other_slots = {key_slot(k.encode()) for k in conversation_keys(r, prefix, "someone-else", "a")}
    assert len(other_slots) == 1
    for s in (*sessions, other):
        await s.aclose()


async def test_storage_layout_is_readable_in_redis(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    session = new(redis_url, prefix, user_id)
    call = {"type": "function_call", "call_id": "call_7", "name": "get_weather", "arguments": "{}"}
    await session.add_items([user("What's the weather?"), call])

    meta = r.hgetall(meta_key(prefix, user_id, "conv"))
    assert meta["user_id"] == user_id and meta["conversation_id"] == "conv"
    assert meta["count"] == "2" and meta["title"] == "What's the weather?"
    first, second = (r.hgetall(message_key(prefix, user_id, "conv", seq)) for seq in (0, 1))
    assert first["role"] == "user" and first["content"] == "What's the weather?"
    assert first["session_tag"] == "conv" and "seq" not in first
    assert json.loads(first["metadata"]) == user("What's the weather?")
    assert second["role"] == "assistant" and second["tool_call_id"] == "call_7"
    assert json.loads(second["metadata"]) == call
    assert r.zrange(user_index_key(prefix, user_id), 0, -1) == ["conv"]
    assert r.lrange(order_key(prefix, user_id, "conv"), 0, -1) == ["0", "1"]
    assert data_keys_of(r, prefix) == sorted(
        [
            meta_key(prefix, user_id, "conv"),
            order_key(prefix, user_id, "conv"),
            message_key(prefix, user_id, "conv", 0),
            message_key(prefix, user_id, "conv", 1),
            user_index_key(prefix, user_id),
        ]
    )
    await session.aclose()


# Listing


async def test_list_sessions_reports_each_conversations_summary(
    redis_url: str, prefix: str, user_id: str
) -> None:
    before = datetime.now(timezone.utc) - timedelta(seconds=5)
    session = await AgentSession.acreate(user_id, redis_url, prefix=prefix, ttl=600)
    long_question = (
        "Could you   please explain, in great detail,\n how Redis Cluster hash tags work?"
    )
    await session.add_items([{"role": "system", "content": "Be helpful."}])
    await session.add_items([user(long_question)])
    await session.astore_exchange("Thanks!", "You're welcome.", agent_name="explainer")

    (info,) = await AgentSession.alist_sessions(user_id, redis_url, prefix=prefix)
    assert isinstance(info, SessionInfo)
    assert info.conversation_id == session.conversation_id
    assert info.user_id == user_id
    assert info.message_count == 4
    assert info.last_agent == "explainer"
    assert len(info.title) <= 60 and info.title.endswith("…")
    assert info.title.startswith("Could you please explain, in great detail, how Redis")
    assert "\n" not in info.title and "  " not in info.title
    after = datetime.now(timezone.utc) + timedelta(seconds=5)
    assert before <= info.created_at <= info.updated_at <= after
    assert info.created_at.tzinfo is not None
    assert info.expires_at is not None
    assert timedelta(seconds=590) < info.expires_at - info.updated_at <= timedelta(seconds=601)

    text = str(info)
    assert session.conversation_id in text and info.title in text
    assert "4 messages" in text and "explainer" in text
    assert "SessionInfo(" not in text
    await session.aclose()


async def test_title_comes_from_the_first_user_text_and_never_changes(
    redis_url: str, prefix: str, user_id: str
) -> None:
    parts = new(redis_url, prefix, user_id, "parts")
    await parts.add_items(
        [
            {
                "type": "message",
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "Describe"},
                    {"type": "input_image", "image_url": "https://x/y.png", "detail": "auto"},
                ],
            }
        ]
    )
    await parts.add_items([user("A later question")])
    plain = new(redis_url, prefix, user_id, "plain")
    await plain.add_items([assistant("Welcome!")])
    await plain.add_items([user("First words")])
    await plain.add_items([user("Second words")])

    titles = {
        s.conversation_id: s.title
        for s in await AgentSession.alist_sessions(user_id, redis_url, prefix=prefix)
    }
    assert titles["plain"] == "First words"
    assert titles["parts"].startswith("Describe")
    assert "later" not in titles["parts"]
    await parts.aclose()
    await plain.aclose()


async def test_list_sessions_is_most_recent_first_and_pages(
    redis_url: str, prefix: str, user_id: str
) -> None:
    sessions = [new(redis_url, prefix, user_id, f"c{i}") for i in range(5)]
    for s in sessions:
        await s.add_items([user(f"in {s.conversation_id}")])

    async def ids(**page: int) -> list[str]:
        listed = await AgentSession.alist_sessions(user_id, redis_url, prefix=prefix, **page)
        return [s.conversation_id for s in listed]

    assert await ids() == ["c4", "c3", "c2", "c1", "c0"]
    await sessions[1].add_items([assistant("c1 is active again")])
    assert await ids() == ["c1", "c4", "c3", "c2", "c0"]
    await sessions[3].pop_item()
    assert await ids() == ["c3", "c1", "c4", "c2", "c0"]

    assert await ids(limit=2) == ["c3", "c1"]
    assert await ids(limit=2, offset=2) == ["c4", "c2"]
    assert await ids(limit=2, offset=4) == ["c0"]
    assert await ids(limit=2, offset=5) == []
    assert await ids(limit=0) == []
    with pytest.raises(ValueError):
        await ids(limit=-1)
    sync_page = AgentSession.list_sessions(user_id, redis_url, limit=3, offset=1, prefix=prefix)
    assert [s.conversation_id for s in sync_page] == ["c1", "c4", "c2"]
    for s in sessions:
        await s.aclose()


# Clear


async def test_clear_deletes_only_this_conversation(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    """RedisVL's MessageHistory.clear() empties every session in its index; ours must not."""
    target = new(redis_url, prefix, "alice", "target")
    sibling = new(redis_url, prefix, "alice", "sibling")
    stranger = new(redis_url, prefix, "bob", "target")
    for s in (target, sibling, stranger):
        await s.add_items([user(f"{s.user_id}/{s.conversation_id}"), assistant("ok")])
    before = snapshot(r, prefix)
    alice_index = user_index_key(prefix, "alice")

    target.clear()

    expected = {
        key: value
        for key, value in before.items()
        if key not in (meta_key(prefix, "alice", "target"), order_key(prefix, "alice", "target"))
        and key not in message_keys(r, prefix, "alice", "target")
        and not key.startswith(message_key(prefix, "alice", "target", 0)[:-1])
    }
    expected[alice_index] = [m for m in before[alice_index] if m[0] != "target"]
    assert snapshot(r, prefix) == expected
    assert len(expected) == len(before) - 4
    assert await sibling.get_items() == [user("alice/sibling"), assistant("ok")]
    assert await stranger.get_items() == [user("bob/target"), assistant("ok")]
    assert await target.get_items() == []
    assert await AgentSession.aenable_message_index(redis_url, prefix=prefix) == 4
    history = MessageHistory(
        name=f"{prefix}:messages", session_tag="sibling", create_index=False, redis_client=r
    )
    assert [m["content"] for m in history.get_recent(top_k=10)] == ["alice/sibling", "ok"]
    for s in (target, sibling, stranger):
        await s.aclose()


# RedisVL MessageHistory reads what AgentSession writes


@pytest.mark.parametrize("decode_responses", [True, False], ids=["str-client", "bytes-client"])
async def test_message_history_reads_the_conversation_in_order(
    redis_url: str, prefix: str, user_id: str, decode_responses: bool
) -> None:
    session = new(redis_url, prefix, user_id, "mh-conv")
    call = {
        "type": "function_call",
        "call_id": "call_42",
        "name": "get_weather",
        "arguments": '{"city":"Paris"}',
    }
    output = {"type": "function_call_output", "call_id": "call_42", "output": "Sunny"}
    reply = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": "It is sunny.", "annotations": []}],
    }
    items = [
        {"role": "system", "content": "Be brief."},
        user("What's the weather in Paris?"),
        call,
        output,
        reply,
    ]
    await session.add_items(items[:2])
    await session.add_items(items[2:])
    await new(redis_url, prefix, user_id, "other-conv").add_items([user("not this one")])
    # Enabled after the writes: it returns once the stored messages are indexed.
    assert await AgentSession.aenable_message_index(redis_url, prefix=prefix) == 6

    client = redis.Redis.from_url(redis_url, decode_responses=decode_responses)
    history = MessageHistory(
        name=f"{prefix}:messages", session_tag="mh-conv", create_index=False, redis_client=client
    )
    recent = history.get_recent(top_k=10)
    assert [(m["role"], m["content"], m.get("tool_call_id")) for m in recent] == [
        ("system", "Be brief.", None),
        ("user", "What's the weather in Paris?", None),
        ("assistant", 'get_weather({"city":"Paris"})', "call_42"),
        ("tool", "Sunny", "call_42"),
        ("assistant", "It is sunny.", None),
    ]
    assert [m["metadata"] for m in recent] == items
    assert [m["content"] for m in history.get_recent(top_k=2)] == ["Sunny", "It is sunny."]
    assert history.get_recent(top_k=5, as_text=True)[1] == "What's the weather in Paris?"
    client.close()
    await session.aclose()


async def test_message_history_keeps_look_alike_conversation_ids_apart(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    """session_tag is case-sensitive and not split on `,`, so look-alike ids stay apart."""
    ids = ["a", "A", "a,b", "b", "a b", "a|b"]
    assert await AgentSession.aenable_message_index(redis_url, prefix=prefix) == 0
    for cid in ids:
        await new(redis_url, prefix, user_id, cid).add_items([user(f"in {cid!r}")])
    seen = {}
    for cid in ids:
        history = MessageHistory(
            name=f"{prefix}:messages", session_tag=cid, create_index=False, redis_client=r
        )
        seen[cid] = [m["content"] for m in history.get_recent(top_k=10)]
    assert seen == {cid: [f"in {cid!r}"] for cid in ids}


async def test_ids_differing_only_in_surrounding_spaces_stay_apart(
    redis_url: str, prefix: str, user_id: str
) -> None:
    """The search index trims tag values; the sessions themselves never do."""
    for cid in ["a", " a", "a "]:
        await new(redis_url, prefix, user_id, cid).add_items([user(f"in {cid!r}")])
    for cid in ["a", " a", "a "]:
        items = await new(redis_url, prefix, user_id, cid).get_items()
        assert [i["content"] for i in items] == [f"in {cid!r}"]


# The 0.1.0 API


async def test_add_message_keeps_keyword_metadata_beside_the_message(
    redis_url: str, prefix: str, user_id: str
) -> None:
    session = new(redis_url, prefix, user_id)
    session.add_message("user", "Hi there", source="web", attempt=2, flags=None)
    await session.aadd_message("assistant", "Hello!")

    messages = session.get_messages()
    assert [(m["role"], m["content"], m["type"]) for m in messages] == [
        ("user", "Hi there", "message"),
        ("assistant", "Hello!", "message"),
    ]
    assert messages[0]["metadata"] == {"source": "web", "attempt": 2, "flags": None}
    assert "metadata" not in messages[1]
    assert messages[0]["timestamp"] < messages[1]["timestamp"]
    assert session.to_agent_inputs() == [user("Hi there"), assistant("Hello!")]
    assert await session.aget_messages() == messages
    assert session.get_messages(limit=1) == messages[-1:]
    assert session.get_messages(top_k=1) == messages[-1:]
    assert session.message_count() == 2 == await session.amessage_count()
    await session.aclose()


async def test_store_exchange_records_the_agent_and_metadata(
    redis_url: str, prefix: str, user_id: str
) -> None:
    session = AgentSession.create(user_id, redis_url, prefix=prefix, ttl=120)
    assert session.current_agent is None
    session.store_exchange("Where is my order?", "It ships today.", agent_name="support")
    await session.astore_exchange("Thanks", "Anytime", agent_name="billing")

    assert session.current_agent == "billing"
    meta = session.get_metadata()
    assert meta["user_id"] == user_id
    assert meta["conversation_id"] == session.conversation_id
    assert meta["current_agent"] == "billing"
    assert meta["agents_used"] == ["support", "billing"]
    assert meta["message_count"] == 4
    assert meta["title"] == "Where is my order?"
    assert isinstance(meta["created_at"], datetime) and isinstance(meta["updated_at"], datetime)
    assert meta["ttl"] == 120
    assert isinstance(meta["expires_at"], datetime)
    assert await session.aget_metadata() == meta

    loaded = AgentSession.load(session.conversation_id, user_id, redis_url, prefix=prefix)
    assert loaded.current_agent == "billing"
    assert [m["content"] for m in loaded.get_messages()] == [
        "Where is my order?",
        "It ships today.",
        "Thanks",
        "Anytime",
    ]
    session.close()
    loaded.close()


async def test_astore_agent_result_stores_a_runs_input_and_output(
    redis_url: str, prefix: str, user_id: str
) -> None:
    session = await AgentSession.acreate(user_id, redis_url, prefix=prefix)
    result = await Runner.run(
        Agent(name="helper", instructions="Remember."), "My name is Alice.", run_config=OFFLINE
    )
    assert await session.astore_agent_result(result) == 2
    assert session.current_agent == "helper"
    assert await session.ato_agent_inputs() == result.to_input_list()
    (info,) = await AgentSession.alist_sessions(user_id, redis_url, prefix=prefix)
    assert info.last_agent == "helper"
    await session.aclose()


async def test_delete_and_list_conversations(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    first = AgentSession.create(user_id, redis_url, prefix=prefix)
    first.add_message("user", "first")
    second = AgentSession.create(user_id, redis_url, prefix=prefix)
    second.add_message("user", "second")
    third = AgentSession.create(user_id, redis_url, prefix=prefix)
    third.add_message("user", "third")

    listed = AgentSession.list_conversations(user_id, redis_url, prefix=prefix)
    assert all(isinstance(s, AgentSession) for s in listed)
    assert [s.conversation_id for s in listed] == [
        third.conversation_id,
        second.conversation_id,
        first.conversation_id,
    ]
    assert [s.get_messages()[0]["content"] for s in listed] == ["third", "second", "first"]

    second.delete()
    await third.adelete()
    remaining = AgentSession.list_conversations(user_id, redis_url, prefix=prefix)
    assert [s.conversation_id for s in remaining] == [first.conversation_id]
    assert conversation_keys(r, prefix, user_id, second.conversation_id) == [
        user_index_key(prefix, user_id)
    ]
    with pytest.raises(SessionNotFoundError):
        AgentSession.load(third.conversation_id, user_id, redis_url, prefix=prefix)
    for s in (first, second, third, *listed, *remaining):
        s.close()


# Bad input: typed errors, nothing written

BAD_IDS = ["", None, 42, b"bytes", ["list"], "nul\x00inside", "x" * 5000]


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
async def test_invalid_ids_raise_invalid_identifier_error_and_write_nothing(
    redis_url: str, prefix: str, r: redis.Redis, bad: Any
) -> None:
    with pytest.raises(InvalidIdentifierError):
        AgentSession(bad, user_id="u", redis_url=redis_url, prefix=prefix)
    with pytest.raises(InvalidIdentifierError):
        AgentSession("c", user_id=bad, redis_url=redis_url, prefix=prefix)
    with pytest.raises(InvalidIdentifierError):
        AgentSession.create(bad, redis_url, prefix=prefix)
    with pytest.raises(InvalidIdentifierError):
        await AgentSession.acreate(bad, redis_url, prefix=prefix)
    with pytest.raises(InvalidIdentifierError):
        AgentSession.load(bad, "u", redis_url, prefix=prefix)
    with pytest.raises(InvalidIdentifierError):
        await AgentSession.aload("c", bad, redis_url, prefix=prefix)
    with pytest.raises(InvalidIdentifierError):
        AgentSession.list_sessions(bad, redis_url, prefix=prefix)
    assert issubclass(InvalidIdentifierError, ValueError)
    assert data_keys_of(r, prefix) == []


BAD_TTLS = [0, -1, -0.5, "10", True, False, math.nan, math.inf, timedelta(0), [10]]


@pytest.mark.parametrize("bad", BAD_TTLS, ids=repr)
async def test_invalid_ttls_raise_invalid_ttl_error_and_write_nothing(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis, bad: Any
) -> None:
    existing = new(redis_url, prefix, user_id, "existing", ttl=60)
    await existing.add_items([user("keep my ttl")])
    before = snapshot(r, prefix)

    with pytest.raises(InvalidTTLError):
        AgentSession.create(user_id, redis_url, ttl=bad, prefix=prefix)
    with pytest.raises(InvalidTTLError):
        await AgentSession.acreate(user_id, redis_url, ttl=bad, prefix=prefix)
    with pytest.raises(InvalidTTLError):
        AgentSession("new", user_id=user_id, redis_url=redis_url, ttl=bad, prefix=prefix)
    with pytest.raises(InvalidTTLError):
        await AgentSession.aload("existing", user_id, redis_url, ttl=bad, prefix=prefix)
    assert issubclass(InvalidTTLError, ValueError)
    assert snapshot(r, prefix) == before
    assert r.pttl(meta_key(prefix, user_id, "existing")) > 50_000
    await existing.aclose()


@pytest.mark.parametrize("ttl", [1, 2.5, timedelta(minutes=2)], ids=repr)
async def test_valid_ttls_are_accepted_in_seconds_or_as_timedelta(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis, ttl: Any
) -> None:
    session = await AgentSession.acreate(user_id, redis_url, ttl=ttl, prefix=prefix)
    seconds = ttl.total_seconds() if isinstance(ttl, timedelta) else ttl
    assert session.ttl == seconds
    assert 0 < r.pttl(meta_key(prefix, user_id, session.conversation_id)) <= seconds * 1000
    await session.aclose()


class NotJSON:
    pass


NON_JSON_ITEMS = [
    {"role": "user", "content": {"a", "set"}},
    {"role": "user", "content": "ok", "extra": NotJSON()},
    {"role": "user", "content": "ok", "score": math.nan},
    {"role": "user", "content": "ok", "score": math.inf},
    {"role": "user", "content": [{"type": "input_text", "text": b"bytes"}]},
    {("tuple", "key"): 1},
    "a bare string",
    ["a", "list"],
    None,
    NotJSON(),
]


@pytest.mark.parametrize("bad", NON_JSON_ITEMS, ids=lambda b: type(b).__name__ + str(id(b))[-3:])
async def test_non_json_items_raise_invalid_item_error_and_change_nothing(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis, bad: Any
) -> None:
    existing = new(redis_url, prefix, user_id, "existing", ttl=60)
    await existing.add_items([user("before"), assistant("reply")])
    before = snapshot(r, prefix)
    fresh = new(redis_url, prefix, user_id, "fresh")

    with pytest.raises(InvalidItemError):
        await existing.add_items([user("valid, but in a bad batch"), bad])
    with pytest.raises(InvalidItemError):
        await fresh.add_items([bad])
    assert issubclass(InvalidItemError, TypeError)

    assert snapshot(r, prefix) == before
    assert await existing.get_items() == [user("before"), assistant("reply")]
    with pytest.raises(SessionNotFoundError):
        await AgentSession.aload("fresh", user_id, redis_url, prefix=prefix)
    await existing.aclose()


async def test_add_message_with_non_json_metadata_raises_invalid_item_error(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    session = new(redis_url, prefix, user_id)
    session.add_message("user", "kept")
    before = snapshot(r, prefix)
    with pytest.raises(InvalidItemError):
        session.add_message("user", "dropped", tags={"a", "set"})
    with pytest.raises(InvalidItemError):
        await session.aadd_message("user", "dropped", score=math.nan)
    assert snapshot(r, prefix) == before
    assert [m["content"] for m in session.get_messages()] == ["kept"]
    await session.aclose()


@pytest.mark.parametrize("bad_batch", ["not a list", {"role": "user", "content": "x"}, b"x"])
async def test_a_batch_that_is_not_a_list_raises_invalid_item_error(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis, bad_batch: Any
) -> None:
    session = new(redis_url, prefix, user_id)
    with pytest.raises(InvalidItemError):
        await session.add_items(bad_batch)
    assert data_keys_of(r, prefix) == []


async def test_an_empty_batch_writes_nothing(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    session = new(redis_url, prefix, user_id)
    await session.add_items([])
    assert data_keys_of(r, prefix) == []
    assert await session.get_items() == []
    assert await session.pop_item() is None


@pytest.mark.parametrize("make_batch", [tuple, iter], ids=["tuple", "iterator"])
async def test_add_items_accepts_any_iterable_of_items(
    redis_url: str, prefix: str, user_id: str, make_batch: Any
) -> None:
    session = new(redis_url, prefix, user_id)
    items = [user("one"), assistant("two")]
    await session.add_items(make_batch(items))
    assert await new(redis_url, prefix, user_id).get_items() == items
    await session.aclose()


async def test_add_items_stores_sdk_pydantic_items_as_their_json(
    redis_url: str, prefix: str, user_id: str
) -> None:
    """Items straight from `result.new_items[i].raw_item` are pydantic models."""
    message = ResponseOutputMessage(
        id="msg_1",
        type="message",
        role="assistant",
        status="completed",
        content=[ResponseOutputText(type="output_text", text="Hi!", annotations=[])],
    )
    session = new(redis_url, prefix, user_id)
    await session.add_items([message])  # type: ignore[list-item]
    assert await new(redis_url, prefix, user_id).get_items() == [
        message.model_dump(mode="json", exclude_unset=True)
    ]
    await session.aclose()


# Connections


UNREACHABLE_CALLS = {
    "create": lambda: AgentSession.create("u", UNREACHABLE_URL),
    "acreate": lambda: asyncio.run(AgentSession.acreate("u", UNREACHABLE_URL)),
    "load": lambda: AgentSession.load("c", "u", UNREACHABLE_URL),
    "list_sessions": lambda: AgentSession.list_sessions("u", UNREACHABLE_URL),
    "get_items": lambda: asyncio.run(
        AgentSession("c", user_id="u", redis_url=UNREACHABLE_URL).get_items()
    ),
    "add_items": lambda: asyncio.run(
        AgentSession("c", user_id="u", redis_url=UNREACHABLE_URL).add_items([user("x")])
    ),
    "get_messages": lambda: AgentSession(
        "c", user_id="u", redis_url=UNREACHABLE_URL
    ).get_messages(),
    "store_exchange": lambda: AgentSession(
        "c", user_id="u", redis_url=UNREACHABLE_URL
    ).store_exchange("q", "a"),
    "clear": lambda: AgentSession("c", user_id="u", redis_url=UNREACHABLE_URL).clear(),
}


@pytest.mark.parametrize("call", list(UNREACHABLE_CALLS))
def test_unreachable_redis_raises_redis_unavailable_with_the_password_masked(call: str) -> None:
    with pytest.raises(RedisUnavailableError) as caught:
        UNREACHABLE_CALLS[call]()
    error = caught.value
    assert isinstance(error, ConnectionError)
    assert MASKED_URL in str(error)
    assert error.url == MASKED_URL
    assert "secret" not in str(error) and "secret" not in repr(error)


def test_session_shows_its_url_with_the_password_masked() -> None:
    session = AgentSession("c", user_id="u", redis_url="redis://admin:s3cr3t@db.example:6380/2")
    assert session.redis_url == "redis://admin:***@db.example:6380/2"
    assert "s3cr3t" not in repr(session)


async def test_a_passed_in_sync_client_works_and_stays_open(
    redis_url: str, prefix: str, user_id: str
) -> None:
    client = redis.Redis.from_url(redis_url)
    connection_id = client.client_id()

    with AgentSession.create(user_id, redis_client=client, prefix=prefix) as session:
        session.store_exchange("sync client?", "works")
        await session.add_items([user("async call on a sync client")])
        loaded = AgentSession.load(
            session.conversation_id, user_id, redis_client=client, prefix=prefix
        )
        assert len(loaded.get_messages()) == 3
        listed = AgentSession.list_sessions(user_id, redis_client=client, prefix=prefix)
        assert [s.conversation_id for s in listed] == [session.conversation_id]
        loaded.close()
    await session.aclose()

    assert client.client_id() == connection_id, "the caller's connection was closed"
    assert client.ping()
    client.close()


async def test_a_passed_in_asyncio_client_works_and_stays_open(
    redis_url: str, prefix: str, user_id: str
) -> None:
    client = aioredis.Redis.from_url(redis_url)
    connection_id = await client.client_id()

    async with await AgentSession.acreate(user_id, redis_client=client, prefix=prefix) as session:
        await session.add_items([user("async client")])
        session.add_message("assistant", "and a sync call through it")
        loaded = await AgentSession.aload(
            session.conversation_id, user_id, redis_client=client, prefix=prefix
        )
        assert [m["content"] for m in await loaded.aget_messages()] == [
            "async client",
            "and a sync call through it",
        ]
        await loaded.aclose()
    session.close()

    assert await client.client_id() == connection_id, "the caller's connection was closed"
    assert await client.ping()
    await client.aclose()


def test_context_managers_return_the_session_and_close_it(
    redis_url: str, prefix: str, user_id: str
) -> None:
    with new(redis_url, prefix, user_id, "sync-cm") as session:
        assert isinstance(session, AgentSession)
        session.add_message("user", "inside with")

    async def use_async() -> list[Any]:
        async with new(redis_url, prefix, user_id, "sync-cm") as again:
            await again.add_items([assistant("inside async with")])
            return await again.get_items()

    assert asyncio.run(use_async()) == [user("inside with"), assistant("inside async with")]
    # Closing a URL session releases its connections, not the data.
    assert new(redis_url, prefix, user_id, "sync-cm").message_count() == 2


def test_redis_url_and_redis_client_together_are_refused(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    with pytest.raises(ValueError):
        AgentSession("c", user_id="u", redis_url=redis_url, redis_client=client)
    with pytest.raises(TypeError):
        AgentSession("c", user_id="u", redis_client="redis://not-a-client")  # type: ignore[arg-type]
    client.close()
