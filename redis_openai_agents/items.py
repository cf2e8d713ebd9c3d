"""SDK conversation items: lossless JSON encoding and the text view stored beside them."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

import msgspec
from pydantic import BaseModel

from .errors import InvalidItemError

Item = dict[str, Any]

MAX_DEPTH = 100
"""How deeply items and JSON values may nest (dicts and lists); deeper ones are refused.

RedisJSON refuses documents nested 128 levels deep, and Python's JSON encoder recursion
fails near 1,000; one limit well below both applies to both session types.
"""
_SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")

_PLACEHOLDERS = {
    "input_image": "[image]",
    "input_file": "[file]",
    "input_audio": "[audio]",
    "computer_screenshot": "[screenshot]",
}
_MESSAGE_ROLES = {
    "user": "user",
    "assistant": "assistant",
    "system": "system",
    "developer": "system",
}


def _json_default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_unset=True)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def check_shape(value: Any) -> None:
    """Refuse what JSON would silently change: non-string keys, and too deep nesting.

    `{1: "a"}` would come back as `{"1": "a"}`, and `{1: "a", "1": "b"}` as `{"1": "b"}`.
    Walks without recursion, so no depth raises `RecursionError`.

    Raises:
        TypeError: A dict key is not a string.
        ValueError: The value nests deeper than `MAX_DEPTH`.
    """
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, Mapping):
            for key in node:
                if not isinstance(key, str):
                    raise TypeError(f"dict keys must be strings, got {type(key).__name__}")
            children: Iterable[Any] = node.values()
        elif isinstance(node, (list, tuple)):
            children = node
        else:
            continue
        if depth > MAX_DEPTH:
            raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels")
        stack.extend((c, depth + 1) for c in children if isinstance(c, (Mapping, list, tuple)))


def dumps(value: Any) -> str:
    """Compact JSON that loads back equal, with ints, bools and nulls intact.

    Text stays readable UTF-8; only strings UTF-8 cannot carry (lone surrogates) fall
    back to `\\u` escapes, which JSON round-trips exactly, except for a high surrogate
    followed by a low one: two code points whose escapes read back as one character.

    Raises:
        TypeError: A value is not JSON, or a dict key is not a string.
        ValueError: NaN or infinity, nesting deeper than `MAX_DEPTH`, or a string holding
            a high surrogate followed by a low one.
    """
    check_shape(value)
    text = json.dumps(
        value, default=_json_default, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        if _SURROGATE_PAIR.search(text):
            raise ValueError(
                "a string holds a high surrogate followed by a low one, which would read "
                "back as one different character"
            ) from None
        text = json.dumps(value, default=_json_default, allow_nan=False, separators=(",", ":"))
    return text


_ENCODER = msgspec.json.Encoder()
_DECODER = msgspec.json.Decoder()
_NOT_OPENING = bytes(c for c in range(256) if c not in b"{[")
"""Every byte but `{` and `[`: deleting them leaves the opening brackets, in one pass."""


def dumps_bytes(value: Any) -> bytes:
    """`dumps` as UTF-8 bytes, from msgspec's C encoder whenever that gives the same value.

    msgspec writes the same compact JSON several times faster, but turns a few values
    `dumps` refuses into others (UUIDs, enums, bytes and dates into strings, NaN into
    null, int keys into strings) and nests as deep as asked: its output is kept only when
    it reads back equal to `value` and cannot nest deeper than `MAX_DEPTH` (it holds
    fewer brackets than that); anything else goes through `dumps`, which accepts or
    refuses it exactly as before.

    Raises:
        TypeError: As `dumps`.
        ValueError: As `dumps`.
    """
    try:
        raw = _ENCODER.encode(value)
        if _reads_back_as(raw, value):
            return raw
    except (TypeError, ValueError, RecursionError, msgspec.MsgspecError):
        pass
    return dumps(value).encode("utf-8")


def _reads_back_as(raw: bytes, value: Any) -> bool:
    """Whether msgspec's `raw` can stand for `dumps(value)`: it cannot nest deeper than
    `MAX_DEPTH` (it holds fewer brackets than that) and it parses back equal to `value`."""
    return len(raw.translate(None, _NOT_OPENING)) <= MAX_DEPTH and _DECODER.decode(raw) == value


def as_dict(item: Any) -> Any:
    """SDK pydantic items as the plain dicts the Runner itself stores."""
    if isinstance(item, BaseModel):
        return item.model_dump(mode="json", exclude_unset=True)
    return item


def storable_text(text: str) -> str:
    """Text safe to send to Redis as UTF-8, for the readable copies of items and titles.

    Lone surrogates become `?` here; the item itself keeps them exactly.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def storable_bytes(text: str) -> bytes:
    """`storable_text` encoded as the UTF-8 that is sent, in one step."""
    return text.encode("utf-8", "replace")


def encode_item(item: Any, encoder: Callable[[Any], str] | None = None) -> str:
    """Encode one SDK item, or raise before anything is written.

    `encoder` replaces `dumps` for a store with its own encoding (RedisJSON's exact
    values), which must raise `TypeError` or `ValueError` for what it cannot store.
    """
    item = as_dict(item)
    if not isinstance(item, Mapping):
        raise InvalidItemError(f"session items must be dicts, got {type(item).__name__}")
    try:
        return (encoder or dumps)(item)
    except (TypeError, ValueError) as exc:
        raise InvalidItemError(f"item cannot be stored as JSON: {exc}") from None


def encode_item_bytes(item: Any) -> bytes:
    """`encode_item` as the UTF-8 bytes sent to Redis, by the faster `dumps_bytes`."""
    item = as_dict(item)
    if not isinstance(item, Mapping):
        raise InvalidItemError(f"session items must be dicts, got {type(item).__name__}")
    try:
        return dumps_bytes(item)
    except (TypeError, ValueError) as exc:
        raise InvalidItemError(f"item cannot be stored as JSON: {exc}") from None


def normalize_items(items: Iterable[Any]) -> list[Any]:
    """A batch as a list of plain dicts, refusing what is not a batch of items."""
    if isinstance(items, (str, bytes, Mapping)) or not isinstance(items, Iterable):
        raise InvalidItemError("items must be a list of item dicts")
    return [as_dict(item) for item in items]


def encode_items(items: Iterable[Any]) -> list[bytes]:
    """`encode_item_bytes` of each item, checked as one batch in the common case.

    A batch of plain dicts that msgspec encodes, that holds no more brackets in all than
    one item may nest, and that reads back equal as one array, is each item's encoding
    already: one parse and one comparison instead of one per item. Anything else is
    encoded item by item, exactly as `encode_item_bytes` does.
    """
    batch = items if isinstance(items, list) else list(items)
    if all(type(item) is dict for item in batch):
        try:
            raws = [_ENCODER.encode(item) for item in batch]
        except (TypeError, ValueError, RecursionError, msgspec.MsgspecError):
            pass
        else:
            if _reads_back_as(b"[" + b",".join(raws) + b"]", batch):
                return raws
    return [encode_item_bytes(item) for item in batch]


def decode(raw: str | bytes) -> Any:
    """Parse stored JSON: with msgspec's C parser, or `json.loads` for what it refuses.

    Both give the same values for any JSON text (integers of any size included); msgspec
    refuses the few texts only `json.loads` reads (NaN, lone surrogate escapes) and
    malformed ones, which `json.loads` then reads or reports as before.
    """
    try:
        return _DECODER.decode(raw)
    except (msgspec.MsgspecError, RecursionError):
        return json.loads(raw)


def decode_many(raws: Sequence[str | bytes]) -> list[Any]:
    """Decode stored JSON objects with one parse of their joined array, not one each."""
    if raws and all(isinstance(raw, bytes) for raw in raws):
        return list(decode(b"[" + b",".join(raws) + b"]"))  # type: ignore[arg-type]
    return [decode(raw) for raw in raws]


def decode_joined(raws: list[Any]) -> list[Any] | None:
    """`decode_many` of a reply list, or None when an entry is missing (None).

    The common case, every entry bytes, costs one join and one parse and no Python work
    per item: the brackets go onto the first and last entries, so the joined text is
    copied once.
    """
    if not raws:
        return []
    first, last = raws[0], raws[-1]
    if type(first) is bytes and type(last) is bytes:
        if len(raws) == 1:
            return [decode(first)]
        raws[0], raws[-1] = b"[" + first, last + b"]"
        try:
            joined = b",".join(raws)
        except TypeError:
            joined = None
        raws[0], raws[-1] = first, last
        if joined is not None:
            items: list[Any] = decode(joined)
            return items
    if any(raw is None for raw in raws):
        return None
    return decode_many(raws)


def canonical(item: Any) -> str:
    """Order-independent JSON, to tell whether two items are the same item."""
    return json.dumps(item, sort_keys=True, default=_json_default, ensure_ascii=False)


class TextView(NamedTuple):
    """What MessageHistory's `role`, `content` and `tool_call_id` fields hold for an item.

    A named tuple: one is built for every item stored, and a tuple is built in C.
    """

    role: str
    content: str
    tool_call_id: str = ""


def _part_text(part: Any) -> str:
    """One content part's text: its `text` or `refusal`, or a placeholder for media."""
    if type(part) is dict or isinstance(part, Mapping):
        text = part.get("text")
        if isinstance(text, str):
            return text
        refusal = part.get("refusal")
        if isinstance(refusal, str):
            return refusal
        return _PLACEHOLDERS.get(str(part.get("type")), "")
    return part if isinstance(part, str) else ""


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    # A list is checked by its exact type first: the ABC checks cost more than the view.
    if type(content) is not list:
        if isinstance(content, Mapping):
            return _part_text(content)
        if not isinstance(content, Sequence):
            return "" if content is None else str(content)
    return "".join([_part_text(part) for part in content])


def text_view(item: Mapping[str, Any]) -> TextView:
    """A readable rendering of any Responses item, for people and for MessageHistory."""
    kind = item.get("type")
    role = item.get("role")
    if (kind is None or kind == "message") and isinstance(role, str):
        return TextView(_MESSAGE_ROLES.get(role, "user"), _text_of(item.get("content")))
    call_id = str(item.get("call_id") or "")
    if kind == "function_call":
        return TextView("assistant", f"{item.get('name')}({item.get('arguments', '')})", call_id)
    if kind == "function_call_output" or (isinstance(kind, str) and kind.endswith("_call_output")):
        return TextView("tool", _text_of(item.get("output")), call_id)
    if kind == "reasoning":
        summary = item.get("summary") or []
        return TextView("assistant", "\n".join([_part_text(p) for p in summary if p]))
    return TextView("assistant", f"[{kind}]" if kind else "", call_id)


def user_text(items: Iterable[Mapping[str, Any]]) -> str:
    """The first user-written text among `items`, used as a conversation's title."""
    for item in items:
        if item.get("role") == "user" and item.get("type") in (None, "message"):
            text = " ".join(_text_of(item.get("content")).split())
            if text:
                return text
    return ""


def shorten(text: str, width: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def new_input_items(given: Sequence[Any], stored_tail: Sequence[Any]) -> int:
    """How many leading items of `given` are already the last items stored.

    The guide continues a conversation with `history + [new message]`; those history items
    are stored already and must not be stored twice.
    """
    if not given or not stored_tail:
        return 0
    given_keys = [canonical(item) for item in given]
    stored_keys = [canonical(item) for item in stored_tail]
    for start, key in enumerate(stored_keys):
        overlap = len(stored_keys) - start
        if (
            key == given_keys[0]
            and overlap <= len(given_keys)
            and given_keys[:overlap] == stored_keys[start:]
        ):
            return overlap
    return 0
