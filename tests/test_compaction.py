"""The SDK's compaction hook: atomic suffix replacement on AgentSession and JSONSession.

`OpenAIResponsesCompactionSession` calls `responses.compact`; a fake client stands in for
it, as in the SDK's own compaction tests, and the model is the SDK's `ScriptedModel`.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import inspect
import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import pytest
import redis
import redis.asyncio as aioredis
from agents import Agent, RunConfig, Runner
from agents.extensions.memory import EncryptedSession
from agents.memory import OpenAIResponsesCompactionSession
from agents.memory import session as sdk_session
from agents.testing import ScriptedModel
from packaging.specifiers import SpecifierSet
from redisvl.extensions.message_history import MessageHistory

from redis_openai_agents import AgentSession, InvalidItemError, JSONSession, compaction
from redis_openai_agents._base import RedisBackedSession
from redis_openai_agents.write_ids import RECORD_TTL_MS

KINDS = [AgentSession, JSONSession]
SUMMARY = {"type": "compaction", "id": "cmp_1", "encrypted_content": "synthetic-summary"}
ROOT = Path(__file__).resolve().parent.parent


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def reply(text: str) -> dict[str, Any]:
    return {
        "id": f"msg_{text}",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }


def make(kind: type[RedisBackedSession], prefix: str, **options: Any) -> Any:
    if kind is AgentSession:
        return AgentSession("conv", user_id="alice", prefix=prefix, **options)
    return JSONSession("doc", prefix=prefix, user_id="alice", **options)


def dump(r: redis.Redis, prefix: str) -> dict[str, Any]:
    """Every key under the prefix (write records aside): its value and whether it expires."""
    state: dict[str, Any] = {}
    for key in sorted(r.scan_iter(f"{prefix}:*", count=1000)):
        if ":writes:" in key or ":json-writes:" in key or key.startswith(f"{prefix}:messages"):
            continue
        kind = r.type(key)
        if kind == "hash":
            value: Any = r.hgetall(key)
        elif kind == "list":
            value = r.lrange(key, 0, -1)
        elif kind == "zset":
            value = r.zrange(key, 0, -1, withscores=True)
        else:
            value = json.loads(r.execute_command("JSON.GET", key))
        state[key] = (value, r.pttl(key) > 0)
    return state


def fake_client(output: list[Any], during: Any = None) -> MagicMock:
    """An OpenAI client whose `responses.compact` answers `output` (after `during()`)."""

    async def compact(**kwargs: Any) -> SimpleNamespace:
        if during is not None:
            await during()
        return SimpleNamespace(output=output)

    client = MagicMock()
    client.responses.compact = AsyncMock(side_effect=compact)
    return client


async def run_once(session: Any, text: str = "continue", answer: str = "done") -> None:
    """One Runner turn that sees only the latest item, so compaction covers a suffix."""
    agent = Agent(name="worker", model=ScriptedModel(steps=[[_output(answer)]]))
    config = RunConfig(session_settings={"limit": 1}, tracing_disabled=True)
    await Runner.run(agent, text, session=session, run_config=config)


def _output(text: str) -> Any:
    from openai.types.responses import ResponseOutputMessage, ResponseOutputText

    return ResponseOutputMessage(
        id=f"msg_{text}",
        type="message",
        role="assistant",
        status="completed",
        content=[ResponseOutputText(type="output_text", text=text, annotations=[])],
    )


# Through the SDK


@pytest.mark.parametrize("kind", KINDS)
async def test_the_sdk_replaces_only_the_compacted_suffix(
    kind: type[RedisBackedSession], redis_url: str, prefix: str, r: redis.Redis
) -> None:
    if kind is AgentSession:
        await AgentSession.aenable_message_index(redis_url, prefix=prefix)
    store = make(kind, prefix, redis_url=redis_url, ttl=600)
    history = [user(str(i)) for i in range(4)]
    await store.add_items(history)
    client = fake_client([SUMMARY])
    session = OpenAIResponsesCompactionSession(
        "conv",
        store,
        client=client,
        compaction_mode="input",
        should_trigger_compaction=lambda _: True,
    )
    await run_once(session)
    client.responses.compact.assert_awaited_once()
    # The model saw the last stored item and the new turn: that suffix was compacted.
    compacted = [user("3"), user("continue"), reply("done")]
    assert client.responses.compact.call_args.kwargs["input"] == compacted
    assert await store.get_items() == [*history[:3], SUMMARY]
    state = dump(r, prefix)
    assert state and all(expires for _, expires in state.values())
    if kind is AgentSession:
        assert await store.amessage_count() == 4
        meta = await store.aget_metadata()
        assert meta["message_count"] == 4 and meta["title"] == "0"
        [info] = await AgentSession.alist_sessions("alice", redis_url, prefix=prefix)
        assert info.message_count == 4
        mh = MessageHistory(
            name=f"{prefix}:messages", session_tag="conv", redis_client=r, create_index=False
        )
        recent = mh.get_recent(top_k=10, raw=True)
        assert [m["content"] for m in recent] == ["0", "1", "2", "[compaction]"]
        assert [float(m["timestamp"]) for m in recent] == sorted(
            float(m["timestamp"]) for m in recent
        )
        assert [json.loads(m["metadata"]) for m in recent] == [*history[:3], SUMMARY]
    else:
        assert (await store.get_metadata())["message_count"] == 4
    await store.aclose()


@pytest.mark.parametrize("kind", KINDS)
async def test_a_write_by_another_process_during_compaction_wins(
    kind: type[RedisBackedSession], redis_url: str, prefix: str
) -> None:
    store = make(kind, prefix, redis_url=redis_url)
    other_client = aioredis.Redis.from_url(redis_url)
    other = make(kind, prefix, redis_client=other_client)
    history = [user(str(i)) for i in range(4)]
    await store.add_items(history)
    newer = user("written elsewhere meanwhile")
    client = fake_client([SUMMARY], during=lambda: other.add_items([newer]))
    session = OpenAIResponsesCompactionSession(
        "conv",
        store,
        client=client,
        compaction_mode="input",
        should_trigger_compaction=lambda _: True,
    )
    await run_once(session)
    client.responses.compact.assert_awaited_once()
    assert await store.get_items() == [*history, user("continue"), reply("done"), newer]
    await other.aclose()
    await other_client.aclose()
    await store.aclose()


# The hook itself


# AgentSession items have an identity (a sequence number, in a conversation created at a
# given time), so an item popped and added again is another item. A JSON document's items
# have none beyond their text and place: the same items in the same places are the suffix
# the snapshot read, and replacing them is what the SDK asked for.
SAME_TEXT_IN_SAME_PLACE = {(JSONSession, "pop and re-add"), (JSONSession, "clear and re-add")}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("change", ["append", "pop", "clear", "pop and re-add", "clear and re-add"])
async def test_a_changed_suffix_is_refused_and_nothing_is_written(
    kind: type[RedisBackedSession], change: str, redis_url: str, prefix: str, r: redis.Redis
) -> None:
    store = make(kind, prefix, redis_url=redis_url, ttl=600)
    items = [user("a"), reply("b"), user("c"), reply("d")]
    await store.add_items(items)
    snapshot = await store._get_compaction_snapshot(3)
    assert snapshot.items == items[1:] and snapshot.complete is False

    other_client = aioredis.Redis.from_url(redis_url)
    other = make(kind, prefix, redis_client=other_client)
    if change == "append":
        await other.add_items([user("e")])
    elif change == "pop":
        await other.pop_item()
    elif change == "clear":
        await other.clear_session()
    elif change == "pop and re-add":
        await other.add_items([await other.pop_item()])
    else:
        await other.clear_session()
        await other.add_items(items)
    before = dump(r, prefix)
    replaced = await snapshot.replace_suffix(1, [SUMMARY])
    if (kind, change) in SAME_TEXT_IN_SAME_PLACE:
        assert replaced is True
        assert await store.get_items() == [*items[:2], SUMMARY]
    else:
        assert replaced is False
        assert dump(r, prefix) == before
    await other.aclose()
    await other_client.aclose()
    await store.aclose()


@pytest.mark.parametrize("kind", KINDS)
async def test_the_snapshot_is_bounded_and_says_whether_it_is_complete(
    kind: type[RedisBackedSession], redis_url: str, prefix: str
) -> None:
    store = make(kind, prefix, redis_url=redis_url)
    empty = await store._get_compaction_snapshot(5)
    assert empty.items == [] and empty.complete is True
    assert await empty.replace_suffix(0, [SUMMARY]) is False
    items = [user(str(i)) for i in range(6)]
    await store.add_items(items)
    whole = await store._get_compaction_snapshot(6)
    assert whole.items == items and whole.complete is True
    part = await store._get_compaction_snapshot(2)
    assert part.items == items[4:] and part.complete is False
    assert await part.replace_suffix(2, [SUMMARY]) is False  # an empty suffix
    with pytest.raises(ValueError):
        await part.replace_suffix(-1, [SUMMARY])
    with pytest.raises(InvalidItemError):
        await part.replace_suffix(0, [{"bad": float("nan")}])
    assert await store.get_items() == items
    # The whole history replaced by nothing: the conversation is empty, still usable.
    assert await whole.replace_suffix(0, []) is True
    assert await whole.replace_suffix(0, []) is False
    assert await store.get_items() == []
    await store.add_items([user("again")])
    assert await store.get_items() == [user("again")]
    await store.aclose()


@pytest.mark.parametrize("kind", KINDS)
async def test_a_re_sent_replacement_is_applied_once(
    kind: type[RedisBackedSession], redis_url: str, prefix: str, r: redis.Redis
) -> None:
    store = make(kind, prefix, redis_url=redis_url)
    await store.add_items([user("a"), reply("b"), user("c")])
    sent: list[tuple[Any, str, list[str], list[Any]]] = []
    write = store._connection.write

    async def capture(
        script: Any, records: str, keys: list[str], args: list[Any], *a: Any, **k: Any
    ):
        sent.append((script, records, keys, args))
        return await write(script, records, keys, args, *a, **k)

    store._connection.write = capture
    snapshot = await store._get_compaction_snapshot(2)
    assert await snapshot.replace_suffix(0, [SUMMARY]) is True
    after = dump(r, prefix)
    script, records, keys, args = sent[-1]
    client = store._client()
    # The same write re-sent under one write id (a retry): one outcome, applied once.
    outcomes = [
        await script(client, [*keys, records], [*args, "one-write-id", RECORD_TTL_MS])
        for _ in range(3)
    ]
    assert outcomes[0] == outcomes[1] == outcomes[2]
    assert dump(r, prefix) == after
    assert await store.get_items() == [user("a"), SUMMARY]
    # A new call with the same arguments is a new write: the suffix it names is gone.
    assert await snapshot.replace_suffix(0, [SUMMARY]) is False
    assert dump(r, prefix) == after
    await store.aclose()


async def test_replacement_keeps_every_key_on_one_expiry(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    store = make(AgentSession, prefix, redis_url=redis_url, ttl=600)
    await store.add_items([user(str(i)) for i in range(5)])
    snapshot = await store._get_compaction_snapshot(3)
    assert await snapshot.replace_suffix(1, [SUMMARY, reply("kept")]) is True
    deadlines = {k: r.pexpiretime(k) for k in dump(r, prefix)}
    assert all(d > 0 for d in deadlines.values())
    assert len(set(deadlines.values())) == 1
    order = r.lrange(store._keys.order, 0, -1)
    assert order == ["0", "1", "2", "5", "6"]
    assert r.hget(store._keys.meta, "count") == "5"
    assert not r.exists(store._keys.message(3)) and not r.exists(store._keys.message(4))
    assert await store.get_items() == [user(str(i)) for i in range(3)] + [SUMMARY, reply("kept")]
    await store.aclose()


async def test_a_subclass_that_transforms_items_offers_no_snapshot(
    redis_url: str, prefix: str
) -> None:
    class Upper(AgentSession):
        async def get_items(self, limit: int | None = None) -> list[Any]:
            return [{**i, "content": i["content"].upper()} for i in await super().get_items(limit)]

    store = Upper("conv", user_id="alice", redis_url=redis_url, prefix=prefix)
    await store.add_items([user("a")])
    assert await store._get_compaction_snapshot(5) is None
    await store.aclose()


# EncryptedSession over our classes


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("outer", [False, True], ids=["compaction-outside", "encryption-outside"])
async def test_encrypted_session_forwards_the_hook_and_prunes_expired_items(
    kind: type[RedisBackedSession],
    outer: bool,
    redis_url: str,
    prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As the SDK's own suffix test: expired envelopes before the live window are dropped."""
    clock = [1000]
    monkeypatch.setattr("cryptography.fernet.time.time", lambda: clock[0])
    store = make(kind, prefix, redis_url=redis_url, session_settings={"limit": 20})
    calls: list[int] = []
    hook = store._get_compaction_snapshot

    async def counted(limit: int, **options: Any) -> Any:
        calls.append(limit)
        return await hook(limit, **options)

    monkeypatch.setattr(store, "_get_compaction_snapshot", counted)
    client = fake_client([])
    session: Any
    if outer:
        session = EncryptedSession(
            "conv",
            OpenAIResponsesCompactionSession("conv", store, client=client),
            encryption_key="synthetic-key",
            ttl=10,
        )
    else:
        session = OpenAIResponsesCompactionSession(
            "conv",
            EncryptedSession("conv", store, encryption_key="synthetic-key", ttl=10),
            client=client,
        )
    await session.add_items([user("expired")] * 40)
    clock[0] += 11
    await session.add_items(
        [{"role": "assistant" if i % 2 else "user", "content": f"live {i}"} for i in range(20)]
    )
    agent = Agent(name="worker", model=ScriptedModel(steps=[[_output("done")]]))
    config = RunConfig(tracing_disabled=True)
    await Runner.run(agent, "continue", session=session, run_config=config)
    assert calls, "the SDK did not ask our session for a snapshot"
    client.responses.compact.assert_awaited_once()
    assert "expired" not in str(client.responses.compact.call_args.kwargs)
    assert len(client.responses.compact.call_args.kwargs["input"]) == 22
    assert await store.get_items(limit=100) == []
    if kind is AgentSession:
        assert await store.amessage_count() == 0
    await store.aclose()


# The SDK's private hook, as this package relies on it


def test_the_installed_sdk_is_in_the_supported_range() -> None:
    [pin] = re.findall(r'^  "openai-agents([^"]*)",$', (ROOT / "pyproject.toml").read_text(), re.M)
    supported = SpecifierSet(pin)
    assert supported.contains("0.24.0") and not supported.contains("0.25.0")
    assert importlib.metadata.version("openai-agents") in supported


def test_the_sdk_compaction_snapshot_has_the_shape_the_sessions_build() -> None:
    """Fails when an SDK release changes the private hook our sessions implement."""
    snapshot_type = sdk_session._CompactionSnapshot
    assert compaction.Snapshot is snapshot_type
    assert dataclasses.is_dataclass(snapshot_type)
    assert snapshot_type.__dataclass_params__.frozen  # type: ignore[attr-defined]
    fields = [(f.name, str(f.type)) for f in dataclasses.fields(snapshot_type)]
    assert fields == [
        ("items", "list[TResponseInputItem]"),
        ("complete", "bool"),
        ("replace_suffix", "Callable[[int, list[TResponseInputItem]], Awaitable[bool]]"),
    ]
    compaction_source = inspect.getsource(OpenAIResponsesCompactionSession)
    assert 'getattr(self.underlying_session, "_get_compaction_snapshot", None)' in (
        compaction_source
    )
    assert "await read_snapshot(len(model_items) + 1)" in compaction_source
    assert "await snapshot.replace_suffix(suffix_start, output_items)" in compaction_source
    encrypted_source = inspect.getsource(EncryptedSession._get_compaction_snapshot)
    assert "await reader(limit, prune_prefix=is_expired)" in encrypted_source
    ours = inspect.signature(AgentSession._get_compaction_snapshot)
    assert list(ours.parameters) == ["self", "limit", "prune_prefix"]
    assert inspect.signature(JSONSession._get_compaction_snapshot) == ours


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("count", [1, 1500], ids=["one-item", "more-than-one-command-carries"])
async def test_a_long_history_is_replaced_whole_and_in_order(
    kind: type[RedisBackedSession], count: int, redis_url: str, prefix: str
) -> None:
    store = make(kind, prefix, redis_url=redis_url)
    old = [user(f"old {i}") for i in range(1200)]
    await store.add_items(old)
    snapshot = await store._get_compaction_snapshot(1000)
    assert snapshot.items == old[200:] and snapshot.complete is False
    new = [reply(f"new {i}") for i in range(count)]
    assert await snapshot.replace_suffix(10, new) is True
    assert await store.get_items() == old[:210] + new
    await store.aclose()


@pytest.mark.parametrize("kind", KINDS)
async def test_the_snapshot_and_the_replacement_are_one_round_trip_each(
    kind: type[RedisBackedSession], redis_url: str, prefix: str
) -> None:
    from test_round_trips import ServerCommands

    store = make(kind, prefix, redis_url=redis_url, ttl=600)
    await store.add_items([user(str(i)) for i in range(30)])
    warm = await store._get_compaction_snapshot(5)
    assert await warm.replace_suffix(4, [SUMMARY]) is True
    server = ServerCommands(redis_url)
    try:
        with server.capture() as read:
            snapshot = await store._get_compaction_snapshot(10)
        with server.capture() as write:
            assert await snapshot.replace_suffix(2, [SUMMARY]) is True
    finally:
        server.close()
    assert read == ["EVALSHA"] and write == ["EVALSHA"]
    await store.aclose()


@pytest.mark.parametrize("when", ["before the snapshot", "between snapshot and replacement"])
async def test_a_conversation_with_branches_is_not_compacted(
    when: str, redis_url: str, prefix: str, r: redis.Redis
) -> None:
    """Branches share the items of main: replacing them would rewrite every branch, so the
    replacement is refused (the SDK then keeps the history as it is)."""
    store = AgentSession("conv", user_id="alice", prefix=prefix, redis_url=redis_url)
    items = [user("a"), reply("b"), user("c"), reply("d")]
    await store.add_items(items)
    other = AgentSession("conv", user_id="alice", prefix=prefix, redis_url=redis_url)
    if when == "before the snapshot":
        await other.create_branch_from_turn(2, "side")
    snapshot = await store._get_compaction_snapshot(3)
    if when != "before the snapshot":
        await other.create_branch_from_turn(2, "side")
    before = dump(r, prefix)
    assert await snapshot.replace_suffix(1, [SUMMARY]) is False
    assert dump(r, prefix) == before
    assert await store.get_items() == items
    await other.switch_to_branch("side")
    assert await other.get_items() == items[:2]
    await other.aclose()
    await store.aclose()


async def test_a_tagged_conversation_stays_listed_under_its_tags_after_compaction(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    """The replacement moves the conversation in its tag lists and their expiry as an
    append does, also when another process tagged it after this object last looked."""
    store = AgentSession("conv", user_id="alice", prefix=prefix, redis_url=redis_url, ttl=600)
    items = [user("a"), reply("b"), user("c"), reply("d")]
    await store.add_items(items)
    other = AgentSession("conv", user_id="alice", prefix=prefix, redis_url=redis_url, ttl=600)
    await other.aset_tags(["billing"])
    snapshot = await store._get_compaction_snapshot(3)
    before = (await AgentSession.alist_sessions("alice", redis_url, prefix=prefix))[0].updated_at
    assert await snapshot.replace_suffix(1, [SUMMARY]) is True
    assert await store.get_items() == [*items[:2], SUMMARY]
    tagged = await AgentSession.alist_sessions("alice", redis_url, prefix=prefix, tags=["billing"])
    assert [info.conversation_id for info in tagged] == ["conv"]
    assert tagged[0].updated_at > before
    tag_set = f"{prefix}:tag:{{alice}}:billing"
    meta = f"{prefix}:conv:{{alice}}:conv"
    assert r.zscore(tag_set, "conv") == r.zscore(f"{prefix}:user:{{alice}}", "conv")
    assert r.pexpiretime(tag_set) >= r.pexpiretime(meta) > 0
    await other.aclose()
    await store.aclose()
