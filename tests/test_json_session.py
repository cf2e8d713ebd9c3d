"""JSONSession against a real Redis with JSON: the guide's code, keys, values, ttl, SDK use."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
import redis
from agent_tools import get_weather
from agents import Agent, Runner
from agents.items import TResponseInputItem
from agents.memory import SessionSettings
from redis.crc import key_slot

from redis_openai_agents import (
    InvalidIdentifierError,
    InvalidItemError,
    InvalidTTLError,
    JSONSession,
)
from redis_openai_agents.keys import hash_tag

TTL_S = 100
TTL_MS = TTL_S * 1000
# PTTL right after a write: at most the ttl, and not much less (generous for slow machines)
SLACK_MS = 5_000

TRICKY_KEYS = [
    "plain",
    "a.b",
    "a.b.c",
    "..",
    ".",
    'dq"uote',
    '"',
    '"]',
    "sq'uote",
    "'",
    "x'] ['y",
    "back\\slash",
    "\\",
    '\\"',
    "$",
    "$.data",
    "$..*",
    "[0]",
    "a[0]",
    "[-1:]",
    "a]b",
    "*",
    "?(@.x)",
    "new\nline",
    "tab\there",
    "\r",
    "\x01\x02\x1f",
    "\x7f",
    "",
    "ünïcödé",
    "日本語",
    "😀",
    "👩\u200d💻",
    "\u2028",
    "%",
    "%22",
    "%25",
    "%5C",
    "%0A",
    "a%b",
    "a b",
    "trailing ",
    "in side",
    "\u00a0nbsp-leading",
    "items",
    "data",
    "created_at",
    "updated_at",
    "ttl_ms",
    "a" * 500,
]

EXACT_VALUES: list[Any] = [
    True,
    False,
    None,
    0,
    1,
    -1,
    2**53 + 1,
    2**63 - 1,
    -(2**63),
    1.0,
    -0.5,
    0.1,
    1e300,
    5e-324,
    1.5e-7,
    3.141592653589793,
    "",
    'ünï 😀 \n\t "q" \\',
    [],
    {},
    [[1, [2, [None, [True, 1.0]]]]],
    {"nested": {"deeper": {"list": [1, "two", 3.0, False, None]}}},
    {"a.b": 1, "$": 2, '"': 3, "": 4},
]

# Doubles that need all 17 significant digits: common in model output (logprobs, scores)
PRECISE_FLOATS = [
    -1.1161948230350727,
    -1.5424091205096717,
    123456789.12345679,
    9.086840169884375e-09,
]


def same_json(a: Any, b: Any) -> bool:
    """Equal as JSON with types intact: 1 != 1.0 != True, None kept."""
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


@pytest.fixture
def sid() -> str:
    return f"sess-{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def session(redis_url: str, prefix: str, sid: str) -> Any:
    s = JSONSession(sid, redis_url, prefix=prefix)
    yield s
    await s.aclose()


def doc(r: redis.Redis, key: str) -> Any:
    raw = r.execute_command("JSON.GET", key)
    return None if raw is None else json.loads(raw)


def keys_of(r: redis.Redis, prefix: str) -> list[str]:
    """Every key under the prefix except the sessions' write records."""
    return sorted(k for k in r.scan_iter(f"{prefix}:*") if ":json-writes:" not in k)


# The guide


async def test_guide_code_as_written(redis_url: str, prefix: str, r: redis.Redis) -> None:
    json_session = JSONSession(
        session_id="complex-session-1", redis_url=redis_url, ttl=3600, prefix=prefix
    )
    await json_session.set(
        "user_preferences",
        {"theme": "dark", "language": "en", "notifications": {"email": True, "push": False}},
    )
    await json_session.set(
        "conversation",
        {
            "messages": [
                {"role": "user", "content": "Hello"},
                {"role": "assistant", "content": "Hi there!"},
            ],
            "metadata": {"agent": "support", "started_at": "2025-01-29T10:00:00Z"},
        },
    )
    preferences = await json_session.get("user_preferences")
    assert preferences["theme"] == "dark"
    assert preferences["notifications"]["email"] is True
    assert preferences["notifications"]["push"] is False

    all_data = await json_session.get_all()
    assert sorted(all_data.keys()) == ["conversation", "user_preferences"]
    assert all_data["conversation"]["messages"][1] == {"role": "assistant", "content": "Hi there!"}
    assert all_data["conversation"]["metadata"]["started_at"] == "2025-01-29T10:00:00Z"

    key = json_session.key
    assert keys_of(r, prefix) == [key]
    assert 3_600_000 - SLACK_MS < r.pttl(key) <= 3_600_000

    await json_session.clear()
    assert r.exists(key) == 0
    assert await json_session.get_all() == {}
    assert await json_session.get("user_preferences") is None
    assert not await json_session.exists()
    await json_session.aclose()


# Keys: any string is a name, never a path


async def test_every_key_round_trips_alone(session: JSONSession) -> None:
    """Each key on its own: set, get, get_all, delete."""
    for i, key in enumerate(TRICKY_KEYS):
        value = {"i": i, "key": key}
        await session.set(key, value)
        assert await session.get(key) == value, repr(key)
        assert await session.get_all() == {key: value}, repr(key)
        assert await session.delete(key) is True, repr(key)
        assert await session.get(key, "gone") == "gone", repr(key)
        assert await session.get_all() == {}, repr(key)


async def test_keys_are_distinct_from_each_other(session: JSONSession, r: redis.Redis) -> None:
    """All keys side by side: no key reads or overwrites another."""
    for i, key in enumerate(TRICKY_KEYS):
        await session.set(key, i)
    everything = await session.get_all()
    assert everything == {key: i for i, key in enumerate(TRICKY_KEYS)}
    for i, key in enumerate(TRICKY_KEYS):
        assert await session.get(key) == i, repr(key)
    # items, data and metadata of the document are untouched by keys with those names
    stored = doc(r, session.key)
    assert stored["items"] == []
    assert isinstance(stored["created_at"], float)

    removed = TRICKY_KEYS[::2]
    for key in removed:
        assert await session.delete(key) is True, repr(key)
    for key in removed:
        assert await session.delete(key) is False, repr(key)
    assert await session.get_all() == {
        key: i for i, key in enumerate(TRICKY_KEYS) if key not in removed
    }


LEADING_SPACE_KEYS = [" ", " leading", "  two leading", " a.b", ' "']


async def test_keys_with_leading_spaces_round_trip(session: JSONSession) -> None:
    for key in LEADING_SPACE_KEYS:
        await session.set(key, key)
    assert await session.get_all() == {key: key for key in LEADING_SPACE_KEYS}
    for key in LEADING_SPACE_KEYS:
        assert await session.get(key) == key
        assert await session.delete(key) is True


@pytest.mark.parametrize(
    ("first", "second"),
    [("a", " a"), ("", " "), ("a.b", "a"), ("%20", " "), ("", "\x00")],
)
async def test_similar_keys_never_collide(session: JSONSession, first: str, second: str) -> None:
    await session.set(first, "first")
    await session.set(second, "second")
    assert await session.get(first) == "first"
    assert await session.get(second) == "second"
    assert await session.get_all() == {first: "first", second: "second"}
    assert await session.delete(second) is True
    assert await session.get_all() == {first: "first"}


async def test_non_string_keys_are_refused(session: JSONSession, r: redis.Redis) -> None:
    for bad in [1, None, b"bytes", ("t",)]:
        with pytest.raises(TypeError):
            await session.set(bad, 1)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await session.get(bad)  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            await session.delete(bad)  # type: ignore[arg-type]
    assert r.exists(session.key) == 0


# Values


async def test_values_round_trip_exactly(session: JSONSession, sid: str, redis_url: str) -> None:
    for i, value in enumerate(EXACT_VALUES):
        await session.set(f"v{i}", value)
    for i, value in enumerate(EXACT_VALUES):
        got = await session.get(f"v{i}", "MISSING")
        assert same_json(got, value), (value, got)
        assert type(got) is type(value), (value, got)
    fresh = JSONSession(sid, redis_url, prefix=session.prefix)
    everything = await fresh.get_all()
    await fresh.aclose()
    assert same_json(everything, {f"v{i}": v for i, v in enumerate(EXACT_VALUES)})


async def test_full_precision_floats_round_trip(session: JSONSession) -> None:
    """Every double must come back bit for bit, not rounded in its last digit."""
    await session.set("floats", PRECISE_FLOATS)
    assert await session.get("floats") == PRECISE_FLOATS
    for i, x in enumerate(PRECISE_FLOATS):
        await session.set(f"f{i}", x)
        assert await session.get(f"f{i}") == x


async def test_integers_beyond_int64_are_exact_or_refused(
    session: JSONSession, r: redis.Redis
) -> None:
    """Either the int comes back as the same int, or TypeError and nothing written."""
    await session.set("keep", 1)
    before = doc(r, session.key)["data"]
    for big in [2**64, -(2**63) - 1, 10**30]:
        try:
            await session.set("big", big)
        except TypeError:
            assert doc(r, session.key)["data"] == before
            continue
        got = await session.get("big")
        assert type(got) is int and got == big, (big, got)


@pytest.mark.parametrize("value", ["\ud800", "emoji cut in half \ud83d", {"x": ["a\udfffb"]}])
async def test_lone_surrogates_round_trip_or_are_refused_before_writing(
    session: JSONSession, r: redis.Redis, value: Any
) -> None:
    """Python strings may hold lone surrogates (json.loads of "\\ud83d" makes one)."""
    try:
        await session.set("k", value)
    except TypeError:
        assert r.exists(session.key) == 0
    else:
        assert await session.get("k") == value
    await session.clear()

    item = {"role": "user", "content": value}
    try:
        await session.add_items([item])
    except TypeError:
        assert r.exists(session.key) == 0
    else:
        assert await session.get_items() == [item]


async def test_get_default_and_stored_none(session: JSONSession) -> None:
    assert await session.get("missing") is None
    assert await session.get("missing", "fallback") == "fallback"
    await session.set("none", None)
    assert await session.get("none", "fallback") is None
    await session.set("false", False)
    assert await session.get("false", "fallback") is False
    await session.set("zero", 0)
    assert await session.get("zero", 7) == 0


async def test_set_overwrites_and_nested_dicts_replace(session: JSONSession) -> None:
    await session.set("k", {"a": 1, "b": 2})
    await session.set("k", {"c": 3})
    assert await session.get("k") == {"c": 3}
    await session.set("k", [1])
    assert await session.get("k") == [1]


@pytest.mark.parametrize(
    "bad",
    [{1, 2}, object(), float("nan"), float("inf"), b"bytes", {"x": {1}}, [1, b"x"], {"f": -1e999}],
    ids=["set", "object", "nan", "inf", "bytes", "nested-set", "nested-bytes", "neg-inf"],
)
async def test_non_json_value_raises_before_writing(
    session: JSONSession, r: redis.Redis, bad: Any
) -> None:
    # new document: stays absent
    with pytest.raises(TypeError):
        await session.set("k", bad)
    assert r.exists(session.key) == 0

    # existing document: unchanged, expiry untouched
    await session.set("k", "old")
    r.pexpire(session.key, 50_000)
    before = r.execute_command("JSON.GET", session.key)
    with pytest.raises(TypeError):
        await session.set("k", bad)
    with pytest.raises(TypeError):
        await session.set("other", bad)
    assert r.execute_command("JSON.GET", session.key) == before
    assert r.pttl(session.key) <= 50_000
    assert await session.get("k") == "old"


async def test_delete_reports_existence_and_never_creates(
    session: JSONSession, r: redis.Redis
) -> None:
    assert await session.delete("nothing") is False
    assert r.exists(session.key) == 0
    await session.set("k", 1)
    assert await session.delete("k") is True
    assert await session.delete("k") is False
    assert await session.get_all() == {}
    assert r.exists(session.key) == 1  # the document stays, with its empty data


# TTL


async def test_ttl_slides_on_every_write(
    redis_url: str, prefix: str, sid: str, r: redis.Redis
) -> None:
    s = JSONSession(sid, redis_url, ttl=TTL_S, prefix=prefix)
    assert s.ttl == TTL_S
    writes = [
        lambda: s.set("a", 1),
        lambda: s.set("a", 2),
        lambda: s.delete("a"),
        lambda: s.add_items([{"role": "user", "content": "hi"}]),
        lambda: s.pop_item(),
        lambda: s.clear_session(),
    ]
    for write in writes:
        if r.exists(s.key):
            r.pexpire(s.key, 5_000)  # as if the document had aged
        await write()
        assert TTL_MS - SLACK_MS < r.pttl(s.key) <= TTL_MS
    await s.aclose()


async def test_reads_do_not_slide_the_ttl(
    redis_url: str, prefix: str, sid: str, r: redis.Redis
) -> None:
    s = JSONSession(sid, redis_url, ttl=TTL_S, prefix=prefix)
    await s.set("a", 1)
    await s.add_items([{"role": "user", "content": "hi"}])
    r.pexpire(s.key, 5_000)
    await s.get("a")
    await s.get_all()
    await s.get_items()
    await s.exists()
    assert r.pttl(s.key) <= 5_000
    await s.aclose()


async def test_loaded_without_ttl_keeps_the_stored_ttl(
    redis_url: str, prefix: str, sid: str, r: redis.Redis
) -> None:
    first = JSONSession(sid, redis_url, ttl=timedelta(seconds=TTL_S), prefix=prefix)
    await first.set("a", 1)
    await first.aclose()
    r.pexpire(f"{prefix}:json:{hash_tag(sid)}", 5_000)

    later = JSONSession(sid, redis_url, prefix=prefix)
    assert later.ttl is None
    await later.set("b", 2)
    assert TTL_MS - SLACK_MS < r.pttl(later.key) <= TTL_MS
    r.pexpire(later.key, 5_000)
    await later.add_items([{"role": "user", "content": "x"}])
    assert TTL_MS - SLACK_MS < r.pttl(later.key) <= TTL_MS

    # a new ttl replaces the stored one for later writers too
    longer = JSONSession(sid, redis_url, ttl=2 * TTL_S, prefix=prefix)
    await longer.set("c", 3)
    assert 2 * TTL_MS - SLACK_MS < r.pttl(later.key) <= 2 * TTL_MS
    await later.set("d", 4)
    assert 2 * TTL_MS - SLACK_MS < r.pttl(later.key) <= 2 * TTL_MS
    await later.aclose()
    await longer.aclose()


async def test_without_ttl_the_document_never_expires(session: JSONSession, r: redis.Redis) -> None:
    await session.set("a", 1)
    await session.add_items([{"role": "user", "content": "x"}])
    assert r.pttl(session.key) == -1


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "60", True, timedelta(0)])
def test_invalid_ttl_is_refused(redis_url: str, bad: Any) -> None:
    with pytest.raises(InvalidTTLError):
        JSONSession("s", redis_url, ttl=bad)


def test_invalid_session_ids_are_refused(redis_url: str) -> None:
    for bad in ["", "a\x00b", "x" * 4097, None, 5]:
        with pytest.raises(InvalidIdentifierError):
            JSONSession(bad, redis_url)  # type: ignore[arg-type]


# Storage layout


async def test_one_redisjson_document_per_session(
    session: JSONSession, r: redis.Redis, prefix: str, sid: str
) -> None:
    await session.set("items", ["user data"])
    await session.set("k", {"deep": [1, 2]})
    await session.add_items([{"role": "user", "content": "hi"}])
    assert keys_of(r, prefix) == [session.key]
    assert r.type(session.key) == "ReJSON-RL"
    assert session.key == f"{prefix}:json:{{{sid}}}"


@pytest.mark.parametrize("session_id", ["plain", "with:colons", "a{b}c", "}{", "%7D", "ü 😀"])
async def test_key_carries_hash_tag_of_the_session_id(
    redis_url: str, prefix: str, r: redis.Redis, session_id: str
) -> None:
    s = JSONSession(session_id, redis_url, prefix=prefix)
    await s.set("x", 1)
    tag = hash_tag(session_id)
    assert s.key == f"{prefix}:json:{tag}"
    assert keys_of(r, prefix) == [s.key]
    # the server-side hash tag (first "{" to the next "}") is the whole escaped id
    start = s.key.index("{")
    assert s.key[start : s.key.index("}", start) + 1] == tag
    assert key_slot(s.key.encode()) == key_slot(tag[1:-1].encode())
    await s.clear()
    await s.aclose()


async def test_sessions_are_isolated(redis_url: str, prefix: str) -> None:
    a = JSONSession("X", redis_url, prefix=prefix)
    b = JSONSession("X:items", redis_url, prefix=prefix)
    c = JSONSession("x", redis_url, prefix=prefix)
    await a.set("k", "a")
    await a.add_items([{"role": "user", "content": "a"}])
    await b.set("k", "b")
    assert await c.get("k") is None
    assert await a.get_all() == {"k": "a"}
    assert await b.get_items() == []
    await b.clear()
    assert await a.get("k") == "a"
    for s in (a, b, c):
        await s.aclose()


# The Agents SDK session protocol


class RecordingJSONSession(JSONSession):
    """A JSONSession that remembers exactly what the runner asked it to store."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batches: list[list[Any]] = []

    async def add_items(self, items: list[TResponseInputItem]) -> None:
        self.batches.append(json.loads(json.dumps(items)))
        await super().add_items(items)


async def test_runner_over_several_turns_with_a_tool(
    redis_url: str, prefix: str, sid: str, r: redis.Redis, offline_model: None
) -> None:
    agent = Agent(name="assistant", instructions="Remember things.", tools=[get_weather])
    session = RecordingJSONSession(sid, redis_url, ttl=TTL_S, prefix=prefix)
    await session.set("items", {"user": "owns this"})
    await session.set("data", [1, 2, 3])
    await session.set("created_at", "yesterday")

    first = await Runner.run(agent, "My name is Alice and I live in Seattle.", session=session)
    assert first.final_output == "Nice to meet you, Alice! Seattle is a great place to live."
    weather = await Runner.run(agent, "What's the weather in Paris?", session=session)
    assert "sunny and 21 degrees in Paris" in weather.final_output

    # a fresh object, as after a restart, continues the conversation from Redis
    reloaded = RecordingJSONSession(sid, redis_url, prefix=prefix)
    third = await Runner.run(agent, "What's my name and where do I live?", session=reloaded)
    assert third.final_output == "Your name is Alice and you live in Seattle."

    expected = [item for batch in session.batches + reloaded.batches for item in batch]
    fresh = JSONSession(sid, redis_url, prefix=prefix)
    stored = await fresh.get_items()
    assert same_json(stored, expected)
    assert [item.get("type", "message") for item in stored] == [
        "message",
        "message",
        "message",
        "function_call",
        "function_call_output",
        "message",
        "message",
        "message",
    ]
    call, output = stored[3], stored[4]
    assert call["name"] == "get_weather"
    assert json.loads(call["arguments"]) == {"city": "Paris"}
    assert output["call_id"] == call["call_id"]

    # user keys named like the document's own fields are untouched by the run
    assert await fresh.get_all() == {
        "items": {"user": "owns this"},
        "data": [1, 2, 3],
        "created_at": "yesterday",
    }
    assert keys_of(r, prefix) == [fresh.key]
    assert TTL_MS - SLACK_MS < r.pttl(fresh.key) <= TTL_MS  # the ttl outlived the reload

    assert same_json(await fresh.get_items(limit=2), expected[-2:])
    assert same_json(await fresh.get_items(limit=1), expected[-1:])
    assert same_json(await fresh.get_items(limit=100), expected)
    assert await fresh.get_items(limit=0) == []
    for s in (session, reloaded, fresh):
        await s.aclose()


async def test_items_round_trip_with_every_json_type(session: JSONSession) -> None:
    items: list[Any] = [
        {"role": "user", "content": "hi"},
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "status": "completed",
            "content": [
                {
                    "type": "output_text",
                    "text": "ünï 😀",
                    "annotations": [],
                    "logprobs": [{"token": "hi", "logprob": -0.5, "bytes": [104, 105]}],
                }
            ],
        },
        {
            "type": "reasoning",
            "id": "rs_1",
            "summary": [],
            "encrypted_content": "gAAAAB" + "x" * 2000,
            "content": None,
        },
        {"type": "function_call", "name": "f", "arguments": "{}", "call_id": "c1", "id": None},
        {"type": "function_call_output", "call_id": "c1", "output": "1"},
        {"type": "computer_call", "call_id": "c2", "action": {"type": "click", "x": 10, "y": 2}},
        {"type": "mcp_call", "id": "m1", "name": "n", "arguments": "{}", "server_label": "s"},
        {"type": "compaction", "encrypted_content": "zzz", "id": "cmp_1"},
        {"type": "custom", "flags": [True, False, None], "n": 2**62, "f": 2.0, "e": {}},
    ]
    await session.add_items(items[:3])
    await session.add_items(items[3:])
    await session.add_items([])
    assert same_json(await session.get_items(), items)


async def test_items_with_full_precision_floats_round_trip(session: JSONSession) -> None:
    """Logprobs are 17-digit doubles; the runner compares stored items by their JSON."""
    item = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [
            {
                "type": "output_text",
                "text": "Hi",
                "annotations": [],
                "logprobs": [
                    {"token": "Hi", "logprob": PRECISE_FLOATS[0], "bytes": [72, 105]},
                    {"token": "!", "logprob": PRECISE_FLOATS[1], "bytes": [33]},
                ],
            }
        ],
    }
    await session.add_items([item])
    assert same_json(await session.get_items(), [item])


async def test_invalid_items_write_nothing(session: JSONSession, r: redis.Redis) -> None:
    with pytest.raises(InvalidItemError):
        await session.add_items([{"role": "user", "content": "ok"}, {"bad": {1, 2}}])
    assert r.exists(session.key) == 0
    await session.add_items([{"role": "user", "content": "ok"}])
    with pytest.raises(InvalidItemError):
        await session.add_items([{"role": "user", "content": "x"}, "not a dict"])  # type: ignore[list-item]
    with pytest.raises(InvalidItemError):
        await session.add_items([{"x": float("nan")}])
    assert await session.get_items() == [{"role": "user", "content": "ok"}]


async def test_large_batch_is_one_atomic_append(session: JSONSession) -> None:
    items = [{"role": "user", "content": f"m{i}"} for i in range(10_000)]
    await session.add_items(items)
    stored = await session.get_items()
    assert len(stored) == 10_000
    assert stored[0] == items[0] and stored[-1] == items[-1]


async def test_cancelled_add_items_stores_all_or_nothing(session: JSONSession) -> None:
    batch = [{"role": "user", "content": f"c{i}"} for i in range(50)]
    task = asyncio.ensure_future(session.add_items(batch))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    stored = await session.get_items()
    assert stored in ([], batch)


async def test_session_settings_limit(redis_url: str, prefix: str, sid: str) -> None:
    s = JSONSession(sid, redis_url, prefix=prefix, session_settings=SessionSettings(limit=2))
    items = [{"role": "user", "content": str(i)} for i in range(5)]
    await s.add_items(items)
    assert await s.get_items() == items[-2:]
    assert await s.get_items(limit=3) == items[-3:]
    assert await s.get_items(limit=0) == []
    assert await s.get_items(limit=50) == items
    s.session_settings = SessionSettings(limit=None)
    assert await s.get_items() == items
    with pytest.raises(ValueError):
        await s.get_items(limit=-1)
    await s.aclose()


async def test_get_items_on_missing_session(session: JSONSession, r: redis.Redis) -> None:
    assert await session.get_items() == []
    assert await session.get_items(limit=3) == []
    assert await session.pop_item() is None
    await session.clear_session()
    assert r.exists(session.key) == 0


async def test_pop_item(session: JSONSession) -> None:
    items = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b", "n": 1}]
    await session.add_items(items)
    popped = await session.pop_item()
    assert popped == items[1] and type(popped["n"]) is int
    assert await session.get_items() == items[:1]
    assert await session.pop_item() == items[0]
    assert await session.pop_item() is None
    assert await session.get_items() == []


async def test_clear_session_keeps_user_data_and_clear_removes_everything(
    session: JSONSession, r: redis.Redis, prefix: str
) -> None:
    await session.set("profile", {"name": "Alice"})
    await session.add_items([{"role": "user", "content": "hi"}])
    await session.clear_session()
    assert await session.get_items() == []
    assert await session.get("profile") == {"name": "Alice"}
    assert await session.exists()
    await session.add_items([{"role": "user", "content": "again"}])
    assert await session.get_items() == [{"role": "user", "content": "again"}]

    await session.clear()
    assert not await session.exists()
    assert keys_of(r, prefix) == []
    assert await session.get_all() == {}
    assert await session.get_items() == []
