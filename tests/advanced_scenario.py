"""One conversation with usage and branches, run the same way against any session class.

The tests run it against the SDK's `AdvancedSQLiteSession` and against `AgentSession`
(on one server and on a cluster) and compare what the two report. The model is the
offline one: deterministic in its input, with a tool call and non-zero usage.
"""

from __future__ import annotations

import re
from typing import Any

from agent_tools import get_weather
from agents import Agent, RunConfig, Runner

from redis_openai_agents.offline import OfflineModel

AGENT = Agent(name="assistant", instructions="Be brief.", model=OfflineModel(), tools=[get_weather])
TURNS = [
    "My name is Alice.",
    "What is the weather in Paris?",
    "I live in Seattle.",
    "What is my name?",
]
BRANCH_TURN = "What is the weather in Rome?"
RUN = RunConfig(tracing_disabled=True)
_SQL_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


async def run_turn(session: Any, text: str) -> None:
    result = await Runner.run(AGENT, text, session=session, run_config=RUN)
    await session.store_run_usage(result)


def _untimed(rows: list[dict[str, Any]], field: str) -> list[dict[str, Any]]:
    """Rows without their time field, once it is checked to be SQLite-style UTC text."""
    for row in rows:
        assert _SQL_TIME.match(row[field]), row
    return [{k: v for k, v in row.items() if k != field} for row in rows]


def _branches(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # The SDK orders branches by creation time in whole seconds; ties come in any order.
    return sorted(_untimed(rows, "created_at"), key=lambda row: row["branch_id"])


async def run_scenario(session: Any) -> dict[str, Any]:
    """What each method reports along the way, with times left out (checked for shape)."""
    seen: dict[str, Any] = {}
    for text in TURNS:
        await run_turn(session, text)
    seen["turns"] = _untimed(await session.get_conversation_turns(), "timestamp")
    seen["by_turns"] = await session.get_conversation_by_turns()
    seen["tools"] = await session.get_tool_usage()
    seen["usage"] = await session.get_session_usage()
    seen["turn_usage"] = await session.get_turn_usage()
    seen["turn_2_usage"] = await session.get_turn_usage(2)
    seen["turn_9_usage"] = await session.get_turn_usage(9)
    seen["found"] = _untimed(await session.find_turns_by_content("WEATHER"), "timestamp")

    seen["branch"] = await session.create_branch_from_turn(2, "rome")
    seen["branch_start"] = await session.get_items()
    await run_turn(session, BRANCH_TURN)
    seen["branch_items"] = await session.get_items()
    seen["branch_last_2"] = await session.get_items(limit=2)
    seen["branch_turns"] = _untimed(await session.get_conversation_turns(), "timestamp")
    seen["branch_tools"] = await session.get_tool_usage()
    seen["branch_usage"] = await session.get_session_usage(branch_id="rome")
    seen["branch_turn_usage"] = await session.get_turn_usage()
    seen["main_turn_usage"] = await session.get_turn_usage(branch_id="main")
    seen["all_usage"] = await session.get_session_usage()
    seen["listed"] = _branches(await session.list_branches())
    seen["from_content"] = await session.create_branch_from_content("ROME", "again")
    seen["again_items"] = await session.get_items()

    await session.switch_to_branch("main")
    seen["main_items"] = await session.get_items()
    seen["main_read_of_branch"] = await session.get_items(branch_id="rome")
    seen["listed_on_main"] = _branches(await session.list_branches())
    await session.delete_branch("rome")
    await session.delete_branch("again")
    seen["listed_after_delete"] = _branches(await session.list_branches())
    seen["usage_after_delete"] = await session.get_session_usage()
    seen["popped"] = await session.pop_item()
    seen["turns_after_pop"] = len(await session.get_conversation_turns())
    return seen


def check_substance(seen: dict[str, Any]) -> None:
    """The scenario exercised what it is meant to: a tool call, usage, a real branch."""
    assert [name for name, _, _ in seen["tools"]] == ["get_weather"]
    assert seen["usage"]["total_tokens"] > 0 and seen["usage"]["total_turns"] == 4
    assert seen["branch_usage"]["total_turns"] == 1
    assert seen["all_usage"]["total_turns"] == 5
    assert len(seen["branch_start"]) < len(seen["main_items"]) < len(seen["branch_items"]) + 6
    assert {b["branch_id"] for b in seen["listed"]} == {"main", "rome"}
    assert [b["branch_id"] for b in seen["listed_after_delete"]] == ["main"]
