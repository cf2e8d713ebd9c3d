"""Fuzzed ids, items and JSON values: an exact round trip, or a typed error and nothing written."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redis_openai_agents import (
    AgentSession,
    InvalidIdentifierError,
    InvalidItemError,
    JSONSession,
)

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Any code point, lone surrogates included.
text = st.text(st.characters(codec=None, min_codepoint=0), max_size=12)
keys = st.one_of(text, st.integers(-3, 3), st.booleans(), st.none())
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    text,
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=16,
)


def same_json(a: Any, b: Any) -> bool:
    """Equal with types intact: 1 is not 1.0 and True is not 1."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def prefix_keys(r: redis.Redis, prefix: str) -> list[str]:
    """Data keys: neither the write records nor the search index's own."""
    return [
        k
        for k in r.scan_iter(f"{prefix}:*")
        if not any(part in k for part in (":writes:", ":json-writes:", ":messages"))
    ]


@FUZZ
@given(value=values)
def test_fuzzed_items_round_trip_or_are_refused(
    value: Any, redis_url: str, prefix: str, r: redis.Redis
) -> None:
    item = {"role": "user", "content": value}

    async def attempt() -> None:
        session = AgentSession(uuid.uuid4().hex, user_id="fuzz", redis_url=redis_url, prefix=prefix)
        doc = JSONSession(uuid.uuid4().hex, redis_url, prefix=prefix)
        try:
            try:
                await session.add_items([item])
            except InvalidItemError:
                assert await session.amessage_count() == 0
                refused = True
            else:
                stored = await session.get_items()
                assert len(stored) == 1 and same_json(stored[0], item)
                refused = False
            try:
                await doc.add_items([item])
            except InvalidItemError:
                assert refused, "JSONSession refused what AgentSession stored"
                assert not await doc.exists()
            else:
                assert not refused, "JSONSession stored what AgentSession refused"
                assert same_json((await doc.get_items())[0], item)
            try:
                await doc.set("v", value)
            except TypeError:
                assert refused
            else:
                assert not refused
                assert same_json(await doc.get("v"), value)
        finally:
            await session.aclear()
            await doc.clear()
            await session.aclose()
            await doc.aclose()

    asyncio.run(attempt())
    assert prefix_keys(r, prefix) == []


@FUZZ
@given(user_id=text, conversation_id=text, key=text)
def test_fuzzed_ids_and_keys_work_or_are_refused(
    user_id: str, conversation_id: str, key: str, redis_url: str, prefix: str
) -> None:
    async def attempt() -> None:
        try:
            session = AgentSession(
                conversation_id, user_id=user_id, redis_url=redis_url, prefix=prefix
            )
        except InvalidIdentifierError:
            return
        await session.add_items([{"role": "user", "content": "hi"}])
        loaded = await AgentSession.aload(conversation_id, user_id, redis_url, prefix=prefix)
        assert await loaded.get_items() == [{"role": "user", "content": "hi"}]
        listed = await AgentSession.alist_sessions(user_id, redis_url, prefix=prefix)
        assert conversation_id in [info.conversation_id for info in listed]
        await session.aclear()
        await session.aclose()
        await loaded.aclose()

        doc = JSONSession(conversation_id, redis_url, prefix=prefix)
        try:
            await doc.set(key, [key])
        except TypeError:
            assert not await doc.exists()
        else:
            assert await doc.get(key) == [key]
            assert await doc.get_all() == {key: [key]}
        await doc.clear()
        await doc.aclose()

    asyncio.run(attempt())


def test_the_fuzzed_values_include_what_must_be_refused() -> None:
    """The strategies reach the cases that matter (so the fuzz can fail)."""
    from redis_openai_agents.items import dumps

    for bad in ({1: "a", "1": "b"}, "\ud800\udfff"):
        try:
            dumps(bad)
        except (TypeError, ValueError):
            continue
        raise AssertionError(f"{bad!r} was accepted")
    assert json.loads(dumps("\ud800")) == "\ud800"
