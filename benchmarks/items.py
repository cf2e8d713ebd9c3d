"""Realistic Runner items: what `Runner.run` stores for one turn with a tool call.

A turn is a user message followed by one batch of reasoning (with `encrypted_content`),
function_call, function_call_output and an assistant message with content parts. Sizes are
drawn between 200 B and 4 KB per item from a seeded generator, so every backend stores the
very same bytes in every run.
"""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass
from typing import Any

Item = dict[str, Any]

MIN_ITEM_BYTES = 200
MAX_ITEM_BYTES = 4096
TURN_ITEMS = 5  # user message + the 4-item batch
BATCH_ITEMS = 4

_VOCABULARY = """
weather forecast city paris seattle tokyo temperature rain sunny wind humidity order invoice
refund customer account balance shipping address delivery tracking flight hotel booking
reservation price discount calendar meeting schedule summary report analysis revenue quarter
growth chart table database query result error retry timeout latency request response agent
tool function call output model
"""
_WORDS = tuple(_VOCABULARY.split())

_TOOLS = ("get_weather", "lookup_order", "search_flights", "query_database", "get_calendar")


def _sentence(rng: random.Random, size: int) -> str:
    """About `size` characters of plain words."""
    words: list[str] = []
    length = 0
    while length < size:
        word = rng.choice(_WORDS)
        words.append(word)
        length += len(word) + 1
    return " ".join(words)[:size].rstrip() + "."


def _blob(rng: random.Random, size: int) -> str:
    """An opaque base64 string of `size` characters, like `encrypted_content`."""
    raw = rng.randbytes(size * 3 // 4 + 3)
    return base64.b64encode(raw).decode()[:size]


def _fit(item: Item, field: str, target: int, fill: Any) -> Item:
    """Pad one string field so the item's compact JSON is close to `target` bytes."""
    base = len(json.dumps(item, separators=(",", ":")))
    room = max(16, target - base)
    parent: Any = item
    *path, last = field.split(".")
    for part in path:
        parent = parent[int(part)] if part.isdigit() else parent[part]
    parent[last] = fill(room)
    return item


@dataclass(frozen=True)
class Turn:
    """One Runner turn: the user's message, then the batch the runner saves after it."""

    user: Item
    batch: list[Any]

    @property
    def items(self) -> list[Any]:
        return [self.user, *self.batch]


def make_turn(rng: random.Random, index: int, *, small: bool = False) -> Turn:
    """A turn with item sizes drawn in [200 B, 4 KB] (or about 200 B each when small)."""

    def size(low: int, high: int) -> int:
        return MIN_ITEM_BYTES if small else rng.randint(low, high)

    call_id = f"call_{index:08d}_{rng.getrandbits(40):010x}"
    tool = _TOOLS[index % len(_TOOLS)]
    user: Item = {"role": "user", "content": [{"type": "input_text", "text": ""}]}
    _fit(user, "content.0.text", size(210, 800), lambda n: _sentence(rng, n))
    reasoning: Item = {
        "id": f"rs_{index:08d}",
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": _sentence(rng, 120)}],
        "encrypted_content": "",
    }
    _fit(reasoning, "encrypted_content", size(1000, 4096), lambda n: _blob(rng, n))
    call: Item = {
        "id": f"fc_{index:08d}",
        "type": "function_call",
        "call_id": call_id,
        "name": tool,
        "arguments": "",
        "status": "completed",
    }
    _fit(
        call,
        "arguments",
        size(240, 600),
        lambda n: json.dumps({"query": _sentence(rng, max(8, n - 40)), "limit": 10}),
    )
    output: Item = {"type": "function_call_output", "call_id": call_id, "output": ""}
    _fit(
        output,
        "output",
        size(400, 4096),
        lambda n: json.dumps({"rows": _sentence(rng, max(8, n - 60)), "count": index}),
    )
    answer: Item = {
        "id": f"msg_{index:08d}",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [
            {"type": "output_text", "text": "", "annotations": [], "logprobs": []},
        ],
    }
    _fit(answer, "content.0.text", size(300, 2000), lambda n: _sentence(rng, n))
    return Turn(user=user, batch=[reasoning, call, output, answer])


class ItemFactory:
    """A fixed pool of turns, replayed in order: the same items for every backend."""

    def __init__(self, seed: int = 20240601, pool: int = 64, *, small: bool = False) -> None:
        rng = random.Random(seed)
        self.turns = [make_turn(rng, i, small=small) for i in range(pool)]

    def turn(self, index: int) -> Turn:
        return self.turns[index % len(self.turns)]

    def history(self, count: int) -> list[Item]:
        """The first `count` items of a conversation made of whole turns."""
        out: list[Item] = []
        index = 0
        while len(out) < count:
            out.extend(self.turn(index).items)
            index += 1
        return out[:count]

    def mean_item_bytes(self) -> float:
        sizes = [
            len(json.dumps(item, separators=(",", ":")))
            for turn in self.turns
            for item in turn.items
        ]
        return sum(sizes) / len(sizes)

    def size_range(self) -> tuple[int, int]:
        sizes = [
            len(json.dumps(item, separators=(",", ":")))
            for turn in self.turns
            for item in turn.items
        ]
        return min(sizes), max(sizes)
