"""The session management guide's code, as the guide writes it, with REDIS_URL set to one
node of a cluster (a replica: any node will do)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from agents import Agent, Runner

from redis_openai_agents import AgentSession, JSONSession
from redis_openai_agents.embedded.cluster import LocalCluster


@pytest.fixture
def guide_env(cluster: LocalCluster, offline_model: None) -> Iterator[str]:
    replica = next(n for n in cluster.nodes if n.role() == "slave")
    previous = os.environ.get("REDIS_URL")
    os.environ["REDIS_URL"] = replica.url
    yield replica.url
    if previous is None:
        os.environ.pop("REDIS_URL", None)
    else:
        os.environ["REDIS_URL"] = previous
    for node in cluster.masters():
        patterns = ("roa:*user_123*", "roa:*tenant_acme*", "roa:json:{complex-session-1}")
        for key in [k for p in patterns for k in node.client.scan_iter(p)]:
            node.client.delete(key)


async def test_the_guide_runs_on_a_cluster(
    guide_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    os.environ.setdefault("OPENAI_API_KEY", "your-api-key-here")
    REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379")

    session = AgentSession.create(
        user_id="user_123",
        redis_url=REDIS_URL,
        ttl=3600,  # Optional: 1 hour TTL
    )
    print(f"Session created: {session.conversation_id}")
    print(f"User ID: {session.user_id}")

    agent = Agent(
        name="assistant",
        instructions="You are a helpful assistant. Remember information the user tells you.",
    )
    result = await Runner.run(agent, input="My name is Alice and I live in Seattle.")
    print(f"Agent response: {result.final_output}")
    session.store_agent_result(result)
    print(f"Conversation stored with {len(session.get_messages())} messages")

    conversation_id = session.conversation_id
    loaded_session = AgentSession.load(
        conversation_id=conversation_id, user_id="user_123", redis_url=REDIS_URL
    )
    print(f"Loaded session: {loaded_session.conversation_id}")
    print(f"Messages: {len(loaded_session.get_messages())}")

    history = loaded_session.to_agent_inputs()
    result = await Runner.run(
        agent,
        input=history + [{"role": "user", "content": "What's my name and where do I live?"}],  # noqa: RUF005
    )
    print(f"Agent response: {result.final_output}")
    loaded_session.store_agent_result(result)

    sessions = AgentSession.list_sessions(user_id="user_123", redis_url=REDIS_URL)
    print(f"Found {len(sessions)} sessions for user_123")
    for s in sessions:
        print(f" - {s}")

    json_session = JSONSession(session_id="complex-session-1", redis_url=REDIS_URL, ttl=3600)
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
    print(f"Theme: {preferences['theme']}")
    print(f"Email notifications: {preferences['notifications']['email']}")
    all_data = await json_session.get_all()
    print(f"\nAll session keys: {list(all_data.keys())}")

    session = AgentSession.create(user_id="user_123", redis_url=REDIS_URL, ttl=86400)
    tenant_id, user_id = "acme", "42"
    session = AgentSession.create(user_id=f"tenant_{tenant_id}:user_{user_id}", redis_url=REDIS_URL)

    out = capsys.readouterr().out
    assert "Conversation stored with 2 messages" in out
    assert "Messages: 2" in out
    answer = [line for line in out.splitlines() if line.startswith("Agent response:")][-1]
    assert "Alice" in answer and "Seattle" in answer, answer
    assert "Found 1 sessions for user_123" in out
    assert "Theme: dark" in out and "Email notifications: True" in out
    assert "All session keys: ['user_preferences', 'conversation']" in out
    assert len(AgentSession.list_sessions(user_id="user_123", redis_url=REDIS_URL)) == 2
    assert len(loaded_session.get_messages()) == 4
