"""Importing from the SDK's sessions and 0.1.0, JSON Lines export and import, against Redis.

Sources are written by the real SDK classes (`SQLiteSession`, `RedisSession`) and by
RedisVL's `MessageHistory` as 0.1.0 used it; what was imported is read back through fresh
AgentSession objects and compared type for type with what the source held.
"""

from __future__ import annotations

import io
import json
import sqlite3
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio as aioredis
from agents import SQLiteSession
from agents.extensions.memory import RedisSession
from redisvl.extensions.message_history import MessageHistory
from test_runner_sessions import ITEM_CATALOGUE, assert_identical_json

from redis_openai_agents import (
    AgentSession,
    RedisUnavailableError,
    TransferSourceError,
    transfer,
)
from redis_openai_agents.transfer import Conversation

CATALOGUE = list(ITEM_CATALOGUE.values())


async def stored(url: str, prefix: str, user_id: str, conversation_id: str) -> list[Any]:
    session = AgentSession(conversation_id, user_id=user_id, redis_url=url, prefix=prefix)
    try:
        return await session.get_items()
    finally:
        await session.aclose()


async def sqlite_db(path: Path, sessions: dict[str, list[Any]]) -> Path:
    for session_id, items in sessions.items():
        session = SQLiteSession(session_id, path)
        await session.add_items(items)
        session.close()
    return path


async def test_sqlite_import_is_lossless_idempotent_and_keeps_session_ids(
    tmp_path: Path, redis_url: str, prefix: str, user_id: str
) -> None:
    sessions = {"support-1": CATALOGUE, "support-2": CATALOGUE[:3], "empty-items": []}
    db = await sqlite_db(tmp_path / "sdk.db", {k: v for k, v in sessions.items() if v})
    handled: list[int] = []
    report = await transfer.aimport_conversations(
        transfer.read_sqlite(db),
        user_id=user_id,
        redis_url=redis_url,
        prefix=prefix,
        progress=handled.append,
    )
    assert (report.conversations, report.created, report.items_written) == (
        2,
        2,
        len(CATALOGUE) + 3,
    )
    assert sum(handled) == len(CATALOGUE) + 3
    assert_identical_json(await stored(redis_url, prefix, user_id, "support-1"), CATALOGUE)
    assert_identical_json(await stored(redis_url, prefix, user_id, "support-2"), CATALOGUE[:3])
    # The SDK id opens the imported conversation: switching is a one-line change.
    loaded = await AgentSession.aload(
        conversation_id="support-1", user_id=user_id, redis_url=redis_url, prefix=prefix
    )
    assert await loaded.amessage_count() == len(CATALOGUE)
    await loaded.aclose()

    again = await transfer.aimport_conversations(
        transfer.read_sqlite(db), user_id=user_id, redis_url=redis_url, prefix=prefix
    )
    assert (again.unchanged, again.created, again.resumed, again.items_written) == (2, 0, 0, 0)
    assert len(await stored(redis_url, prefix, user_id, "support-1")) == len(CATALOGUE)


async def test_an_interrupted_import_resumes_and_a_differing_conversation_is_left_alone(
    tmp_path: Path, redis_url: str, prefix: str, user_id: str
) -> None:
    items = [{"role": "user", "content": f"message {i}", "n": i} for i in range(1_200)]
    options: dict[str, Any] = {"user_id": user_id, "redis_url": redis_url, "prefix": prefix}
    # An import stopped after its first atomic batch left the first part of the items.
    first = await transfer.aimport_conversations([Conversation("long", items[:500])], **options)
    assert first.created == 1
    other = AgentSession("mine", user_id=user_id, redis_url=redis_url, prefix=prefix)
    await other.add_items([{"role": "user", "content": "written here, not in the source"}])
    await other.aclose()

    source = [Conversation("long", items), Conversation("mine", [{"role": "user", "content": "x"}])]
    report = await transfer.aimport_conversations(source, **options)
    assert (report.resumed, report.items_written, report.conflicts) == (1, 700, ["mine"])
    assert_identical_json(await stored(redis_url, prefix, user_id, "long"), items)
    assert await stored(redis_url, prefix, user_id, "mine") == [
        {"role": "user", "content": "written here, not in the source"}
    ]


async def test_redis_session_import_reads_the_sdk_layout(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    key_prefix = f"{prefix}-sdk"
    client = aioredis.Redis.from_url(redis_url)
    try:
        for session_id, items in {"a": CATALOGUE, "b:messages": CATALOGUE[-2:]}.items():
            sdk = RedisSession(session_id, redis_client=client, key_prefix=key_prefix)
            await sdk.add_items(items)
        report = await transfer.aimport_conversations(
            transfer.read_redis_sessions(key_prefix, redis_url=redis_url),
            user_id=user_id,
            redis_url=redis_url,
            prefix=prefix,
        )
    finally:
        await client.aclose()
        for key in r.scan_iter(f"{key_prefix}:*"):
            r.delete(key)
    assert (report.conversations, report.created) == (2, 2)
    assert_identical_json(await stored(redis_url, prefix, user_id, "a"), CATALOGUE)
    assert_identical_json(await stored(redis_url, prefix, user_id, "b:messages"), CATALOGUE[-2:])


async def test_v0_1_message_history_import_keeps_order_and_text(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    name = f"{prefix}-v01"
    conversations = {
        "conv-a": [("user", "Hi, I am Ann"), ("assistant", "Hello Ann"), ("user", "Bye")],
        "conv-b": [("user", "Only one")],
    }
    try:
        for tag, messages in conversations.items():
            history = MessageHistory(name=name, session_tag=tag, redis_url=redis_url)
            for role, content in messages:
                history.add_message({"role": role, "content": content})
        report = await transfer.aimport_conversations(
            transfer.read_message_history(name, redis_url=redis_url),
            user_id=user_id,
            redis_url=redis_url,
            prefix=prefix,
        )
    finally:
        for key in r.scan_iter(f"{name}:*"):
            r.delete(key)
        r.execute_command("FT.DROPINDEX", name)
    assert report.created == 2
    for tag, messages in conversations.items():
        assert await stored(redis_url, prefix, user_id, tag) == [
            {"role": role, "content": content} for role, content in messages
        ]
    infos = await AgentSession.alist_sessions(user_id=user_id, redis_url=redis_url, prefix=prefix)
    assert {i.title for i in infos} == {"Hi, I am Ann", "Only one"}


async def test_jsonl_export_then_import_round_trips_every_item_type(
    tmp_path: Path, redis_url: str, prefix: str, user_id: str
) -> None:
    source = AgentSession.create(
        user_id=user_id, redis_url=redis_url, prefix=prefix, conversation_id="c1"
    )
    await source.add_items(CATALOGUE)
    await source.astore_exchange("second", "conversation", agent_name="triage")
    await source.aclose()
    AgentSession.create(
        user_id=user_id, redis_url=redis_url, prefix=prefix, conversation_id="empty"
    ).close()

    path = tmp_path / "export.jsonl"
    assert await transfer.aexport_user(user_id, path, redis_url=redis_url, prefix=prefix) == 2
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert {line["conversation_id"] for line in lines} == {"c1", "empty"}
    assert all(line["user_id"] == user_id for line in lines)

    newcomer = f"{user_id}-copy"
    options: dict[str, Any] = {"redis_url": redis_url, "prefix": prefix, "user_id": newcomer}
    report = await transfer.aimport_conversations(transfer.read_jsonl(path), **options)
    assert report.created == 2
    expected = [*CATALOGUE, {"role": "user", "content": "second"}]
    expected.append({"role": "assistant", "content": "conversation"})
    assert_identical_json(await stored(redis_url, prefix, newcomer, "c1"), expected)
    loaded = await AgentSession.aload(
        conversation_id="c1", user_id=newcomer, redis_url=redis_url, prefix=prefix
    )
    assert loaded.current_agent == "triage"
    await loaded.aclose()
    assert await stored(redis_url, prefix, newcomer, "empty") == []

    again = await transfer.aimport_conversations(transfer.read_jsonl(path), **options)
    assert (again.unchanged, again.items_written) == (2, 0)
    buffer = io.StringIO()
    assert await transfer.aexport_user(newcomer, buffer, redis_url=redis_url, prefix=prefix) == 2
    copied = {
        json.loads(line)["conversation_id"]: json.loads(line)
        for line in buffer.getvalue().splitlines()
    }
    assert_identical_json(copied["c1"]["items"], expected)


async def test_sources_that_are_not_what_they_claim_raise_clear_errors(
    tmp_path: Path, redis_url: str, prefix: str, user_id: str
) -> None:
    with pytest.raises(TransferSourceError, match="no such SQLite database file"):
        list(transfer.read_sqlite(tmp_path / "missing.db"))
    text = tmp_path / "notes.txt"
    text.write_text("not a database at all, just some text " * 50)
    with pytest.raises(TransferSourceError, match="not a SQLite database"):
        list(transfer.read_sqlite(text))
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(TransferSourceError, match="no table 'agent_messages'"):
        list(transfer.read_sqlite(other))

    bad = tmp_path / "bad.jsonl"
    good = transfer.jsonl.encode_line(Conversation("ok", [{"role": "user", "content": "x"}]))
    bad.write_text(good + "\n\n{not json\n", encoding="utf-8")
    with pytest.raises(TransferSourceError, match=r"bad.jsonl:3: not JSON"):
        list(transfer.read_jsonl(bad))
    with pytest.raises(TransferSourceError, match=r":1: not a redis-openai-agents/conversation"):
        list(transfer.read_jsonl(io.StringIO('{"items": []}\n')))
    with pytest.raises(TransferSourceError, match="has no user"):
        await transfer.aimport_conversations(
            [Conversation("x", [])], redis_url=redis_url, prefix=prefix
        )

    with pytest.raises(TransferSourceError, match="no MessageHistory index"):
        [c async for c in transfer.read_message_history(f"{prefix}-none", redis_url=redis_url)]
    with pytest.raises(RedisUnavailableError):
        [c async for c in transfer.read_redis_sessions("p", redis_url="redis://127.0.0.1:1")]
    invalid = [Conversation("bad\x00id", [{"role": "user", "content": "x"}])]
    report = await transfer.aimport_conversations(
        invalid, user_id=user_id, redis_url=redis_url, prefix=prefix
    )
    assert report.skipped and report.skipped[0][0] == "bad\x00id"


async def test_sqlite_rows_the_sdk_would_skip_are_skipped_and_counted(tmp_path: Path) -> None:
    db = await sqlite_db(tmp_path / "sdk.db", {"s": [{"role": "user", "content": "kept"}]})
    with sqlite3.connect(db) as connection:
        connection.execute(
            "INSERT INTO agent_messages (session_id, message_data) VALUES ('s', '{broken')"
        )
    (conversation,) = transfer.read_sqlite(db)
    assert conversation.items == [{"role": "user", "content": "kept"}]
    assert conversation.metadata["unreadable_items"] == 1


def test_conversation_ids_are_the_source_ids_for_any_text(tmp_path: Path) -> None:
    ids = ["a", "with space", "ünïcödé", "{braces}", "x" * 300, str(uuid.uuid4())]
    assert [
        c.conversation_id
        for c in transfer.read_jsonl(
            io.StringIO(
                "".join(transfer.jsonl.encode_line(Conversation(i, [])) + "\n" for i in ids)
            )
        )
    ] == ids
