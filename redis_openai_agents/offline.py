"""A deterministic, network-free stand-in for an OpenAI model.

The tutorials run `Runner.run(agent, input=...)` with plain agents, which needs an OpenAI key.
Without one,
[`use_offline_model_if_no_api_key`][redis_openai_agents.offline.use_offline_model_if_no_api_key]
lets every such run answer with [`OfflineModel`][redis_openai_agents.offline.OfflineModel],
which replies only from the input it receives: facts the user stated earlier in the
conversation, function tools it can match to the latest message, handoffs to agents the user
names. That keeps session continuity visible without any network access. Nothing here is
switched on implicitly; only the three functions at the bottom of this module change the
default runner.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from typing import Any

from agents.agent import Agent
from agents.agent_output import AgentOutputSchemaBase
from agents.handoffs import Handoff
from agents.items import (
    ModelResponse,
    TResponseInputItem,
    TResponseOutputItem,
    TResponseStreamEvent,
)
from agents.model_settings import ModelSettings
from agents.models.interface import Model, ModelProvider, ModelTracing
from agents.models.multi_provider import MultiProvider
from agents.result import RunResult, RunResultStreaming
from agents.run import AgentRunner, get_default_agent_runner, set_default_agent_runner
from agents.run_config import RunConfig, RunOptions
from agents.run_context import TContext
from agents.run_state import RunState
from agents.testing import ModelStep, ScriptedModel, assistant_message, function_call
from agents.tool import FunctionTool, Tool
from agents.usage import Usage
from openai.types.responses.response_prompt_param import ResponsePromptParam
from openai.types.responses.response_reasoning_item import ResponseReasoningItem, Summary
from typing_extensions import Unpack

__all__ = [
    "OfflineModel",
    "OfflineModelProvider",
    "restore_default_model",
    "use_offline_model",
    "use_offline_model_if_no_api_key",
]

PLACEHOLDER_API_KEYS = frozenset({"", "your-api-key-here"})
UNKNOWN_ANSWER = "I don't know that yet — you haven't told me."

_PHRASE = r"([^\W\d_][\w' -]*?)"
_PHRASE_END = r"(?=\s*(?:[.,!?;:]|\band\b|\bbut\b|\bso\b|$))"
_NAME = re.compile(rf"\bmy name is\s+{_PHRASE}{_PHRASE_END}", re.IGNORECASE)
_HOME = re.compile(rf"\bI(?: am|'m)?(?: living| live) in\s+{_PHRASE}{_PHRASE_END}", re.IGNORECASE)
_LIKE = re.compile(rf"\bI (?:really )?(?:like|love|enjoy)\s+{_PHRASE}{_PHRASE_END}", re.IGNORECASE)
_FAVORITE = re.compile(rf"\bmy favou?rite\s+(\w+)\s+is\s+{_PHRASE}{_PHRASE_END}", re.IGNORECASE)

_ASKS_NAME = re.compile(r"\b(?:my name|who am i|what am i called)\b", re.IGNORECASE)
_ASKS_HOME = re.compile(
    r"\bwhere (?:do |did )?i live\b|\bmy (?:city|home ?town|address)\b", re.IGNORECASE
)
_ASKS_LIKES = re.compile(r"\bwhat (?:do |did )?i (?:like|love|enjoy)\b", re.IGNORECASE)
_ASKS_FAVORITE = re.compile(r"\bmy favou?rite (\w+)\b", re.IGNORECASE)
_QUESTION_START = re.compile(
    r"^\s*(?:what|where|who|when|why|how|which|do|does|did|is|are|can|could|tell me)\b",
    re.IGNORECASE,
)
_GREETING = re.compile(r"^\s*(?:hi|hello|hey|good (?:morning|afternoon|evening))\b", re.IGNORECASE)

_CAPITALISED = r"[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*"
_AFTER_PREPOSITION = re.compile(rf"\b(?:in|for|at|near|from|to|of|about|on)\s+({_CAPITALISED})")
_CAPITALISED_PHRASE = re.compile(_CAPITALISED)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_TOKEN = re.compile(r"\w+|[^\w\s]")

_GENERIC_TOOL_WORDS = frozenset(
    {"get", "set", "fetch", "find", "lookup", "look", "up", "search", "list", "check", "do"}
    | {"run", "call", "tool", "make", "create", "query", "retrieve", "read", "show", "info"}
    | {"the", "for", "of", "by", "to", "and", "data"}
)
_GENERIC_AGENT_WORDS = frozenset({"agent", "assistant", "bot", "helper", "the", "a", "an"})


def _as_dict(item: object) -> dict[str, Any]:
    if isinstance(item, Mapping):
        return dict(item)
    dump = getattr(item, "model_dump", None)
    return dict(dump(exclude_unset=True)) if callable(dump) else {}


def _text(content: object) -> str:
    """Plain text of a message content: a string or a list of input/output text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = (_as_dict(part) for part in content)
        return " ".join(str(p.get("text") or p.get("refusal") or "") for p in parts).strip()
    return ""


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _mentions(words: set[str], word: str) -> bool:
    return word in words or f"{word}s" in words or (word.endswith("s") and word[:-1] in words)


def _join_and(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _proper(phrase: str) -> str:
    phrase = phrase.strip()
    return phrase.title() if phrase.islower() else phrase


def _digest(*parts: object) -> str:
    payload = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def _statements(text: str) -> list[str]:
    """Sentences of `text` that are not questions: only these state facts."""
    sentences = re.findall(r"[^.!?]+[.!?]?", text.replace("\u2019", "'"))
    return [s for s in sentences if not s.rstrip().endswith("?")]


@dataclasses.dataclass
class _Facts:
    """What the user has said about themselves, later statements overriding earlier ones."""

    name: str | None = None
    home: str | None = None
    likes: list[str] = dataclasses.field(default_factory=list)
    favorites: dict[str, str] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_messages(cls, messages: Iterable[str]) -> _Facts:
        facts = cls()
        for message in messages:
            for sentence in _statements(message):
                facts._learn(sentence)
        return facts

    def _learn(self, sentence: str) -> None:
        if match := _NAME.search(sentence):
            self.name = _proper(match.group(1))
        if match := _HOME.search(sentence):
            self.home = _proper(match.group(1))
        for match in _LIKE.finditer(sentence):
            liked = match.group(1).strip()
            if liked not in self.likes:
                self.likes.append(liked)
        for match in _FAVORITE.finditer(sentence):
            self.favorites[match.group(1).lower()] = match.group(2).strip()

    def acknowledgements(self) -> list[str]:
        """Deterministic replies to facts that were just stated."""
        replies = []
        if self.name:
            replies.append(f"Nice to meet you, {self.name}!")
        if self.home:
            replies.append(f"{self.home} is a great place to live.")
        if self.likes:
            replies.append(f"I'll remember that you like {_join_and(self.likes)}.")
        for thing, value in self.favorites.items():
            replies.append(f"I'll remember that your favorite {thing} is {value}.")
        return replies

    def answer(self, question: str) -> str:
        """Answer a question from remembered facts, saying plainly what is unknown."""
        asked: list[tuple[str | None, str, str]] = []
        if _ASKS_NAME.search(question):
            asked.append((self.name, f"your name is {self.name}", "your name"))
        if _ASKS_HOME.search(question):
            asked.append((self.home, f"you live in {self.home}", "where you live"))
        if _ASKS_LIKES.search(question):
            likes = _join_and(self.likes) if self.likes else None
            asked.append((likes, f"you like {likes}", "what you like"))
        for match in _ASKS_FAVORITE.finditer(question):
            thing = match.group(1).lower()
            value = self.favorites.get(thing)
            asked.append((value, f"your favorite {thing} is {value}", f"your favorite {thing}"))
        if not asked:
            return UNKNOWN_ANSWER
        known = [fact for value, fact, _ in asked if value]
        unknown = [topic for value, _, topic in asked if not value]
        sentences = [f"{_capitalise(_join_and(known))}."] if known else []
        if unknown:
            sentences.append(f"I don't know {_join_and(unknown)} yet — you haven't told me.")
        return " ".join(sentences)


def _reply(latest: str, history: Sequence[str]) -> str:
    """Chat answer to the latest user message, using every user message seen so far."""
    remembered = _Facts.from_messages(history)
    parts = _Facts.from_messages([latest]).acknowledgements()
    if "?" in latest or _QUESTION_START.match(latest):
        parts.append(remembered.answer(latest))
    elif not parts and _GREETING.match(latest):
        name = f", {remembered.name}" if remembered.name else ""
        parts.append(f"Hello{name}! How can I help you today?")
    return " ".join(parts) or "Got it — I'll keep that in mind."


def _entities(text: str) -> list[str]:
    """Capitalised phrases (not sentence starts), those after a preposition first: `in Paris`."""
    found = [m.group(1) for m in _AFTER_PREPOSITION.finditer(text)]
    for match in _CAPITALISED_PHRASE.finditer(text):
        before = text[: match.start()].rstrip()
        if before and before[-1] not in ".!?" and match.group() != "I":
            found.append(match.group())
    return list(dict.fromkeys(found))


class _SchemaFiller:
    """Builds a JSON value for a JSON schema from the words of one message."""

    def __init__(self, text: str, root: Mapping[str, Any]) -> None:
        self._text = text
        self._root = root
        self._words = _words(text)
        self._entities: Iterator[str] = iter(_entities(text))
        self._numbers: Iterator[str] = iter(_NUMBER.findall(text))

    def value(self, schema: Mapping[str, Any]) -> Any:
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = self._root
            for key in ref[2:].split("/"):
                target = target[key]
            return self.value(target)
        if "enum" in schema:
            named = [v for v in schema["enum"] if len(str(v)) > 1 and str(v).lower() in self._words]
            return named[0] if named else schema.get("default", schema["enum"][0])
        if "default" in schema:
            return schema["default"]
        branches = schema.get("anyOf") or schema.get("oneOf") or []
        if branches:
            if any(branch.get("type") == "null" for branch in branches):
                return None
            return self.value(branches[0])
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), None)
        if kind == "object":
            properties: Mapping[str, Any] = schema.get("properties", {})
            return {name: self.value(prop) for name, prop in properties.items()}
        if kind == "array":
            return []
        if kind in ("integer", "number"):
            number = float(next(self._numbers, "0"))
            return int(number) if kind == "integer" else number
        if kind == "boolean":
            return False
        if kind == "null":
            return None
        return next(self._entities, self._text)


def _fill(schema: Mapping[str, Any], text: str) -> Any:
    return _SchemaFiller(text, schema).value(schema)


def _tool_matches(tool: FunctionTool, words: set[str], text: str) -> bool:
    if tool.name.lower() in text.lower():
        return True
    keywords = set(re.findall(r"[a-z0-9]+", tool.name.lower())) - _GENERIC_TOOL_WORDS
    return any(len(word) > 2 and _mentions(words, word) for word in keywords)


def _handoff_matches(handoff: Handoff[Any, Any], words: set[str], text: str) -> bool:
    lowered = text.lower()
    if handoff.tool_name.lower() in lowered or handoff.agent_name.lower() in lowered:
        return True
    keywords = _words(handoff.agent_name) - _GENERIC_AGENT_WORDS
    return any(len(word) > 2 and word in words for word in keywords)


@dataclasses.dataclass(frozen=True)
class _Conversation:
    """The model input, parsed into what the offline model reasons about."""

    user_messages: list[str]
    after_latest_user: list[dict[str, Any]]
    trailing_outputs: list[dict[str, Any]]
    call_names: dict[str, str]

    @classmethod
    def parse(cls, input: str | list[TResponseInputItem]) -> _Conversation:
        raw = [{"role": "user", "content": input}] if isinstance(input, str) else input
        items = [_as_dict(item) for item in raw]
        user_indexes = [i for i, item in enumerate(items) if _is_user_message(item)]
        last_user = user_indexes[-1] if user_indexes else -1
        trailing: list[dict[str, Any]] = []
        for item in reversed(items):
            if item.get("type") != "function_call_output":
                break
            trailing.insert(0, item)
        return cls(
            user_messages=[_text(items[i].get("content")) for i in user_indexes],
            after_latest_user=items[last_user + 1 :],
            trailing_outputs=trailing,
            call_names={
                str(item.get("call_id")): str(item.get("name"))
                for item in items
                if item.get("type") == "function_call"
            },
        )

    @property
    def latest(self) -> str:
        return self.user_messages[-1] if self.user_messages else ""

    def called_since_latest_user(self) -> set[str]:
        return {
            str(item.get("name"))
            for item in self.after_latest_user
            if item.get("type") == "function_call"
        }


def _is_user_message(item: Mapping[str, Any]) -> bool:
    return item.get("role") == "user" and item.get("type", "message") == "message"


class OfflineModel(Model):
    """Answers from the conversation it is given, so offline runs still show real continuity.

    Each call is deterministic in its input: the same instructions and items produce the same
    output items and ids. With `reasoning=True` every response starts with a reasoning item, so
    reasoning items can be exercised through sessions without a reasoning model.

    Args:
        reasoning: Start every response with a reasoning item.
    """

    def __init__(self, *, reasoning: bool = False) -> None:
        self.reasoning = reasoning
        """Whether every response starts with a reasoning item."""

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff[Any, Any]],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None,
        conversation_id: str | None,
        prompt: ResponsePromptParam | None,
    ) -> ModelResponse:
        """The SDK's `Model.get_response`: the whole response at once."""
        scripted = self._scripted(
            system_instructions, input, tools, output_schema, handoffs, tracing
        )
        return await scripted.get_response(
            system_instructions,
            input,
            model_settings,
            tools,
            output_schema,
            handoffs,
            tracing,
            previous_response_id=previous_response_id,
            conversation_id=conversation_id,
            prompt=prompt,
        )

    async def stream_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        model_settings: ModelSettings,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff[Any, Any]],
        tracing: ModelTracing,
        *,
        previous_response_id: str | None,
        conversation_id: str | None,
        prompt: ResponsePromptParam | None,
    ) -> AsyncIterator[TResponseStreamEvent]:
        """The SDK's `Model.stream_response`: the same response as stream events."""
        scripted = self._scripted(
            system_instructions, input, tools, output_schema, handoffs, tracing
        )
        async for event in scripted.stream_response(
            system_instructions,
            input,
            model_settings,
            tools,
            output_schema,
            handoffs,
            tracing,
            previous_response_id=previous_response_id,
            conversation_id=conversation_id,
            prompt=prompt,
        ):
            yield event

    def _scripted(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff[Any, Any]],
        tracing: ModelTracing,
    ) -> ScriptedModel:
        """A one-step SDK scripted model: it supplies the response shape and stream events."""
        key = _digest(system_instructions, input)
        conversation = _Conversation.parse(input)
        summary, output = self._decide(conversation, key, tools, output_schema, handoffs)
        if self.reasoning:
            reasoning = ResponseReasoningItem(
                id=f"rs_{key[:32]}",
                type="reasoning",
                summary=[Summary(text=summary, type="summary_text")],
            )
            output = [reasoning, *output]
        prompt_items = [{"content": input}] if isinstance(input, str) else input
        input_tokens = len(_TOKEN.findall(system_instructions or "")) + _count_tokens(prompt_items)
        output_tokens = _count_tokens(output)
        usage = Usage(
            requests=1,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            total_tokens=input_tokens + output_tokens,
        )
        step = ModelStep(output=output, usage=usage, response_id=f"resp_{key[:32]}")
        return ScriptedModel([step], emit_traces=not tracing.is_disabled())

    @staticmethod
    def _decide(
        conversation: _Conversation,
        key: str,
        tools: list[Tool],
        output_schema: AgentOutputSchemaBase | None,
        handoffs: list[Handoff[Any, Any]],
    ) -> tuple[str, list[TResponseOutputItem]]:
        """Pick the response: answer tool results, call a tool or handoff, or chat."""
        message_id = f"msg_{key[:32]}"
        function_tools = {tool.name: tool for tool in tools if isinstance(tool, FunctionTool)}
        results = [
            _text(item.get("output"))
            for item in conversation.trailing_outputs
            if conversation.call_names.get(str(item.get("call_id"))) in function_tools
        ]
        if results:
            text = f"Here's what I found: {'; '.join(results)}"
            return "Answering with the tool results.", [assistant_message(text, item_id=message_id)]

        latest = conversation.latest
        words = _words(latest)
        already_called = conversation.called_since_latest_user()
        for handoff in handoffs:
            if handoff.tool_name not in already_called and _handoff_matches(handoff, words, latest):
                arguments = (
                    _fill(handoff.input_json_schema, latest) if handoff.input_json_schema else {}
                )
                call = _call(handoff.tool_name, arguments, key)
                return f"{handoff.agent_name} should handle this, so I hand off.", [call]

        chosen = [
            tool
            for name, tool in function_tools.items()
            if name not in already_called and _tool_matches(tool, words, latest)
        ]
        if chosen:
            calls = [
                _call(tool.name, _fill(tool.params_json_schema, latest), key) for tool in chosen
            ]
            names = ", ".join(tool.name for tool in chosen)
            return f"The request needs {names}; calling before answering.", calls

        text = _reply(latest, conversation.user_messages)
        if output_schema is not None and not output_schema.is_plain_text():
            text = json.dumps(_fill(output_schema.json_schema(), latest), ensure_ascii=False)
        earlier = max(len(conversation.user_messages) - 1, 0)
        summary = f"Answering from the latest message and {earlier} earlier user message(s)."
        return summary, [assistant_message(text, item_id=message_id)]


def _call(name: str, arguments: Any, key: str) -> TResponseOutputItem:
    call_key = _digest(key, name)
    return function_call(
        name, arguments, call_id=f"call_{call_key[:24]}", item_id=f"fc_{call_key[:32]}"
    )


def _count_tokens(items: Iterable[object]) -> int:
    """Rough token count (words and punctuation) of the text carried by input or output items."""
    total = 0
    for item in items:
        data = _as_dict(item)
        text = " ".join(
            _text(data.get(field)) for field in ("content", "output", "arguments", "summary")
        )
        total += len(_TOKEN.findall(text))
    return total


class OfflineModelProvider(ModelProvider):
    """Model provider for offline runs: every model name gets the same `OfflineModel`.

    Pass `RunConfig(model_provider=OfflineModelProvider(), tracing_disabled=True)` to make a
    single run offline (tracing would need an API key too), or call
    [`use_offline_model`][redis_openai_agents.offline.use_offline_model] for every run.

    Args:
        reasoning: Passed on to the model, as for `OfflineModel`.
    """

    def __init__(self, *, reasoning: bool = False) -> None:
        self._model = OfflineModel(reasoning=reasoning)

    def get_model(self, model_name: str | None) -> Model:
        """The provider's one `OfflineModel`, whatever the name."""
        return self._model


def _offline_run_config(value: RunConfig | dict[str, Any] | None) -> RunConfig | dict[str, Any]:
    """Swap in the offline provider where the caller left the SDK's default one.

    Tracing is disabled on those runs because the trace exporter would need the same missing key.
    """
    provider = OfflineModelProvider()
    if value is None:
        return RunConfig(model_provider=provider, tracing_disabled=True)
    if isinstance(value, dict):
        if "model_provider" in value:
            return value
        return {**value, "model_provider": provider, "tracing_disabled": True}
    if type(value.model_provider) is MultiProvider:
        return dataclasses.replace(value, model_provider=provider, tracing_disabled=True)
    return value


class _OfflineAgentRunner(AgentRunner):
    """Default runner whose runs use the offline model unless the caller chose a provider."""

    async def run(
        self,
        starting_agent: Agent[TContext],
        input: str | list[TResponseInputItem] | RunState[TContext],
        **kwargs: Unpack[RunOptions[TContext]],
    ) -> RunResult:
        kwargs["run_config"] = _offline_run_config(kwargs.get("run_config"))
        return await super().run(starting_agent, input, **kwargs)

    def run_streamed(
        self,
        starting_agent: Agent[TContext],
        input: str | list[TResponseInputItem] | RunState[TContext],
        **kwargs: Unpack[RunOptions[TContext]],
    ) -> RunResultStreaming:
        kwargs["run_config"] = _offline_run_config(kwargs.get("run_config"))
        return super().run_streamed(starting_agent, input, **kwargs)


_replaced_runner: AgentRunner | None = None


def use_offline_model() -> None:
    """Make every `Runner.run`/`run_streamed`/`run_sync` without its own provider offline.

    Runs that pass a `model_provider` in their `RunConfig` are left alone. Undo with
    [`restore_default_model`][redis_openai_agents.offline.restore_default_model].
    """
    global _replaced_runner
    current = get_default_agent_runner()
    if not isinstance(current, _OfflineAgentRunner):
        _replaced_runner = current
        set_default_agent_runner(_OfflineAgentRunner())


def restore_default_model() -> None:
    """Undo `use_offline_model`: reinstate the runner that was the default before it."""
    global _replaced_runner
    if isinstance(get_default_agent_runner(), _OfflineAgentRunner):
        set_default_agent_runner(_replaced_runner)
    _replaced_runner = None


def use_offline_model_if_no_api_key() -> bool:
    """Switch to the offline model when `OPENAI_API_KEY` is unset or the guide's placeholder.

    Returns True (after printing one line saying so) when the offline model is now the default,
    False when a real-looking key is set and nothing changed.
    """
    if os.environ.get("OPENAI_API_KEY", "").strip() not in PLACEHOLDER_API_KEYS:
        return False
    use_offline_model()
    print(
        "OPENAI_API_KEY is not set: agents answer with the offline model "
        "(redis_openai_agents.offline)."
    )
    return True
