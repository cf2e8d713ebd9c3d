"""RedisVL MessageHistory bound to an AgentSession conversation: its reads and its writes."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
from redisvl.extensions.message_history import MessageHistory

from redis_openai_agents import AgentSession, BranchError, ConversationHistory, InvalidItemError


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text}


def new(redis_url: str, prefix: str, user_id: str = "alice", cid: str = "conv", **kw: Any):
    return AgentSession(cid, user_id=user_id, redis_url=redis_url, prefix=prefix, **kw)


def stored_keys(r: redis.Redis, prefix: str) -> list[str]:
    return sorted(
        k
        for k in r.scan_iter(f"{prefix}:*", count=1000)
        if not k.startswith((f"{prefix}:messages", f"{prefix}:writes:"))
    )


CALL = {"type": "function_call", "call_id": "call_1", "name": "weather", "arguments": "{}"}


async def test_reads_are_redisvl_queries_of_this_users_conversation_only(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    session = new(redis_url, prefix)
    await session.add_items([user("hi"), CALL])
    await session.add_items(
        [{"type": "function_call_output", "call_id": "call_1", "output": "Sun"}]
    )
    # Same conversation id, another user; and a hash a plain MessageHistory wrote.
    await new(redis_url, prefix, user_id="bob").add_items([user("bob's")])
    plain = MessageHistory(
        name=f"{prefix}:messages",
        session_tag="conv",
        prefix=f"{prefix}:msg",
        redis_client=r,
        create_index=False,
    )
    plain.add_message(user("written around the session"))
    history = session.message_history()
    assert isinstance(history, MessageHistory) and isinstance(history, ConversationHistory)
    assert history.session is session
    recent = history.get_recent(top_k=10)
    assert [(m["role"], m["content"], m.get("tool_call_id")) for m in recent] == [
        ("user", "hi", None),
        ("assistant", "weather({})", "call_1"),
        ("tool", "Sun", "call_1"),
    ]
    assert history.get_recent(top_k=1, as_text=True) == ["Sun"]
    assert [m["content"] for m in history.get_recent(role="user")] == ["hi"]
    assert [m["content"] for m in history.messages] == ["hi", "weather({})", "Sun"]
    raw = history.get_recent(top_k=10, raw=True)
    assert [m["id"].rsplit(":", 1)[1] for m in raw] == ["0", "1", "2"]
    assert history.count() == 3
    with pytest.raises(ValueError, match="bound to conversation 'conv'"):
        history.get_recent(session_tag="other")
    with pytest.raises(ValueError):
        history.count(session_tag="other")
    history.close()
    await session.aclose()


async def test_writes_go_through_the_session(redis_url: str, prefix: str, r: redis.Redis) -> None:
    session = new(redis_url, prefix, ttl=600)
    await session.add_items([user("from a run")])
    history = session.message_history()
    history.add_message({"role": "system", "content": "Be brief."})
    history.store("What's the weather?", "Sunny.")
    history.add_messages(
        [
            {"role": "assistant", "content": "Let me check."},
            {"role": "tool", "content": "22 C", "tool_call_id": "call_9"},
        ]
    )
    expected = [
        user("from a run"),
        {"role": "system", "content": "Be brief."},
        user("What's the weather?"),
        assistant("Sunny."),
        assistant("Let me check."),
        {"type": "function_call_output", "call_id": "call_9", "output": "22 C"},
    ]
    assert await session.get_items() == expected
    assert await session.amessage_count() == 6 == history.count()
    [info] = await AgentSession.alist_sessions("alice", redis_url, prefix=prefix)
    assert info.message_count == 6
    # Every key of the conversation, the new items included, expires at the same instant.
    deadlines = {r.pexpiretime(k) for k in stored_keys(r, prefix)}
    assert len(deadlines) == 1 and deadlines.pop() > 0
    recent = history.get_recent(top_k=3)
    assert [(m["role"], m["content"]) for m in recent] == [
        ("assistant", "Sunny."),
        ("assistant", "Let me check."),
        ("tool", "22 C"),
    ]
    assert recent[-1]["tool_call_id"] == "call_9"
    assert [m["metadata"] for m in recent] == expected[3:]
    history.close()
    await session.aclose()


@pytest.mark.parametrize(
    "messages",
    [
        [user("ok"), {"role": "user"}],
        [user("ok"), {"role": "user", "content": 3}],
        [user("ok"), {"role": "narrator", "content": "x"}],
        [user("ok"), {"role": "tool", "content": "x"}],
        [user("ok"), {"role": "user", "content": "x", "tool_call_id": "c"}],
        [user("ok"), {"role": "user", "content": "x", "metadata": {"k": 1}}],
        [user("ok"), "not a message"],
    ],
    ids=[
        "no-content",
        "content-not-text",
        "role",
        "tool-without-id",
        "id-not-tool",
        "metadata",
        "str",
    ],
)
async def test_bad_messages_are_refused_and_nothing_is_written(
    messages: list[Any], redis_url: str, prefix: str, r: redis.Redis
) -> None:
    session = new(redis_url, prefix)
    await session.add_items([user("kept")])
    history = session.message_history()
    before = stored_keys(r, prefix)
    with pytest.raises(InvalidItemError):
        history.add_messages(messages)
    assert stored_keys(r, prefix) == before
    assert await session.get_items() == [user("kept")]
    with pytest.raises(ValueError, match="bound to conversation"):
        history.add_message(user("x"), session_tag="elsewhere")
    await session.aclose()


async def test_drop_removes_one_item_and_keeps_the_count(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    session = new(redis_url, prefix)
    items = [user(str(i)) for i in range(5)]
    await session.add_items(items)
    history = session.message_history()
    history.drop()  # the newest, as RedisVL's drop() without an id
    middle = history.get_recent(top_k=10, raw=True)[1]["entry_id"]
    history.drop(middle)
    assert await session.get_items() == [items[0], items[2], items[3]]
    assert await session.amessage_count() == 3 == history.count()
    assert r.lrange(session._keys.order, 0, -1) == ["0", "2", "3"]
    assert not r.exists(session._keys.message(1)) and not r.exists(session._keys.message(4))
    assert [m["content"] for m in history.get_recent(top_k=10)] == ["0", "2", "3"]
    history.drop(middle)  # gone already: nothing happens
    assert await session.amessage_count() == 3
    other = new(redis_url, prefix, cid="other")
    await other.add_items([user("theirs")])
    theirs = other.message_history().get_recent(raw=True)[0]["entry_id"]
    for wrong in (theirs, "conv:1", f"{middle[:-1]}x"):
        with pytest.raises(ValueError, match="not the entry id"):
            history.drop(wrong)
    assert await other.get_items() == [user("theirs")]
    await session.aclose()
    await other.aclose()


async def test_clear_deletes_this_conversation_only_and_delete_is_refused(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    session = new(redis_url, prefix)
    sibling = new(redis_url, prefix, cid="sibling")
    stranger = new(redis_url, prefix, user_id="bob")
    for s in (session, sibling, stranger):
        await s.add_items([user(f"{s.user_id}/{s.conversation_id}")])
    history = session.message_history()
    history.store("q", "a")
    with pytest.raises(ValueError, match="every conversation"):
        history.delete()
    assert r.execute_command("FT.INFO", f"{prefix}:messages")
    history.clear()
    assert await session.get_items() == []
    assert history.get_recent() == []
    assert not [k for k in stored_keys(r, prefix) if "{alice}:conv" in k]
    assert await sibling.get_items() == [user("alice/sibling")]
    assert await stranger.get_items() == [user("bob/conv")]
    # What MessageHistory wrote is the session's: AgentSession.clear() removes it too.
    history.store("q2", "a2")
    assert await session.amessage_count() == 2
    await session.aclear()
    assert not [k for k in stored_keys(r, prefix) if "{alice}:conv" in k]
    for s in (session, sibling, stranger):
        await s.aclose()


async def test_the_client_is_the_sessions_own_or_one_for_its_url(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    sync_client = redis.Redis.from_url(redis_url)
    session = AgentSession("c", user_id="u", redis_client=sync_client, prefix=prefix)
    session.add_message("user", "hi")
    with session.message_history() as history:
        assert history._index.client is sync_client
        assert history.get_recent(as_text=True) == ["hi"]
    assert sync_client.ping()  # a client passed in stays open
    async_client = aioredis.Redis.from_url(redis_url)
    on_async = AgentSession("c", user_id="u", redis_client=async_client, prefix=prefix)
    with pytest.raises(TypeError, match="redis_client="):
        on_async.message_history()
    with on_async.message_history(redis_client=sync_client) as history:
        assert history.get_recent(as_text=True) == ["hi"]
    name = f"{prefix}-history"
    by_url = new(f"{redis_url}/0?client_name={name}", prefix, user_id="u", cid="c")
    history = by_url.message_history()
    assert history.get_recent(as_text=True) == ["hi"]
    named = [c for c in r.client_list() if c.get("name") == name]
    assert len(named) == 2  # the session's own pool, and the history's client
    history.close()
    # The server forgets a closed connection when it reads the close: wait for that.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        named = [c for c in r.client_list() if c.get("name") == name]
        if len(named) == 1:
            break
        time.sleep(0.02)
    assert len(named) == 1
    await by_url.aclose()
    assert json.loads(sync_client.hget(session._keys.message(0), "metadata")) == user("hi")
    await async_client.aclose()
    sync_client.close()


async def test_dropping_one_item_of_a_conversation_with_branches_is_refused(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    session = AgentSession("c", user_id="alice", redis_url=redis_url, prefix=prefix)
    session.store_exchange("q1", "a1")
    session.store_exchange("q2", "a2")
    await session.create_branch_from_turn(2, "side")
    await session.switch_to_branch("main")
    with session.message_history() as history:
        first = history.get_recent(top_k=10, raw=True)[0]["entry_id"]
        before = {k: r.dump(k) for k in r.scan_iter(f"{prefix}:*") if ":writes:" not in k}
        with pytest.raises(BranchError, match="turns or branches"):
            history.drop(first)
        after = {k: r.dump(k) for k in r.scan_iter(f"{prefix}:*") if ":writes:" not in k}
        assert after == before
    assert session.message_count() == 4
    session.close()


async def test_drop_keeps_a_tagged_conversation_in_its_tag_list(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    session = AgentSession("c", user_id="alice", redis_url=redis_url, prefix=prefix, ttl=600)
    session.store_exchange("q1", "a1")
    AgentSession("c", user_id="alice", redis_url=redis_url, prefix=prefix).set_tags(["vip"])
    with session.message_history() as history:
        first = history.get_recent(top_k=10, raw=True)[0]["entry_id"]
        history.drop(first)
    assert session.message_count() == 1
    user_list, tag_set = f"{prefix}:user:{{alice}}", f"{prefix}:tag:{{alice}}:vip"
    assert r.zscore(tag_set, "c") == r.zscore(user_list, "c")
    assert r.pexpiretime(tag_set) >= r.pexpiretime(f"{prefix}:conv:{{alice}}:c") > 0
    listed = AgentSession.list_sessions("alice", redis_url, prefix=prefix, tags=["vip"])
    assert [(info.conversation_id, info.message_count) for info in listed] == [("c", 1)]
    session.close()


# The index is opt-in: writes never create it


def message_indexes(r: redis.Redis, prefix: str) -> list[str]:
    return sorted(str(n) for n in r.execute_command("FT._LIST") if str(n).startswith(prefix))


async def test_writes_create_no_index(redis_url: str, prefix: str, r: redis.Redis) -> None:
    session = new(redis_url, prefix)
    await session.add_items([user("hi"), assistant("hello")])
    session.store_exchange("q", "a")
    await session.aadd_message("user", "more", source="test")
    assert await session.pop_item() == user("more")
    assert message_indexes(r, prefix) == []
    assert await AgentSession.adisable_message_index(redis_url, prefix=prefix) is False
    assert [i["content"] for i in await session.get_items()] == ["hi", "hello", "q", "a"]
    await session.aclose()


async def test_enabling_indexes_stored_and_later_messages_until_disabled(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    for n in range(40):
        await new(redis_url, prefix, cid=f"c{n}").add_items([user(f"q{n}"), assistant(f"a{n}")])
    r.hset(f"{prefix}:msgx:other-app", mapping={"role": "user", "session_tag": "c1"})

    assert await AgentSession.aenable_message_index(redis_url, prefix=prefix) == 80
    assert message_indexes(r, prefix) == [f"{prefix}:messages"]
    reader = MessageHistory(
        name=f"{prefix}:messages", session_tag="c7", redis_client=r, create_index=False
    )
    assert reader.get_recent(top_k=10, as_text=True) == ["q7", "a7"]
    await new(redis_url, prefix, cid="c7").add_items([user("later")])
    assert reader.get_recent(top_k=10, as_text=True) == ["q7", "a7", "later"]
    # Idempotent: the same index, with every message in it.
    assert AgentSession.enable_message_index(redis_url, prefix=prefix) == 81
    assert message_indexes(r, prefix) == [f"{prefix}:messages"]

    assert AgentSession.disable_message_index(redis_url, prefix=prefix) is True
    assert message_indexes(r, prefix) == []
    with pytest.raises(Exception, match=r"(?i)no such index|unknown index"):
        reader.get_recent()
    assert [i["content"] for i in await new(redis_url, prefix, cid="c7").get_items()] == [
        "q7",
        "a7",
        "later",
    ]
    assert await AgentSession.adisable_message_index(redis_url, prefix=prefix) is False


async def test_enabling_without_waiting_returns_at_once(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    session = new(redis_url, prefix)
    await session.add_items([user(str(n)) for n in range(500)])
    assert await AgentSession.aenable_message_index(redis_url, prefix=prefix, wait=False) == 0
    assert message_indexes(r, prefix) == [f"{prefix}:messages"]
    deadline = time.monotonic() + 10
    while int(r.ft(f"{prefix}:messages").info()["num_docs"]) < 500:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    await session.aclose()


async def test_message_history_creates_a_missing_index_holding_every_stored_message(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    session = new(redis_url, prefix)
    await session.add_items([user(str(n)) for n in range(3000)])
    assert message_indexes(r, prefix) == []
    # The server indexes stored hashes in the background (a few hundred of these 3,000
    # right after FT.CREATE): message_history() returns once all of them are in.
    with session.message_history() as history:
        assert history.count() == 3000
        assert len(history.get_recent(top_k=3000)) == 3000
    r.execute_command("FT.DROPINDEX", f"{prefix}:messages")
    await session.add_items([user("after the drop")])
    with session.message_history() as history:
        assert history.get_recent(top_k=1, as_text=True) == ["after the drop"]
        assert len(history.get_recent(top_k=4000)) == 3001
    await session.aclose()
