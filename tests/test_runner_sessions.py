"""AgentSession as the Agents SDK session of `Runner.run(..., session=...)`.

Runs use the offline model (tool calls, handoffs and reasoning items included), so every
item type a real run produces goes through Redis. What a run stored is checked from a
fresh AgentSession object, so nothing can come from an object's memory.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest
import redis
from agent_tools import get_weather
from agents import Agent, RunConfig, Runner
from agents.memory import SessionSettings

from redis_openai_agents import AgentSession
from redis_openai_agents.offline import UNKNOWN_ANSWER, OfflineModel, OfflineModelProvider

REASONING_RUN = RunConfig(
    model_provider=OfflineModelProvider(reasoning=True), tracing_disabled=True
)
PLAIN_RUN = RunConfig(model_provider=OfflineModelProvider(), tracing_disabled=True)


class RecordingSession(AgentSession):
    """A real AgentSession that also remembers every batch the runner handed it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.batches: list[list[Any]] = []

    async def add_items(self, items: list[Any]) -> None:
        self.batches.append(copy.deepcopy(items))
        await super().add_items(items)


def as_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def assert_identical_json(actual: Any, expected: Any, path: str = "item") -> None:
    """Equal as JSON and with the same Python types all the way down (1 is not 1.0)."""
    assert type(actual) is type(expected), f"{path}: {type(actual)} != {type(expected)}"
    if isinstance(expected, dict):
        assert actual.keys() == expected.keys(), path
        for key in expected:
            assert_identical_json(actual[key], expected[key], f"{path}.{key}")
    elif isinstance(expected, list):
        assert len(actual) == len(expected), path
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            assert_identical_json(a, e, f"{path}[{i}]")
    elif isinstance(expected, float) and math.isnan(expected):
        assert math.isnan(actual), path
    else:
        assert actual == expected, path


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def assistant(text: str) -> dict[str, str]:
    return {"role": "assistant", "content": text}


def session_for(
    redis_url: str, prefix: str, user_id: str, conversation_id: str = "conv", **kwargs: Any
) -> AgentSession:
    return AgentSession(
        conversation_id, user_id=user_id, redis_url=redis_url, prefix=prefix, **kwargs
    )


def conversation_keys(r: redis.Redis, prefix: str, conversation_id: str) -> list[str]:
    return sorted(
        [
            *r.scan_iter(f"{prefix}:conv:*:{conversation_id}", count=1000),
            *r.scan_iter(f"{prefix}:msg:*:{conversation_id}:*", count=1000),
        ]
    )


# Runs with tools, handoffs and reasoning


async def test_multi_turn_run_with_tool_handoff_and_reasoning_reads_back_from_a_fresh_object(
    redis_url: str, prefix: str, user_id: str
) -> None:
    billing = Agent(name="billing agent", instructions="Handle billing questions.")
    triage = Agent(
        name="triage", instructions="Route requests.", tools=[get_weather], handoffs=[billing]
    )
    session = RecordingSession("conv", user_id=user_id, redis_url=redis_url, prefix=prefix)

    first = await Runner.run(triage, "My name is Alice.", session=session, run_config=REASONING_RUN)
    assert first.final_output == "Nice to meet you, Alice!"
    weather = await Runner.run(
        triage, "What's the weather in Paris?", session=session, run_config=REASONING_RUN
    )
    assert weather.final_output == "Here's what I found: It is sunny and 21 degrees in Paris."
    handed = await Runner.run(
        triage, "Please get me the billing agent.", session=session, run_config=REASONING_RUN
    )
    assert handed.last_agent.name == "billing agent"

    written = [item for batch in session.batches for item in batch]
    fresh = session_for(redis_url, prefix, user_id)
    stored = await fresh.get_items()
    assert as_json(stored) == as_json(written)
    for got, sent in zip(stored, written, strict=True):
        assert_identical_json(got, sent)
    assert await fresh.amessage_count() == len(written)

    types = [item.get("type", "message") for item in stored]
    assert types.count("reasoning") >= 4
    calls = [item for item in stored if item.get("type") == "function_call"]
    assert [c["name"] for c in calls] == ["get_weather", "transfer_to_billing_agent"]
    outputs = [item for item in stored if item.get("type") == "function_call_output"]
    assert [o["call_id"] for o in outputs] == [c["call_id"] for c in calls]
    assert outputs[0]["output"] == "It is sunny and 21 degrees in Paris."
    # Every item of the final run's view of the conversation is what Redis holds.
    assert as_json(handed.to_input_list()) == as_json(stored)

    await session.aclose()
    await fresh.aclose()


async def test_new_run_on_a_fresh_object_continues_the_stored_conversation(
    redis_url: str, prefix: str, user_id: str
) -> None:
    agent = Agent(name="assistant", instructions="Remember.", tools=[get_weather])
    first = session_for(redis_url, prefix, user_id)
    await Runner.run(
        agent, "My name is Alice and I live in Seattle.", session=first, run_config=PLAIN_RUN
    )
    await Runner.run(agent, "What's the weather in Paris?", session=first, run_config=PLAIN_RUN)
    await first.aclose()

    resumed = session_for(redis_url, prefix, user_id)
    answer = await Runner.run(
        Agent(name="assistant", instructions="Remember.", tools=[get_weather]),
        "What's my name and where do I live?",
        session=resumed,
        run_config=PLAIN_RUN,
    )
    assert answer.final_output == "Your name is Alice and you live in Seattle."

    unrelated = session_for(redis_url, prefix, user_id, conversation_id="another")
    blank = await Runner.run(agent, "What's my name?", session=unrelated, run_config=PLAIN_RUN)
    assert blank.final_output == "I don't know your name yet — you haven't told me."
    await resumed.aclose()
    await unrelated.aclose()


async def test_reasoning_items_from_an_agent_model_round_trip(
    redis_url: str, prefix: str, user_id: str
) -> None:
    agent = Agent(name="thinker", instructions="Think.", model=OfflineModel(reasoning=True))
    session = RecordingSession("conv", user_id=user_id, redis_url=redis_url, prefix=prefix)
    await Runner.run(
        agent, "Hello there", session=session, run_config=RunConfig(tracing_disabled=True)
    )

    stored = await session_for(redis_url, prefix, user_id).get_items()
    reasoning = [item for item in stored if item.get("type") == "reasoning"]
    assert len(reasoning) == 1
    assert reasoning[0]["summary"][0]["type"] == "summary_text"
    assert as_json(stored) == as_json([i for b in session.batches for i in b])
    await session.aclose()


async def test_streamed_run_stores_the_same_items_as_a_plain_run(
    redis_url: str, prefix: str, user_id: str
) -> None:
    agent = Agent(name="assistant", instructions="Remember.", tools=[get_weather])
    plain = session_for(redis_url, prefix, user_id, conversation_id="plain")
    streamed = session_for(redis_url, prefix, user_id, conversation_id="streamed")
    await Runner.run(agent, "What's the weather in Paris?", session=plain, run_config=PLAIN_RUN)
    run = Runner.run_streamed(
        agent, "What's the weather in Paris?", session=streamed, run_config=PLAIN_RUN
    )
    async for _ in run.stream_events():
        pass
    assert as_json(await streamed.get_items()) == as_json(await plain.get_items())
    await plain.aclose()
    await streamed.aclose()


async def test_store_agent_result_after_a_session_run_stores_nothing(
    redis_url: str, prefix: str, user_id: str
) -> None:
    agent = Agent(name="assistant", instructions="Remember.", tools=[get_weather])
    session = session_for(redis_url, prefix, user_id)
    await Runner.run(agent, "My name is Alice.", session=session, run_config=PLAIN_RUN)
    result = await Runner.run(
        agent, "What's the weather in Paris?", session=session, run_config=PLAIN_RUN
    )
    before = await session.get_items()

    assert await session.astore_agent_result(result) == 0
    assert as_json(await session.get_items()) == as_json(before)
    assert session.current_agent == "assistant"
    await session.aclose()


async def test_store_agent_result_from_another_object_after_a_session_run_stores_nothing(
    redis_url: str, prefix: str, user_id: str
) -> None:
    """The run's items are already in Redis: a second object on the same conversation
    (another request handler, a reloaded session) must not store them again."""
    agent = Agent(name="assistant", instructions="Remember.")
    session = session_for(redis_url, prefix, user_id)
    await Runner.run(agent, "My name is Alice.", session=session, run_config=PLAIN_RUN)
    result = await Runner.run(agent, "I live in Seattle.", session=session, run_config=PLAIN_RUN)
    before = await session.get_items()

    loaded = await AgentSession.aload("conv", user_id, redis_url, prefix=prefix)
    assert await loaded.astore_agent_result(result) == 0
    assert as_json(await loaded.get_items()) == as_json(before)
    await session.aclose()
    await loaded.aclose()


# Session settings and the protocol's limit, pop and clear


async def test_session_settings_limit_bounds_what_the_runner_reads(
    redis_url: str, prefix: str, user_id: str
) -> None:
    agent = Agent(name="assistant", instructions="Remember.")
    writer = session_for(redis_url, prefix, user_id)
    await Runner.run(agent, "My name is Alice.", session=writer, run_config=PLAIN_RUN)
    await Runner.run(agent, "I like tea.", session=writer, run_config=PLAIN_RUN)
    stored = await writer.get_items()
    assert len(stored) == 4

    limited = session_for(redis_url, prefix, user_id, session_settings=SessionSettings(limit=2))
    assert as_json(await limited.get_items()) == as_json(stored[-2:])
    assert as_json(await limited.get_items(limit=3)) == as_json(stored[-3:])
    forgetful = await Runner.run(agent, "What's my name?", session=limited, run_config=PLAIN_RUN)
    assert forgetful.final_output == "I don't know your name yet — you haven't told me."

    unlimited = session_for(redis_url, prefix, user_id)
    recalled = await Runner.run(agent, "What's my name?", session=unlimited, run_config=PLAIN_RUN)
    assert recalled.final_output == "Your name is Alice."
    assert UNKNOWN_ANSWER not in recalled.final_output
    for s in (writer, limited, unlimited):
        await s.aclose()


async def test_get_items_limit_returns_the_latest_items_in_order(
    redis_url: str, prefix: str, user_id: str
) -> None:
    session = session_for(redis_url, prefix, user_id)
    items = [user(f"message {i}") for i in range(5)]
    await session.add_items(items[:2])
    await session.add_items(items[2:])

    assert await session.get_items(limit=0) == []
    assert await session.get_items(limit=2) == items[-2:]
    assert await session.get_items(limit=1) == items[-1:]
    assert await session.get_items(limit=5) == items
    assert await session.get_items(limit=50) == items
    assert await session.get_items() == items
    with pytest.raises(ValueError):
        await session.get_items(limit=-1)
    assert await session_for(redis_url, prefix, user_id, "empty").get_items(limit=3) == []
    await session.aclose()


async def test_pop_item_returns_the_newest_item_and_removes_it(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    session = session_for(redis_url, prefix, user_id)
    call = {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"}
    await session.add_items([user("one"), assistant("two"), call])
    message_keys = [k for k in conversation_keys(r, prefix, "conv") if ":msg:" in k]
    assert len(message_keys) == 3

    assert await session.pop_item() == call
    assert await session.get_items() == [user("one"), assistant("two")]
    assert await session.amessage_count() == 2
    assert len([k for k in conversation_keys(r, prefix, "conv") if ":msg:" in k]) == 2

    fresh = session_for(redis_url, prefix, user_id)
    assert await fresh.pop_item() == assistant("two")
    assert await session.pop_item() == user("one")
    assert await session.pop_item() is None
    assert await session.get_items() == []

    await session.add_items([user("after pops")])
    assert await fresh.get_items() == [user("after pops")]
    await session.aclose()
    await fresh.aclose()


async def test_clear_session_removes_the_whole_conversation_and_nothing_else(
    redis_url: str, prefix: str, user_id: str, r: redis.Redis
) -> None:
    agent = Agent(name="assistant", instructions="Remember.", tools=[get_weather])
    session = session_for(redis_url, prefix, user_id)
    neighbour = session_for(redis_url, prefix, user_id, conversation_id="neighbour")
    await Runner.run(agent, "What's the weather in Paris?", session=session, run_config=PLAIN_RUN)
    await neighbour.add_items([user("keep me")])
    assert conversation_keys(r, prefix, "conv")

    await session.clear_session()

    assert conversation_keys(r, prefix, "conv") == []
    assert await session.get_items() == []
    listed = await AgentSession.alist_sessions(user_id, redis_url, prefix=prefix)
    assert [s.conversation_id for s in listed] == ["neighbour"]
    assert await neighbour.get_items() == [user("keep me")]

    # The runner can start the conversation again on the same id.
    await Runner.run(agent, "Hello", session=session, run_config=PLAIN_RUN)
    assert len(await session_for(redis_url, prefix, user_id).get_items()) == 2
    await session.aclose()
    await neighbour.aclose()


# Every Responses item type round-trips losslessly

BIG_INT = 2**63 + 11

ITEM_CATALOGUE: dict[str, dict[str, Any]] = {
    "easy_message": {"role": "user", "content": "Hello ünïcødé 👋 — 你好 — مرحبا"},
    "system_message": {"role": "system", "content": "Be brief."},
    "developer_message": {"role": "developer", "content": "Internal note."},
    "input_message_with_parts": {
        "type": "message",
        "role": "user",
        "content": [
            {"type": "input_text", "text": "What is in this image?"},
            {
                "type": "input_image",
                "image_url": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==",
                "detail": "auto",
                "file_id": None,
            },
            {"type": "input_file", "file_id": "file_123", "filename": "report.pdf"},
            {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
        ],
    },
    "output_message": {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [
            {
                "type": "output_text",
                "text": "Redis is fast.",
                "annotations": [
                    {
                        "type": "url_citation",
                        "start_index": 0,
                        "end_index": 5,
                        "url": "https://redis.io",
                        "title": "Redis",
                    }
                ],
                "logprobs": [{"token": "Red", "logprob": -0.25, "bytes": [82, 101, 100]}],
            },
            {"type": "refusal", "refusal": "I can't help with that."},
        ],
    },
    "function_call": {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": "get_weather",
        "arguments": '{"city": "Paris", "days": 3}',
        "status": "completed",
    },
    "function_call_output_text": {
        "type": "function_call_output",
        "call_id": "call_1",
        "output": "21 °C",
    },
    "function_call_output_parts": {
        "type": "function_call_output",
        "call_id": "call_2",
        "output": [
            {"type": "input_text", "text": "see the chart"},
            {"type": "input_image", "image_url": "https://example.com/c.png", "detail": "low"},
        ],
    },
    "reasoning": {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [{"type": "summary_text", "text": "Thinking about the weather…"}],
        "content": [{"type": "reasoning_text", "text": "step 1"}],
        "encrypted_content": "gAAAAABo" + "Zm9vYmFy" * 500,
        "status": None,
    },
    "web_search_call": {
        "type": "web_search_call",
        "id": "ws_1",
        "status": "completed",
        "action": {
            "type": "search",
            "query": "weather in Paris",
            "sources": [{"type": "url", "url": "https://example.com"}],
        },
    },
    "file_search_call": {
        "type": "file_search_call",
        "id": "fs_1",
        "status": "completed",
        "queries": ["redis ttl", "hash tags"],
        "results": [
            {
                "file_id": "file_1",
                "filename": "notes.md",
                "score": 0.875,
                "text": "Keys share a slot.",
                "attributes": {"page": 3, "draft": False, "reviewer": None},
            }
        ],
    },
    "computer_call": {
        "type": "computer_call",
        "id": "cu_1",
        "call_id": "call_cu",
        "status": "completed",
        "action": {"type": "click", "button": "left", "x": 100, "y": 200},
        "pending_safety_checks": [
            {"id": "sc_1", "code": "malicious_instructions", "message": "Check this."}
        ],
    },
    "computer_call_output": {
        "type": "computer_call_output",
        "call_id": "call_cu",
        "output": {"type": "computer_screenshot", "image_url": "data:image/png;base64,AAAA"},
        "acknowledged_safety_checks": [{"id": "sc_1", "code": None, "message": None}],
    },
    "image_generation_call": {
        "type": "image_generation_call",
        "id": "ig_1",
        "status": "completed",
        "result": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB",
    },
    "code_interpreter_call": {
        "type": "code_interpreter_call",
        "id": "ci_1",
        "status": "completed",
        "container_id": "cntr_1",
        "code": "print(1 + 1)",
        "outputs": [{"type": "logs", "logs": "2\n"}, {"type": "image", "url": "https://x/i.png"}],
    },
    "local_shell_call": {
        "type": "local_shell_call",
        "id": "lsh_1",
        "call_id": "call_lsh",
        "status": "completed",
        "action": {
            "type": "exec",
            "command": ["ls", "-la"],
            "env": {"LANG": "C"},
            "timeout_ms": 5000,
            "working_directory": None,
            "user": None,
        },
    },
    "local_shell_call_output": {
        "type": "local_shell_call_output",
        "id": "call_lsh",
        "output": "total 0\n",
        "status": "completed",
    },
    "mcp_list_tools": {
        "type": "mcp_list_tools",
        "id": "mcpl_1",
        "server_label": "docs",
        "tools": [
            {
                "name": "search",
                "input_schema": {
                    "type": "object",
                    "properties": {"q": {"type": "string"}, "k": {"type": "integer"}},
                    "required": ["q"],
                },
                "description": None,
                "annotations": {"readOnlyHint": True},
            }
        ],
        "error": None,
    },
    "mcp_approval_request": {
        "type": "mcp_approval_request",
        "id": "mcpr_1",
        "server_label": "docs",
        "name": "search",
        "arguments": '{"q": "redis"}',
    },
    "mcp_approval_response": {
        "type": "mcp_approval_response",
        "approval_request_id": "mcpr_1",
        "approve": True,
        "reason": None,
    },
    "mcp_call": {
        "type": "mcp_call",
        "id": "mcp_1",
        "server_label": "docs",
        "name": "search",
        "arguments": '{"q": "redis"}',
        "output": "3 results",
        "error": None,
    },
    "custom_tool_call": {
        "type": "custom_tool_call",
        "call_id": "call_ct",
        "name": "grammar",
        "input": "SELECT 1;",
    },
    "custom_tool_call_output": {
        "type": "custom_tool_call_output",
        "call_id": "call_ct",
        "output": "ok",
    },
    "item_reference": {"type": "item_reference", "id": "msg_abc"},
    "compaction": {"type": "compaction", "id": "cmp_1", "encrypted_content": "ZW5jcnlwdGVk"},
    "json_scalars": {
        "type": "function_call",
        "call_id": "call_n",
        "name": "numbers",
        "arguments": "{}",
        "an_int": 1,
        "a_big_int": BIG_INT,
        "a_whole_float": 1.0,
        "a_negative_float": -0.5,
        "a_tiny_float": 1e-300,
        "a_false": False,
        "a_true": True,
        "a_null": None,
        "an_empty_list": [],
        "an_empty_object": {},
        "an_empty_string": "",
        "nested": {"deeper": [{"level": 3, "values": [0, 0.0, None, "0", False]}]},
    },
    "awkward_text": {
        "role": "user",
        "content": 'quotes " \\ backslash, newline\n tab\t NUL \x00 emoji 🧪 "{}" $x %s ;',
    },
}


@pytest.mark.parametrize("kind", list(ITEM_CATALOGUE))
async def test_item_round_trips_with_types_intact(
    redis_url: str, prefix: str, user_id: str, kind: str
) -> None:
    item = ITEM_CATALOGUE[kind]
    writer = session_for(redis_url, prefix, user_id)
    await writer.add_items([copy.deepcopy(item)])
    await writer.aclose()

    reader = session_for(redis_url, prefix, user_id)
    (stored,) = await reader.get_items()
    assert as_json(stored) == as_json(item)
    assert_identical_json(stored, item)
    assert await reader.pop_item() == item
    await reader.aclose()


async def test_whole_catalogue_in_one_batch_round_trips_in_order(
    redis_url: str, prefix: str, user_id: str
) -> None:
    items = [copy.deepcopy(item) for item in ITEM_CATALOGUE.values()]
    writer = session_for(redis_url, prefix, user_id)
    await writer.add_items(items)
    stored = await session_for(redis_url, prefix, user_id).get_items()
    assert as_json(stored) == as_json(list(ITEM_CATALOGUE.values()))
    for got, sent in zip(stored, ITEM_CATALOGUE.values(), strict=True):
        assert_identical_json(got, sent)
    big = next(i for i in stored if i.get("name") == "numbers")
    assert big["a_big_int"] == BIG_INT and type(big["a_whole_float"]) is float
    await writer.aclose()


async def test_item_with_a_lone_surrogate_round_trips(
    redis_url: str, prefix: str, user_id: str
) -> None:
    """JSON can carry `\\ud83d` (half of an emoji, as truncated model output can hold)."""
    item = json.loads('{"role": "assistant", "content": "cut emoji \\ud83d"}')
    session = session_for(redis_url, prefix, user_id)
    await session.add_items([item])
    assert await session_for(redis_url, prefix, user_id).get_items() == [item]
    await session.aclose()


async def test_returned_items_are_copies_not_views_of_the_store(
    redis_url: str, prefix: str, user_id: str
) -> None:
    session = session_for(redis_url, prefix, user_id)
    original = copy.deepcopy(ITEM_CATALOGUE["output_message"])
    await session.add_items([original])
    original["content"][0]["text"] = "changed after add_items"
    (first_read,) = await session.get_items()
    first_read["status"] = "mutated by the caller"
    (second_read,) = await session.get_items()
    assert second_read == ITEM_CATALOGUE["output_message"]
    await session.aclose()
