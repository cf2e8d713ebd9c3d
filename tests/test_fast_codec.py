"""The C encoder and parser of stored JSON give exactly what `json` gives, or step aside.

Items are encoded by msgspec when its output reads back equal, and parsed by it unless it
refuses the text; these tests pin the cases where it would differ from `json`, and check
that conversations stored before (by `json.dumps`, with its own number spelling) and
hashes written by hand read back unchanged.
"""

from __future__ import annotations

import enum
import json
import math
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import redis

from redis_openai_agents import AgentSession, InvalidItemError
from redis_openai_agents.items import (
    MAX_DEPTH,
    decode,
    decode_joined,
    dumps,
    dumps_bytes,
    encode_item_bytes,
)
from redis_openai_agents.keys import ConversationKeys


class Colour(enum.Enum):
    RED = 1


class Level(enum.IntEnum):
    HIGH = 3


@dataclass
class Point:
    x: int


def nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth - 1):
        value = [value]
    return value


SAME_AS_JSON: list[Any] = [
    {"i": 1, "f": 1.0, "b": True, "n": None, "s": 'ü😀\n\t"\\', "l": [0, -1, 2**63 - 1]},
    {"big": 2**64, "neg": -(2**70), "huge": 10**40},
    {"floats": [1e16, 1.5e300, 5e-324, -0.0, 0.1, 1.0000000000000002, 2.2250738585072014e-308]},
    {"tuple": (1, 2), "level": Level.HIGH},
    {"deep": nested(MAX_DEPTH - 1)},
    {"lone": "\ud800"},
]


@pytest.mark.parametrize("value", SAME_AS_JSON, ids=range(len(SAME_AS_JSON)))
def test_dumps_bytes_reads_back_as_dumps_does(value: Any) -> None:
    raw = dumps_bytes(value)
    assert isinstance(raw, bytes)
    assert json.loads(raw) == json.loads(dumps(value))
    assert decode(raw) == json.loads(dumps(value))


@pytest.mark.parametrize(
    "bad",
    [
        {"x": uuid.UUID(int=7)},
        {"x": Colour.RED},
        {"x": Point(1)},
        {"x": float("nan")},
        {"x": math.inf},
        {"x": b"raw"},
        {"x": {1, 2}},
        {1: "int key"},
        {"x": {None: "null key"}},
        {"x": nested(MAX_DEPTH + 1)},
        {"x": nested(5000)},
    ],
)
def test_what_json_refuses_stays_refused(bad: Any) -> None:
    """msgspec would write these (as strings, null, stringified keys); they stay errors."""
    with pytest.raises(InvalidItemError):
        encode_item_bytes(bad)


@pytest.mark.parametrize(
    "text",
    [
        b'{"a":123456789012345678901234567890,"b":-18446744073709551617}',
        b'{"a":1,"a":2}',
        b'{"x":NaN}',
        b'{"s":"\\ud800"}',
        b'{"s":"\\ud83d\\ude00","e":1e+16,"f":1E5,"z":-0}',
    ],
)
def test_decode_gives_what_json_loads_gives(text: bytes) -> None:
    got, expected = decode(text), json.loads(text)
    assert repr(got) == repr(expected)  # NaN compares unequal to itself; repr does not


def test_decode_joined_parses_once_and_reports_holes() -> None:
    raws: list[Any] = [json.dumps({"n": i}).encode() for i in range(5)]
    assert decode_joined(list(raws)) == [{"n": i} for i in range(5)]
    assert decode_joined(raws[:1]) == [{"n": 0}]
    assert decode_joined([]) == []
    assert decode_joined([raws[0], None, raws[2]]) is None
    assert decode_joined([r.decode() for r in raws]) == [{"n": i} for i in range(5)]
    assert raws == [json.dumps({"n": i}).encode() for i in range(5)]  # left as given


async def test_items_stored_by_json_dumps_read_back_unchanged(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    """Conversations written before (json.dumps spelling, big ints) read back exactly."""
    session = AgentSession("old", user_id=user_id, redis_url=redis_url, prefix=prefix)
    items: list[Any] = [
        {"role": "user", "content": "one"},
        {"type": "function_call_output", "call_id": "c", "output": "x", "n": 10**30},
        {"role": "assistant", "content": "two", "score": 1e16, "tiny": 5e-324, "neg": -0.0},
    ]
    await session.add_items(items)
    keys = ConversationKeys(prefix, user_id, "old")
    for seq, item in enumerate(items):  # rewrite each item as the earlier versions did
        r.hset(keys.message(seq), "metadata", json.dumps(item, separators=(",", ":")))
    assert r.hget(keys.message(2), "metadata").endswith('"score":1e+16,"tiny":5e-324,"neg":-0.0}')
    got = await session.get_items()
    assert got == items
    assert type(got[1]["n"]) is int and got[1]["n"] == 10**30
    assert repr(got[2]["neg"]) == "-0.0"
    assert await session.get_items(limit=2) == items[1:]
    assert await session.pop_item() == items[2]
    await session.aclear()
    await session.aclose()


async def test_whole_read_with_an_item_msgspec_refuses(
    redis_url: str, prefix: str, user_id: str
) -> None:
    """One lone surrogate in the conversation: the whole read falls back to json, intact."""
    session = AgentSession("lone", user_id=user_id, redis_url=redis_url, prefix=prefix)
    items: list[Any] = [{"role": "user", "content": "a"}, {"role": "user", "content": "b\ud800"}]
    await session.add_items(items)
    assert await session.get_items() == items
    await session.aclear()
    await session.aclose()
