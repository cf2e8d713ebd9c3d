"""The offline model driven through the real ``Runner``: no network, no Redis."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from agent_tools import get_weather
from agents import Agent, ModelSettings, RunConfig, Runner
from agents.items import (
    HandoffCallItem,
    ReasoningItem,
    ToolCallItem,
    ToolCallOutputItem,
    TResponseInputItem,
)
from agents.models.interface import Model, ModelProvider, ModelTracing
from agents.run import AgentRunner, get_default_agent_runner
from agents.testing import ScriptedModel, assistant_message
from openai.types.responses import ResponseFunctionToolCall, ResponseTextDeltaEvent
from pydantic import BaseModel

from redis_openai_agents.offline import (
    UNKNOWN_ANSWER,
    OfflineModel,
    OfflineModelProvider,
    restore_default_model,
    use_offline_model,
    use_offline_model_if_no_api_key,
)

OFFLINE = RunConfig(model_provider=OfflineModelProvider(), tracing_disabled=True)
NO_TRACING = RunConfig(tracing_disabled=True)


@pytest.fixture(autouse=True)
def _restore_runner() -> Iterator[None]:
    yield
    restore_default_model()


def user(text: str) -> TResponseInputItem:
    return {"role": "user", "content": text}


async def test_recalls_facts_when_history_is_passed_back() -> None:
    agent = Agent(name="assistant", instructions="Remember what the user tells you.")

    first = await Runner.run(agent, "My name is Alice and I live in Seattle.", run_config=OFFLINE)
    assert first.final_output == "Nice to meet you, Alice! Seattle is a great place to live."

    history = first.to_input_list()
    second = await Runner.run(
        agent, [*history, user("What's my name and where do I live?")], run_config=OFFLINE
    )
    assert second.final_output == "Your name is Alice and you live in Seattle."

    fresh = await Runner.run(agent, "What's my name?", run_config=OFFLINE)
    assert fresh.final_output == "I don't know your name yet — you haven't told me."


async def test_likes_favorites_and_unknowns() -> None:
    agent = Agent(name="assistant", instructions="Remember.")
    history: list[TResponseInputItem] = []
    for text in ["I love hiking.", "My favorite color is blue."]:
        result = await Runner.run(agent, [*history, user(text)], run_config=OFFLINE)
        history = result.to_input_list()
    assert result.final_output == "I'll remember that your favorite color is blue."

    asked = await Runner.run(
        agent, [*history, user("What do I like, and what's my favorite color?")], run_config=OFFLINE
    )
    assert asked.final_output == "You like hiking and your favorite color is blue."

    unknown = await Runner.run(agent, "What is the capital of France?", run_config=OFFLINE)
    assert unknown.final_output == UNKNOWN_ANSWER


async def test_tool_is_called_executed_and_its_output_answered() -> None:
    agent = Agent(name="weather", instructions="Use tools.", tools=[get_weather])

    result = await Runner.run(agent, "What's the weather in Paris?", run_config=OFFLINE)

    calls = [item.raw_item for item in result.new_items if isinstance(item, ToolCallItem)]
    assert len(calls) == 1
    assert isinstance(calls[0], ResponseFunctionToolCall)
    assert calls[0].name == "get_weather"
    assert calls[0].arguments == '{"city":"Paris"}'
    outputs = [item.output for item in result.new_items if isinstance(item, ToolCallOutputItem)]
    assert outputs == ["It is sunny and 21 degrees in Paris."]
    assert result.final_output == "Here's what I found: It is sunny and 21 degrees in Paris."


async def test_tool_is_not_called_for_unrelated_messages() -> None:
    agent = Agent(name="weather", instructions="Use tools.", tools=[get_weather])

    result = await Runner.run(agent, "Hello there", run_config=OFFLINE)

    assert not any(isinstance(item, ToolCallItem) for item in result.new_items)
    assert result.final_output == "Hello! How can I help you today?"


async def test_handoff_to_named_agent() -> None:
    billing = Agent(name="Billing agent", instructions="Handle billing.")
    triage = Agent(name="Triage", instructions="Route the user.", handoffs=[billing])

    result = await Runner.run(
        triage, "My name is Bob. I have a billing question.", run_config=OFFLINE
    )

    assert result.last_agent is billing
    calls = [item.raw_item for item in result.new_items if isinstance(item, HandoffCallItem)]
    assert [call.name for call in calls] == ["transfer_to_billing_agent"]
    assert result.final_output == "Nice to meet you, Bob!"


async def test_tool_call_after_handoff() -> None:
    weather = Agent(name="Weather agent", instructions="Weather.", tools=[get_weather])
    triage = Agent(name="Triage", instructions="Route.", handoffs=[weather])

    result = await Runner.run(triage, "Weather agent: what's it like in Oslo?", run_config=OFFLINE)

    assert result.last_agent is weather
    assert result.final_output == "Here's what I found: It is sunny and 21 degrees in Oslo."


async def test_streaming_matches_the_non_streamed_answer() -> None:
    agent = Agent(name="weather", instructions="Use tools.", tools=[get_weather])

    streamed = Runner.run_streamed(agent, "What's the weather in Rome?", run_config=OFFLINE)
    deltas = [
        event.data.delta
        async for event in streamed.stream_events()
        if event.type == "raw_response_event" and isinstance(event.data, ResponseTextDeltaEvent)
    ]

    expected = "Here's what I found: It is sunny and 21 degrees in Rome."
    assert streamed.final_output == expected
    assert "".join(deltas) == expected
    assert any(isinstance(item, ToolCallOutputItem) for item in streamed.new_items)


async def test_reasoning_items_round_trip() -> None:
    agent = Agent(name="thinker", instructions="Think.", model=OfflineModel(reasoning=True))

    first = await Runner.run(agent, "I live in Lisbon.", run_config=NO_TRACING)
    reasoning = [item for item in first.new_items if isinstance(item, ReasoningItem)]
    assert len(reasoning) == 1
    assert reasoning[0].raw_item.id.startswith("rs_")
    assert reasoning[0].raw_item.summary[0].text

    history = first.to_input_list()
    assert any(item.get("type") == "reasoning" for item in history)
    second = await Runner.run(agent, [*history, user("Where do I live?")], run_config=NO_TRACING)
    assert second.final_output == "You live in Lisbon."


async def test_usage_is_counted() -> None:
    agent = Agent(name="assistant", instructions="Be brief.")

    result = await Runner.run(agent, "Hello", run_config=OFFLINE)

    usage = result.context_wrapper.usage
    assert usage.requests == 1
    assert usage.input_tokens > 0
    assert usage.output_tokens > 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens


async def test_structured_output_follows_the_schema() -> None:
    class Forecast(BaseModel):
        city: str
        days: int

    agent = Agent(name="forecaster", instructions="Forecast.", output_type=Forecast)

    result = await Runner.run(agent, "Forecast for Berlin over 3 days", run_config=OFFLINE)

    assert result.final_output == Forecast(city="Berlin", days=3)


async def test_same_input_gives_same_output_and_ids() -> None:
    model = OfflineModel(reasoning=True)
    agent = Agent(name="weather", instructions="Use tools.", tools=[get_weather], model=model)

    runs = [
        await Runner.run(agent, "What's the weather in Paris?", run_config=NO_TRACING)
        for _ in range(2)
    ]

    assert runs[0].final_output == runs[1].final_output
    assert runs[0].to_input_list() == runs[1].to_input_list()

    async def respond() -> dict[str, Any]:
        response = await model.get_response(
            "Use tools.",
            [user("Hello")],
            ModelSettings(),
            [],
            None,
            [],
            ModelTracing.DISABLED,
            previous_response_id=None,
            conversation_id=None,
            prompt=None,
        )
        return {"id": response.response_id, "output": [o.model_dump() for o in response.output]}

    assert await respond() == await respond()


async def test_different_conversations_get_different_ids() -> None:
    agent = Agent(name="assistant", instructions="Hi.")

    a = await Runner.run(agent, "Hello", run_config=OFFLINE)
    b = await Runner.run(agent, "Hello again", run_config=OFFLINE)

    assert a.last_response_id != b.last_response_id
    assert a.raw_responses[0].output[0].id != b.raw_responses[0].output[0].id


async def test_opt_in_with_placeholder_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "your-api-key-here")

    assert use_offline_model_if_no_api_key() is True

    assert capsys.readouterr().out.count("\n") == 1
    agent = Agent(name="assistant", instructions="Remember.")
    result = await Runner.run(agent, "My name is Carol.")
    assert result.final_output == "Nice to meet you, Carol!"
    streamed = Runner.run_streamed(agent, "Hi")
    async for _ in streamed.stream_events():
        pass
    assert streamed.final_output == "Hello! How can I help you today?"


@pytest.mark.parametrize("value", [None, "", "  "])
def test_opt_in_without_key(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    if value is None:
        monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    else:
        monkeypatch.setenv("OPENAI_API_KEY", value)

    assert use_offline_model_if_no_api_key() is True
    result = Runner.run_sync(Agent(name="a", instructions="x"), "I like tea.")
    assert result.final_output == "I'll remember that you like tea."


def test_opt_in_does_nothing_with_a_real_looking_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-0123456789abcdef")
    runner = get_default_agent_runner()

    assert use_offline_model_if_no_api_key() is False

    assert get_default_agent_runner() is runner
    assert capsys.readouterr().out == ""


def test_restore_reinstates_the_previous_runner(capsys: pytest.CaptureFixture[str]) -> None:
    previous = get_default_agent_runner()

    use_offline_model()
    use_offline_model()
    assert get_default_agent_runner() is not previous
    restore_default_model()

    assert get_default_agent_runner() is previous
    assert type(previous) is AgentRunner
    assert capsys.readouterr().out == ""


async def test_an_explicit_provider_wins_over_the_offline_default() -> None:
    class Scripted(ModelProvider):
        def get_model(self, model_name: str | None) -> Model:
            return ScriptedModel([[assistant_message("scripted answer")]])

    use_offline_model()
    agent = Agent(name="assistant", instructions="x")

    as_config = await Runner.run(
        agent, "Hi", run_config=RunConfig(model_provider=Scripted(), tracing_disabled=True)
    )
    as_dict = await Runner.run(
        agent, "Hi", run_config={"model_provider": Scripted(), "tracing_disabled": True}
    )
    overridden = await Runner.run(agent, "Hi", run_config=RunConfig(workflow_name="tutorial"))

    assert as_config.final_output == "scripted answer"
    assert as_dict.final_output == "scripted answer"
    assert overridden.final_output == "Hello! How can I help you today?"
