"""Unit tests of the item codec (`redis_openai_agents.items`) and key layout (`keys`).

Pure functions: no Redis, no event loop.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest
from pydantic import BaseModel
from redis.crc import key_slot

from redis_openai_agents.errors import InvalidIdentifierError, InvalidItemError
from redis_openai_agents.items import (
    TextView,
    canonical,
    decode,
    dumps,
    encode_item,
    encode_items,
    new_input_items,
    shorten,
    text_view,
    user_text,
)
from redis_openai_agents.keys import (
    MAX_ID_LENGTH,
    ConversationKeys,
    conversation_meta_prefix,
    hash_tag,
    json_session_key,
    message_index_name,
    message_index_prefix,
    user_index_key,
    validate_id,
    validate_prefix,
)

SCREENSHOT = "data:image/png;base64," + "iVBORw0KGgoAAAANSUhEUgAA" * 50


def user(text: Any) -> dict[str, Any]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
    }


# text_view: one case per Responses item type


def test_text_view_easy_input_messages_of_every_role() -> None:
    assert text_view(user("hi")) == TextView("user", "hi", "")
    assert text_view({"role": "assistant", "content": "yo"}) == TextView("assistant", "yo")
    assert text_view({"role": "system", "content": "be nice"}) == TextView("system", "be nice")
    # MessageHistory knows no "developer" role: it is shown as a system message
    assert text_view({"role": "developer", "content": "rules"}) == TextView("system", "rules")
    assert text_view({"type": "message", "role": "user", "content": "typed"}).content == "typed"


def test_text_view_input_message_with_parts() -> None:
    item = {
        "type": "message",
        "role": "user",
        "content": [
            {"type": "input_text", "text": "Look at "},
            {"type": "input_image", "image_url": SCREENSHOT, "detail": "auto"},
            {"type": "input_file", "file_id": "file_1"},
            {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}},
            {"type": "input_text", "text": " please"},
        ],
    }
    view = text_view(item)
    assert view.role == "user"
    assert view.content == "Look at [image][file][audio] please"
    assert "base64" not in view.content


def test_text_view_output_message_text_and_refusal() -> None:
    assert text_view(assistant("Hello!")) == TextView("assistant", "Hello!", "")
    refusal = assistant("")
    refusal["content"] = [{"type": "refusal", "refusal": "I can't help with that."}]
    assert text_view(refusal).content == "I can't help with that."
    two_parts = assistant("a")
    two_parts["content"].append({"type": "output_text", "text": "b", "annotations": []})
    assert text_view(two_parts).content == "ab"


def test_text_view_message_content_edge_shapes() -> None:
    assert text_view(user(None)).content == ""
    assert text_view(user([])).content == ""
    assert text_view(user(["plain", " strings"])).content == "plain strings"
    assert text_view(user([{"type": "unknown_part"}])).content == ""


def test_text_view_reads_any_mapping_and_sequence_as_a_dict_and_a_list() -> None:
    from types import MappingProxyType

    part = {"type": "output_text", "text": "hi"}
    assert text_view(user(MappingProxyType(part))).content == "hi"
    assert text_view(user((part, "!", 3))).content == "hi!"
    assert text_view(user([MappingProxyType(part), part])).content == "hihi"
    assert text_view(user([{"text": 7, "refusal": "no"}])).content == "no"
    assert text_view(user([{"text": None, "type": "input_image"}])).content == "[image]"
    assert text_view(user(42)).content == "42"


def test_text_view_function_call_and_output() -> None:
    call = {
        "type": "function_call",
        "name": "get_weather",
        "arguments": '{"city":"Paris"}',
        "call_id": "call_1",
        "id": "fc_1",
    }
    assert text_view(call) == TextView("assistant", 'get_weather({"city":"Paris"})', "call_1")
    output = {"type": "function_call_output", "call_id": "call_1", "output": "sunny"}
    assert text_view(output) == TextView("tool", "sunny", "call_1")
    rich = {
        "type": "function_call_output",
        "call_id": "call_2",
        "output": [
            {"type": "input_text", "text": "chart:"},
            {"type": "input_image", "image_url": SCREENSHOT},
        ],
    }
    assert text_view(rich) == TextView("tool", "chart:[image]", "call_2")


@pytest.mark.parametrize(
    "kind",
    [
        "local_shell_call_output",
        "shell_call_output",
        "apply_patch_call_output",
        "custom_tool_call_output",
    ],
)
def test_text_view_other_tool_outputs_are_tool_messages(kind: str) -> None:
    view = text_view({"type": kind, "call_id": "c9", "output": "done"})
    assert view == TextView("tool", "done", "c9")


def test_text_view_computer_screenshot_output_is_readable() -> None:
    """A readable rendering: no Python dict repr, no megabytes of base64 in the text field."""
    item = {
        "type": "computer_call_output",
        "call_id": "call_c",
        "output": {"type": "computer_screenshot", "image_url": SCREENSHOT},
    }
    view = text_view(item)
    assert view.role == "tool"
    assert view.tool_call_id == "call_c"
    assert "iVBORw0KGgo" not in view.content
    assert not view.content.startswith("{'")


def test_text_view_reasoning_uses_summary_lines() -> None:
    item = {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [
            {"type": "summary_text", "text": "First, look up."},
            {"type": "summary_text", "text": "Then answer."},
        ],
        "encrypted_content": "gAAAA-secret",
    }
    view = text_view(item)
    assert view == TextView("assistant", "First, look up.\nThen answer.", "")
    assert text_view({"type": "reasoning", "id": "rs_2", "summary": []}).content == ""


@pytest.mark.parametrize(
    ("item", "content", "call_id"),
    [
        ({"type": "computer_call", "call_id": "c1", "action": {"type": "click"}}, "", "c1"),
        ({"type": "web_search_call", "id": "ws_1", "status": "completed"}, "", ""),
        ({"type": "file_search_call", "id": "fs_1", "queries": ["q"]}, "", ""),
        ({"type": "image_generation_call", "id": "ig_1", "result": SCREENSHOT}, "", ""),
        ({"type": "code_interpreter_call", "id": "ci_1", "code": "1+1"}, "", ""),
        ({"type": "local_shell_call", "call_id": "ls1", "action": {}}, "", "ls1"),
        ({"type": "mcp_call", "id": "mcp_1", "name": "n", "output": "o"}, "", ""),
        ({"type": "mcp_list_tools", "id": "ml_1", "tools": []}, "", ""),
        ({"type": "mcp_approval_request", "id": "ma_1"}, "", ""),
        ({"type": "mcp_approval_response", "approval_request_id": "ma_1"}, "", ""),
        ({"type": "custom_tool_call", "call_id": "ct1", "name": "x", "input": "y"}, "", "ct1"),
        ({"type": "compaction", "encrypted_content": "zzz"}, "", ""),
        ({"type": "item_reference", "id": "msg_0"}, "", ""),
    ],
)
def test_text_view_hosted_and_other_items_show_their_type(
    item: dict[str, Any], content: str, call_id: str
) -> None:
    view = text_view(item)
    assert view.role == "assistant"
    assert view.content == f"[{item['type']}]"
    assert view.tool_call_id == call_id
    assert SCREENSHOT not in view.content


def test_text_view_of_an_item_without_type_or_role() -> None:
    assert text_view({}) == TextView("assistant", "", "")


# user_text and shorten


def test_user_text_is_the_first_non_empty_user_message() -> None:
    items = [
        {"role": "system", "content": "You are helpful."},
        assistant("Hi!"),
        user("   "),
        {"type": "function_call_output", "call_id": "c", "output": "x", "role": "user"},
        user([{"type": "input_text", "text": "  What is\n\tthe   weather? "}]),
        user("second question"),
    ]
    assert user_text(items) == "What is the weather?"
    assert user_text([assistant("only me")]) == ""
    assert user_text([]) == ""


def test_shorten() -> None:
    assert shorten("short") == "short"
    assert shorten("  many   spaces\nand lines ") == "many spaces and lines"
    exact = "x" * 60
    assert shorten(exact) == exact
    long = "word " * 40
    cut = shorten(long)
    assert len(cut) <= 60
    assert cut.endswith("…")
    assert not cut[:-1].endswith(" ")
    assert long.startswith(cut[:-1])
    assert shorten("abcdef", width=4) == "abc…"
    assert len(shorten("é" * 100, width=10)) == 10


# encoding


def test_dumps_round_trips_types_exactly() -> None:
    value = {"i": 1, "f": 1.0, "b": True, "n": None, "s": "ü😀", "l": [0, -1, 2**63 - 1]}
    text = dumps(value)
    assert "😀" in text  # no \\u escapes: compact and readable
    back = decode(text)
    assert back == value
    assert type(back["i"]) is int
    assert type(back["f"]) is float
    assert type(back["b"]) is bool


def test_encode_item_rejects_what_is_not_lossless_json() -> None:
    for bad in [{"x": {1, 2}}, {"x": float("nan")}, {"x": b"raw"}, {"x": object()}]:
        with pytest.raises(InvalidItemError):
            encode_item(bad)
    with pytest.raises(InvalidItemError):
        encode_item(["not", "a", "dict"])
    with pytest.raises(InvalidItemError):
        encode_items({"role": "user", "content": "a dict, not a list"})
    with pytest.raises(InvalidItemError):
        encode_items("text")


def test_encode_item_accepts_pydantic_models() -> None:
    class Part(BaseModel):
        type: str
        text: str
        extra: int | None = None

    encoded = encode_item(Part(type="input_text", text="hi"))
    assert json.loads(encoded) == {"type": "input_text", "text": "hi"}
    nested = encode_item({"role": "user", "content": [Part(type="input_text", text="x")]})
    assert json.loads(nested)["content"] == [{"type": "input_text", "text": "x"}]


def test_canonical_ignores_key_order_only() -> None:
    assert canonical({"a": 1, "b": [1, 2]}) == canonical({"b": [1, 2], "a": 1})
    assert canonical({"a": 1}) != canonical({"a": 1.0})
    assert canonical({"a": [1, 2]}) != canonical({"a": [2, 1]})


# new_input_items: which leading items of a run's input are already stored


A, B, C, D = user("a"), assistant("b"), user("c"), assistant("d")


def test_new_input_items_history_plus_new_message() -> None:
    stored = [A, B, C, D]
    given = [A, B, C, D, user("new")]
    assert new_input_items(given, stored) == 4


def test_new_input_items_partial_history_tail() -> None:
    # the caller passes only the last two stored items back
    assert new_input_items([C, D, user("new")], [B, C, D]) == 2


def test_new_input_items_without_history() -> None:
    assert new_input_items([user("new")], [C, D]) == 0
    assert new_input_items([], [A]) == 0
    assert new_input_items([A], []) == 0
    # stored items that are not at the end of what is stored do not count
    assert new_input_items([A, user("new")], [A, B]) == 0


def test_new_input_items_repeated_identical_messages() -> None:
    # the user repeats the same message: the repetition is new, the history is not
    stored = [A, A]
    assert new_input_items([A, A, A], stored) == 2
    stored = [A, B, A, B]
    assert new_input_items([A, B, A, B, A], stored) == 4
    # with only the last turn passed back, the longest consistent overlap wins
    assert new_input_items([A, B, A], [B, A, B]) == 2
    assert new_input_items([B, A, B, A], [A, B, A, B]) == 3


def test_new_input_items_longest_overlap_is_chosen() -> None:
    stored = [A, A, A]
    assert new_input_items([A, A, A, C], stored) == 3
    assert new_input_items([A, A, C], stored) == 2
    assert new_input_items([A, C], stored) == 1


def test_new_input_items_compares_by_content_not_key_order_or_identity() -> None:
    reordered = {"content": "a", "role": "user"}
    assert new_input_items([reordered, user("new")], [A]) == 1
    assert new_input_items([user("A"), user("new")], [A]) == 0
    assert new_input_items([{"role": "user", "content": "a", "x": 1}], [A]) == 0


# keys: hash tags and ids


def unescape_tag(tag: str) -> str:
    assert tag.startswith("{") and tag.endswith("}")
    inner = tag[1:-1]
    assert "{" not in inner and "}" not in inner
    return re.sub("%(25|7B|7D)", lambda m: {"25": "%", "7B": "{", "7D": "}"}[m.group(1)], inner)


def test_hash_tag_is_one_to_one_over_tricky_alphabet() -> None:
    alphabet = ["{", "}", "%", "7", "B", "D", "2", "5", "a"]
    seen: dict[str, str] = {}
    for length in range(1, 5):
        for chars in itertools.product(alphabet, repeat=length):
            value = "".join(chars)
            tag = hash_tag(value)
            assert tag not in seen, (value, seen.get(tag))
            seen[tag] = value
            assert unescape_tag(tag) == value
    assert len(seen) == sum(len(alphabet) ** n for n in range(1, 5))


def test_hash_tag_examples() -> None:
    assert hash_tag("user_123") == "{user_123}"
    assert hash_tag("a{b}c") == "{a%7Bb%7Dc}"
    assert hash_tag("100%") == "{100%25}"
    assert hash_tag("%7B") == "{%257B}"
    assert hash_tag("{") != hash_tag("%7B")
    assert hash_tag("tenant_1:user_2") == "{tenant_1:user_2}"


@pytest.mark.parametrize("user_id", ["u", "a{b", "x}y", "}{", "%7D", "tenant:1/ü😀"])
def test_all_keys_of_a_user_share_one_slot(user_id: str) -> None:
    keys = ConversationKeys("roa", user_id, "conv:1")
    tag = hash_tag(user_id)
    slot = key_slot(tag[1:-1].encode())
    for key in [keys.meta, keys.user_index, keys.message(0), keys.message(12345)]:
        assert tag in key
        # the first "{" ... first "}" of the key is exactly the escaped user id
        start = key.index("{")
        assert key[start : key.index("}", start) + 1] == tag
        assert key_slot(key.encode()) == slot
    assert keys.meta == f"roa:conv:{tag}:conv:1"
    assert keys.user_index == user_index_key("roa", user_id) == f"roa:user:{tag}"
    assert keys.message(7) == f"roa:msg:{tag}:conv:1:7"
    assert keys.meta.startswith(conversation_meta_prefix("roa", user_id))


def test_conversation_keys_do_not_collide_across_similar_ids() -> None:
    first = ConversationKeys("roa", "u", "X")
    second = ConversationKeys("roa", "u", "X:1")
    first_messages = {first.message(s) for s in range(20)}
    second_messages = {second.message(s) for s in range(20)}
    assert not first_messages & second_messages
    assert first.meta != second.meta
    other_user = ConversationKeys("roa", "u:X", "1")
    assert other_user.meta != ConversationKeys("roa", "u", "X:1").meta


def test_index_names_and_json_key() -> None:
    assert message_index_name("roa") == "roa:messages"
    assert message_index_prefix("roa") == "roa:msg"
    assert json_session_key("roa", "s1") == "roa:json:{s1}"
    assert json_session_key("p", "a}b") == "p:json:{a%7Db}"
    assert json_session_key("p", "a}b") != json_session_key("p", "a%7Db")


def test_validate_id_limits() -> None:
    assert validate_id("x", "user_id") == "x"
    assert validate_id("a" * MAX_ID_LENGTH, "user_id") == "a" * MAX_ID_LENGTH
    assert validate_id(" spaced {} % ü ", "user_id") == " spaced {} % ü "
    with pytest.raises(InvalidIdentifierError, match="user_id"):
        validate_id("a" * (MAX_ID_LENGTH + 1), "user_id")
    with pytest.raises(InvalidIdentifierError, match="empty"):
        validate_id("", "conversation_id")
    with pytest.raises(InvalidIdentifierError, match="NUL"):
        validate_id("a\x00b", "session_id")
    for bad in [None, 1, b"bytes", ["x"]]:
        with pytest.raises(InvalidIdentifierError, match="must be a string"):
            validate_id(bad, "user_id")
    # callers catching ValueError see it too
    with pytest.raises(ValueError):
        validate_id("", "user_id")


def test_validate_prefix_rejects_braces() -> None:
    assert validate_prefix("tenant:app") == "tenant:app"
    for bad in ["a{", "}", "{x}"]:
        with pytest.raises(InvalidIdentifierError, match="prefix"):
            validate_prefix(bad)
    with pytest.raises(InvalidIdentifierError):
        validate_prefix("")
