"""Conversation tags: setting and changing them, listing by tag, and nothing left behind."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
import redis

from redis_openai_agents import (
    AgentSession,
    InvalidTagError,
    SessionNotFoundError,
    aerase_user,
    scripts,
)
from redis_openai_agents.keys import tag_index_key
from redis_openai_agents.write_ids import RECORD_TTL_MS


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def tag_key(prefix: str, user_id: str, tag: str) -> str:
    return tag_index_key(prefix, user_id, tag)


async def created(redis_url: str, prefix: str, user_id: str, cid: str, **kw: Any) -> AgentSession:
    session = await AgentSession.acreate(
        user_id, redis_url, conversation_id=cid, prefix=prefix, **kw
    )
    await session.add_items([user(f"hello from {cid}")])
    return session


async def ids(redis_url: str, prefix: str, user_id: str, **kw: Any) -> list[str]:
    infos = await AgentSession.alist_sessions(user_id, redis_url, prefix=prefix, **kw)
    return [info.conversation_id for info in infos]


async def test_set_add_remove_and_read_tags(redis_url: str, prefix: str, user_id: str) -> None:
    session = await created(redis_url, prefix, user_id, "c1")
    assert await session.atags() == []
    assert await session.aset_tags(["work", "travel", "work"]) == ["work", "travel"]
    assert await session.aadd_tags(["urgent", "travel"]) == ["work", "travel", "urgent"]
    assert await session.aremove_tags(["travel", "never-had"]) == ["work", "urgent"]
    other = await AgentSession.aload("c1", user_id, redis_url, prefix=prefix)
    assert await other.atags() == ["work", "urgent"]
    assert session.set_tags([]) == [] and session.tags() == []
    assert session.add_tags(["Work", "work"]) == ["Work", "work"]  # case-sensitive
    (info,) = await AgentSession.alist_sessions(user_id, redis_url, prefix=prefix)
    assert info.tags == ("Work", "work")
    await session.aclose()
    await other.aclose()


async def test_tagging_is_not_a_write_to_the_conversation(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    first = await created(redis_url, prefix, user_id, "first", ttl=100)
    second = await created(redis_url, prefix, user_id, "second", ttl=100)
    before = {
        i.conversation_id: i
        for i in await AgentSession.alist_sessions(user_id, redis_url, prefix=prefix)
    }
    meta = f"{prefix}:conv:{{{user_id}}}:first"
    expiry = r.pexpiretime(meta)
    await first.aset_tags(["a"])
    after = {
        i.conversation_id: i
        for i in await AgentSession.alist_sessions(user_id, redis_url, prefix=prefix)
    }
    assert after["first"].updated_at == before["first"].updated_at
    assert await ids(redis_url, prefix, user_id) == ["second", "first"]
    assert r.pexpiretime(meta) == expiry
    # The tag set lives exactly as long as the conversation it names.
    assert r.pexpiretime(tag_key(prefix, user_id, "a")) == expiry
    await first.aclose()
    await second.aclose()


async def test_list_sessions_by_tag_is_newest_first_pages_and_intersects(
    redis_url: str, prefix: str, user_id: str
) -> None:
    sessions = [await created(redis_url, prefix, user_id, f"c{i}") for i in range(6)]
    for i, session in enumerate(sessions):
        await session.aset_tags(
            ["even" if i % 2 == 0 else "odd", *(["three"] if i % 3 == 0 else [])]
        )
    assert await ids(redis_url, prefix, user_id, tags=["even"]) == ["c4", "c2", "c0"]
    assert await ids(redis_url, prefix, user_id, tags=["odd"]) == ["c5", "c3", "c1"]
    assert await ids(redis_url, prefix, user_id, tags=["even", "three"]) == ["c0"]
    assert await ids(redis_url, prefix, user_id, tags=["three", "odd"]) == ["c3"]
    assert await ids(redis_url, prefix, user_id, tags=["odd", "even"]) == []
    assert await ids(redis_url, prefix, user_id, tags=["nobody-has-it"]) == []
    assert await ids(redis_url, prefix, user_id, tags=[]) == [f"c{i}" for i in reversed(range(6))]
    # A write moves the conversation to the front of its tag lists too, as in the full list.
    await sessions[0].add_items([user("again")])
    assert await ids(redis_url, prefix, user_id, tags=["even"]) == ["c0", "c4", "c2"]
    assert await ids(redis_url, prefix, user_id, tags=["even", "three"]) == ["c0"]
    # Paging: limit and offset count matching conversations only.
    assert await ids(redis_url, prefix, user_id, tags=["even"], limit=2) == ["c0", "c4"]
    assert await ids(redis_url, prefix, user_id, tags=["even"], limit=2, offset=2) == ["c2"]
    assert await ids(redis_url, prefix, user_id, tags=["odd"], limit=0) == []
    sync = AgentSession.list_sessions(user_id, redis_url, prefix=prefix, tags=["odd"], limit=1)
    assert [i.conversation_id for i in sync] == ["c5"]
    listed = await AgentSession.alist_conversations(user_id, redis_url, prefix=prefix, tags=["odd"])
    assert [s.conversation_id for s in listed] == ["c5", "c3", "c1"]
    listed_sync = AgentSession.list_conversations(user_id, redis_url, prefix=prefix, tags=["three"])
    assert [s.conversation_id for s in listed_sync] == ["c0", "c3"]
    # A pop is a write too: it moves the conversation in every list alike.
    await sessions[2].pop_item()
    assert await ids(redis_url, prefix, user_id, tags=["even"]) == ["c2", "c0", "c4"]
    assert (await ids(redis_url, prefix, user_id))[0] == "c2"
    for session in sessions:
        await session.aclose()


async def test_tags_are_scoped_to_their_user(redis_url: str, prefix: str) -> None:
    alice = await created(redis_url, prefix, "alice", "same-id")
    bob = await created(redis_url, prefix, "bob", "same-id")
    await alice.aset_tags(["secret"])
    assert await ids(redis_url, prefix, "bob", tags=["secret"]) == []
    assert await bob.atags() == []
    assert await ids(redis_url, prefix, "alice", tags=["secret"]) == ["same-id"]
    await alice.aclose()
    await bob.aclose()


async def test_a_write_through_an_object_that_does_not_know_the_tags_keeps_them_in_step(
    redis_url: str, prefix: str, user_id: str
) -> None:
    """Another process tags the conversation: this object's next write learns the tags
    from the script's refusal, sends again declaring their sets, and is applied once."""
    writer = AgentSession("c", user_id=user_id, redis_url=redis_url, prefix=prefix)
    await writer.add_items([user("one")])
    other = AgentSession("c", user_id=user_id, redis_url=redis_url, prefix=prefix)
    await created(redis_url, prefix, user_id, "later")
    await other.aset_tags(["t1", "t2"])
    assert await ids(redis_url, prefix, user_id, tags=["t1"]) == ["c"]
    await writer.add_items([user("two")])
    assert [i["content"] for i in await writer.get_items()] == ["one", "two"]
    assert await ids(redis_url, prefix, user_id, tags=["t2"]) == ["c"]
    assert (await ids(redis_url, prefix, user_id))[0] == "c"
    # Removed elsewhere: the tag set this object still declares is left alone.
    await other.aremove_tags(["t2"])
    assert await writer.pop_item() == user("two")
    assert await ids(redis_url, prefix, user_id, tags=["t2"]) == []
    # A tag write through an object with stale tags still removes the old sets.
    stale = AgentSession("c", user_id=user_id, redis_url=redis_url, prefix=prefix)
    assert await stale.aset_tags(["t3"]) == ["t3"]
    assert await ids(redis_url, prefix, user_id, tags=["t1"]) == []
    assert await ids(redis_url, prefix, user_id, tags=["t3"]) == ["c"]
    await writer.aclear()
    assert await ids(redis_url, prefix, user_id, tags=["t3"]) == []
    for s in (writer, other, stale):
        await s.aclose()


async def test_a_re_sent_tag_write_is_applied_once(
    redis_url: str, prefix: str, user_id: str
) -> None:
    session = await created(redis_url, prefix, user_id, "c")
    await session.aset_tags(["a"])
    client = session._client()
    keys = [
        session._keys.meta,
        session._keys.user_index,
        tag_key(prefix, user_id, "a"),
        tag_key(prefix, user_id, "b"),
        session._keys.write_records,
    ]
    args = ["add", "c", f"{prefix}:conv:{{{user_id}}}:", "b", "tag-write", RECORD_TTL_MS]
    first = await scripts.TAGS(client, keys, args)
    assert json.loads(first) == ["a", "b"]
    await session.aremove_tags(["b"])
    again = await scripts.TAGS(client, keys, args)
    assert first == again
    assert await session.atags() == ["a"]
    assert await ids(redis_url, prefix, user_id, tags=["b"]) == []
    await session.aclose()


async def test_deleting_a_conversation_leaves_no_tag_set_behind(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    keep = await created(redis_url, prefix, user_id, "keep")
    gone = await created(redis_url, prefix, user_id, "gone")
    await keep.aset_tags(["shared"])
    await gone.aset_tags(["shared", "only-gone"])
    await gone.aclear()
    assert not r.exists(tag_key(prefix, user_id, "only-gone"))
    assert r.zrange(tag_key(prefix, user_id, "shared"), 0, -1) == ["keep"]
    assert await gone.atags() == []
    await keep.adelete()
    assert sorted(r.scan_iter(f"{prefix}:tag:*")) == []
    await keep.aclose()
    await gone.aclose()


async def test_erase_user_removes_every_tag_set(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    for cid in ("a", "b", "c"):
        session = await created(redis_url, prefix, "erased", cid)
        await session.aset_tags(["t", cid])
        await session.aclose()
    bystander = await created(redis_url, prefix, "bystander", "a")
    await bystander.aset_tags(["t"])
    erased = await aerase_user("erased", redis_url=redis_url, prefix=prefix)
    assert erased.conversations == 3
    assert list(r.scan_iter(f"{prefix}:*{{erased}}*")) == []
    assert await ids(redis_url, prefix, "bystander", tags=["t"]) == ["a"]
    await bystander.aclose()


async def test_a_tag_list_forgets_conversations_that_expired(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    lasting = await created(redis_url, prefix, user_id, "lasting")
    brief = await created(redis_url, prefix, user_id, "brief", ttl=0.3)
    await lasting.aset_tags(["t"])
    await brief.aset_tags(["t"])
    key = tag_key(prefix, user_id, "t")
    assert r.pexpiretime(key) == -1  # one conversation without ttl keeps the set
    await asyncio.sleep(0.6)
    assert await ids(redis_url, prefix, user_id, tags=["t"]) == ["lasting"]
    assert r.zrange(key, 0, -1) == ["lasting"]
    # Only expiring conversations: the set goes with the last of them.
    solo = await created(redis_url, prefix, user_id, "solo", ttl=0.3)
    await solo.aset_tags(["solo-tag"])
    assert r.exists(tag_key(prefix, user_id, "solo-tag"))
    deadline = time.monotonic() + 3
    while r.exists(tag_key(prefix, user_id, "solo-tag")) and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert not r.exists(tag_key(prefix, user_id, "solo-tag"))
    for s in (lasting, brief, solo):
        await s.aclose()


async def test_a_ttl_given_later_is_followed_by_the_tag_sets(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    session = await created(redis_url, prefix, user_id, "c")
    await session.aset_tags(["t"])
    key = tag_key(prefix, user_id, "t")
    assert r.pexpiretime(key) == -1
    later = AgentSession("c", user_id=user_id, redis_url=redis_url, prefix=prefix, ttl=60)
    await later.add_items([user("now with a ttl")])
    meta = f"{prefix}:conv:{{{user_id}}}:c"
    assert r.pexpiretime(key) == r.pexpiretime(meta) > 0
    await session.aclose()
    await later.aclose()


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("work", "single string"),
        ([""], "empty"),
        ([3], "not a string"),
        ([None], "not a string"),
        (["x" * 129], "too long"),
        (["a\nb"], "line break"),
        (["a\x00b"], "NUL"),
        (["a\x1fb"], "unit separator"),
        ([" padded"], "leading space"),
        (["padded "], "trailing space"),
        (["\ud800"], "lone surrogate"),
        (5, "not a list"),
    ],
)
async def test_bad_tags_raise_a_typed_error_and_write_nothing(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis, bad: Any, why: str
) -> None:
    session = await created(redis_url, prefix, user_id, "c")
    await session.aset_tags(["kept"])
    for call in (session.aset_tags, session.aadd_tags, session.aremove_tags):
        with pytest.raises(InvalidTagError):
            await call(bad)
    with pytest.raises(InvalidTagError):
        await AgentSession.alist_sessions(user_id, redis_url, prefix=prefix, tags=bad)
    assert await session.atags() == ["kept"]
    assert isinstance(InvalidTagError("x"), ValueError)
    await session.aclose()


async def test_unusual_but_allowed_tags_round_trip(
    redis_url: str, prefix: str, user_id: str
) -> None:
    odd = ["x" * 128, "{braces}", "a:b*c?", "é-ü 猫 🎉", "with space", "%41", "\"'"]
    session = await created(redis_url, prefix, user_id, "c")
    assert await session.aset_tags(odd) == odd
    for tag in odd:
        assert await ids(redis_url, prefix, user_id, tags=[tag]) == ["c"]
    assert await ids(redis_url, prefix, user_id, tags=["{braces}", "猫"]) == []
    await session.aclose()


async def test_tagging_a_conversation_that_does_not_exist_raises(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    session = AgentSession("never-written", user_id=user_id, redis_url=redis_url, prefix=prefix)
    with pytest.raises(SessionNotFoundError):
        await session.aset_tags(["a"])
    with pytest.raises(SessionNotFoundError):
        session.add_tags(["a"])
    assert await session.atags() == []
    # Only the write records remain: nothing of a conversation or a tag.
    assert [k for k in r.scan_iter(f"{prefix}:*") if ":writes:" not in k] == []
    await session.aclose()


async def test_tags_follow_writes_on_branches_and_clear_with_them(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    """A write on any branch moves the conversation in its tag lists; clearing a branched
    conversation leaves no tag set behind."""
    session = await created(redis_url, prefix, user_id, "branched")
    await session.add_items([user("second turn")])
    await created(redis_url, prefix, user_id, "other")
    await session.aset_tags(["t"])
    other = AgentSession("other", user_id=user_id, redis_url=redis_url, prefix=prefix)
    await other.aset_tags(["t"])
    assert await ids(redis_url, prefix, user_id, tags=["t"]) == ["other", "branched"]
    await session.create_branch_from_turn(2, "alt")
    await session.add_items([user("on the branch")])
    assert await ids(redis_url, prefix, user_id, tags=["t"]) == ["branched", "other"]
    assert await ids(redis_url, prefix, user_id) == ["branched", "other"]
    await session.pop_item()
    await session.aclear()
    assert r.zrange(tag_key(prefix, user_id, "t"), 0, -1) == ["other"]
    await other.aclear()
    assert list(r.scan_iter(f"{prefix}:tag:*")) == []
    await session.aclose()
    await other.aclose()
