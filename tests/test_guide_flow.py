"""The session management guide's AgentSession walkthrough, run as the guide writes it.

The guide runs in a notebook: `await Runner.run(...)` sits beside synchronous session calls
(`create`, `store_agent_result`, `load`, ...), so those must work while an event loop is
running. The same walkthrough is run again from plain synchronous code, with no loop.
Every test uses the offline model, so a run needs no OpenAI key.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
import redis
from agents import Agent, Runner

from redis_openai_agents import AgentSession, SessionNotFoundError

GUIDE_USER = "user_123"
FIRST_MESSAGE = "My name is Alice and I live in Seattle."
FOLLOW_UP = "What's my name and where do I live?"
GUIDE_TTL = 3600


def guide_agent() -> Agent:
    return Agent(
        name="assistant",
        instructions="You are a helpful assistant. Remember information the user tells you.",
    )


def as_json(items: list[Any]) -> str:
    return json.dumps(items, sort_keys=True)


def conversation_keys(r: redis.Redis, prefix: str, conversation_id: str) -> list[str]:
    """The metadata and message keys of one conversation (any user)."""
    keys = [
        *r.scan_iter(f"{prefix}:conv:*:{conversation_id}", count=1000),
        *r.scan_iter(f"{prefix}:msg:*:{conversation_id}:*", count=1000),
    ]
    return sorted(keys)


def assert_expires_within_guide_ttl(r: redis.Redis, keys: list[str]) -> None:
    assert keys
    for key in keys:
        remaining_ms = r.pttl(key)
        assert GUIDE_TTL * 1000 * 0.99 - 5_000 <= remaining_ms <= GUIDE_TTL * 1000, key


async def test_guide_walkthrough_inside_a_running_event_loop(
    redis_url: str, prefix: str, r: redis.Redis, offline_model: None
) -> None:
    asyncio.get_running_loop()  # the synchronous calls below run while this loop runs

    # Creating a Session
    session = AgentSession.create(user_id=GUIDE_USER, redis_url=redis_url, ttl=3600, prefix=prefix)
    assert session.user_id == GUIDE_USER
    assert isinstance(session.conversation_id, str) and session.conversation_id
    assert session.get_messages() == []

    # Storing Agent Results
    agent = guide_agent()
    result = await Runner.run(agent, input=FIRST_MESSAGE)
    assert "Alice" in result.final_output
    assert session.store_agent_result(result) == 2
    first_messages = session.get_messages()
    assert [(m["role"], m["content"]) for m in first_messages] == [
        ("user", FIRST_MESSAGE),
        ("assistant", result.final_output),
    ]

    # Loading a Session
    conversation_id = session.conversation_id
    loaded_session = AgentSession.load(
        conversation_id=conversation_id, user_id=GUIDE_USER, redis_url=redis_url, prefix=prefix
    )
    assert loaded_session.conversation_id == conversation_id
    assert len(loaded_session.get_messages()) == 2

    # Continuing a Conversation
    history = loaded_session.to_agent_inputs()
    assert as_json(history) == as_json(result.to_input_list())
    result = await Runner.run(agent, input=[*history, {"role": "user", "content": FOLLOW_UP}])
    assert "Alice" in result.final_output
    assert "Seattle" in result.final_output
    assert loaded_session.store_agent_result(result) == 2

    messages = loaded_session.get_messages()
    assert len(messages) == 4, "the history passed back in must not be stored a second time"
    assert [(m["role"], m["content"]) for m in messages] == [
        ("user", FIRST_MESSAGE),
        ("assistant", first_messages[1]["content"]),
        ("user", FOLLOW_UP),
        ("assistant", result.final_output),
    ]
    assert as_json(loaded_session.to_agent_inputs()) == as_json(result.to_input_list())
    assert loaded_session.message_count() == 4
    assert len(session.get_messages()) == 4, "both objects read the one conversation in Redis"

    # The guide's ttl covers every key the conversation has now, not only the first ones.
    assert_expires_within_guide_ttl(r, conversation_keys(r, prefix, conversation_id))

    # Listing User Sessions
    sessions = AgentSession.list_sessions(user_id=GUIDE_USER, redis_url=redis_url, prefix=prefix)
    assert [s.conversation_id for s in sessions] == [conversation_id]
    assert sessions[0].message_count == 4
    assert sessions[0].title == FIRST_MESSAGE
    assert sessions[0].last_agent == "assistant"
    line = f" - {sessions[0]}"
    assert conversation_id in line and FIRST_MESSAGE in line and "4 messages" in line

    # Use Prefixes for Multi-Tenancy: the same user id under two tenants stays apart.
    acme = AgentSession.create(user_id="tenant_acme:user_42", redis_url=redis_url, prefix=prefix)
    other = AgentSession.create(user_id="tenant_other:user_42", redis_url=redis_url, prefix=prefix)
    acme.store_exchange("Hello from acme", "Hi acme")
    assert [
        s.conversation_id
        for s in AgentSession.list_sessions(
            user_id="tenant_acme:user_42", redis_url=redis_url, prefix=prefix
        )
    ] == [acme.conversation_id]
    assert [
        s.conversation_id
        for s in AgentSession.list_sessions(
            user_id="tenant_other:user_42", redis_url=redis_url, prefix=prefix
        )
    ] == [other.conversation_id]
    assert other.get_messages() == []
    with pytest.raises(SessionNotFoundError):
        AgentSession.load(acme.conversation_id, "tenant_other:user_42", redis_url, prefix=prefix)

    # Clear Sensitive Data / Cleanup
    session.clear()
    loaded_session.clear()
    assert conversation_keys(r, prefix, conversation_id) == []
    assert AgentSession.list_sessions(user_id=GUIDE_USER, redis_url=redis_url, prefix=prefix) == []
    with pytest.raises(SessionNotFoundError):
        AgentSession.load(conversation_id, GUIDE_USER, redis_url, prefix=prefix)
    assert [m["content"] for m in acme.get_messages()] == ["Hello from acme", "Hi acme"]

    for s in (session, loaded_session, acme, other):
        s.close()


def test_guide_walkthrough_from_synchronous_code(
    redis_url: str, prefix: str, r: redis.Redis, offline_model: None
) -> None:
    with pytest.raises(RuntimeError):
        asyncio.get_running_loop()

    session = AgentSession.create(user_id=GUIDE_USER, redis_url=redis_url, ttl=3600, prefix=prefix)
    agent = guide_agent()
    result = Runner.run_sync(agent, input=FIRST_MESSAGE)
    assert session.store_agent_result(result) == 2

    loaded_session = AgentSession.load(
        conversation_id=session.conversation_id,
        user_id=GUIDE_USER,
        redis_url=redis_url,
        prefix=prefix,
    )
    history = loaded_session.to_agent_inputs()
    result = Runner.run_sync(agent, input=[*history, {"role": "user", "content": FOLLOW_UP}])
    assert "Alice" in result.final_output and "Seattle" in result.final_output
    assert loaded_session.store_agent_result(result) == 2
    assert len(loaded_session.get_messages()) == 4
    assert_expires_within_guide_ttl(r, conversation_keys(r, prefix, session.conversation_id))

    sessions = AgentSession.list_sessions(user_id=GUIDE_USER, redis_url=redis_url, prefix=prefix)
    assert [(s.conversation_id, s.message_count) for s in sessions] == [
        (session.conversation_id, 4)
    ]

    loaded_session.clear()
    assert conversation_keys(r, prefix, session.conversation_id) == []
    assert AgentSession.list_sessions(user_id=GUIDE_USER, redis_url=redis_url, prefix=prefix) == []
    session.close()
    loaded_session.close()


async def test_guide_prints_readable_lines(
    redis_url: str, prefix: str, offline_model: None, capsys: pytest.CaptureFixture[str]
) -> None:
    session = AgentSession.create(user_id=GUIDE_USER, redis_url=redis_url, ttl=3600, prefix=prefix)
    print(f"Session created: {session.conversation_id}")
    print(f"User ID: {session.user_id}")
    result = await Runner.run(guide_agent(), input=FIRST_MESSAGE)
    session.store_agent_result(result)
    print(f"Conversation stored with {len(session.get_messages())} messages")
    for s in AgentSession.list_sessions(user_id=GUIDE_USER, redis_url=redis_url, prefix=prefix):
        print(f" - {s}")

    lines = capsys.readouterr().out.splitlines()
    assert lines[:3] == [
        f"Session created: {session.conversation_id}",
        f"User ID: {GUIDE_USER}",
        "Conversation stored with 2 messages",
    ]
    assert lines[3].startswith(f" - {session.conversation_id}: '{FIRST_MESSAGE}', 2 messages")
    assert "agent assistant" in lines[3]
    assert "SessionInfo(" not in lines[3] and "datetime" not in lines[3]
    session.clear()
    session.close()


async def test_storing_the_same_result_twice_stores_it_once(
    redis_url: str, prefix: str, offline_model: None
) -> None:
    """Re-running the guide's "store" cell must not duplicate the conversation."""
    session = AgentSession.create(user_id=GUIDE_USER, redis_url=redis_url, prefix=prefix)
    result = await Runner.run(guide_agent(), input=FIRST_MESSAGE)
    assert session.store_agent_result(result) == 2
    assert session.store_agent_result(result) == 0
    assert len(session.get_messages()) == 2
    session.clear()
    session.close()
