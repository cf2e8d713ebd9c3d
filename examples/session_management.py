"""The session management guide as one plain program: `python examples/session_management.py`.

Jupyter runs a top-level `await` directly; a script can't (`SyntaxError: 'await' outside
function`), so the guide's code sits here, line for line, in `async def` functions that
`asyncio.run` runs. The synchronous calls (`create`, `store_agent_result`, `load`, ...) work
inside that running event loop just as they do in a notebook.

Redis is `$REDIS_URL`, default `redis://localhost:6379` (`docker compose up -d` or `make redis`
in the repository start one). Without a real `OPENAI_API_KEY`, the agents answer with the
library's offline model; with one, they use OpenAI's.
"""

# ruff: noqa: RUF005, I001 (the guide's own lines: `history + [...]`, one import per class)

import asyncio
import os

from agents import Agent, Runner

from redis_openai_agents import AgentSession
from redis_openai_agents import JSONSession
from redis_openai_agents.offline import use_offline_model_if_no_api_key

# Prerequisites
os.environ.setdefault("OPENAI_API_KEY", "your-api-key-here")
use_offline_model_if_no_api_key()  # not in the guide: the offline model when there is no key
REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379")


async def agent_session_part() -> tuple[AgentSession, AgentSession]:
    """The guide's AgentSession part: create, store, load, continue, list."""
    # Create a new session
    session = AgentSession.create(
        user_id="user_123",
        redis_url=REDIS_URL,
        ttl=3600 # Optional: 1 hour TTL
    )

    print(f"Session created: {session.conversation_id}")
    print(f"User ID: {session.user_id}")

    # Define an agent
    agent = Agent(
        name="assistant",
        instructions="You are a helpful assistant. Remember information the user tells you."
    )

    # Run the agent
    result = await Runner.run(agent, input="My name is Alice and I live in Seattle.")
    print(f"Agent response: {result.final_output}")

    # Store the conversation
    session.store_agent_result(result)
    print(f"Conversation stored with {len(session.get_messages())} messages")

    # Save the conversation ID for later
    conversation_id = session.conversation_id

    # Later: Load the session
    loaded_session = AgentSession.load(
        conversation_id=conversation_id,
        user_id="user_123",
        redis_url=REDIS_URL
    )

    print(f"Loaded session: {loaded_session.conversation_id}")
    print(f"Messages: {len(loaded_session.get_messages())}")

    # Get conversation history in SDK format
    history = loaded_session.to_agent_inputs()

    # Continue the conversation
    result = await Runner.run(
        agent,
        input=history + [{"role": "user", "content": "What's my name and where do I live?"}]
    )

    print(f"Agent response: {result.final_output}")

    # Store the new exchange
    loaded_session.store_agent_result(result)

    # List all sessions for a user
    sessions = AgentSession.list_sessions(
        user_id="user_123",
        redis_url=REDIS_URL
    )

    print(f"Found {len(sessions)} sessions for user_123")
    for s in sessions:
        print(f" - {s}")
    return session, loaded_session


async def json_session_part() -> JSONSession:
    """The guide's JSONSession part: nested data in one JSON document."""
    # Create a JSON session
    json_session = JSONSession(
        session_id="complex-session-1",
        redis_url=REDIS_URL,
        ttl=3600
    )

    # Store complex nested data
    await json_session.set("user_preferences", {
        "theme": "dark",
        "language": "en",
        "notifications": {
            "email": True,
            "push": False
        }
    })

    # Store conversation with metadata
    await json_session.set("conversation", {
        "messages": [
            {"role": "user", "content": "Hello"},
            {"role": "assistant", "content": "Hi there!"}
        ],
        "metadata": {
            "agent": "support",
            "started_at": "2025-01-29T10:00:00Z"
        }
    })

    # Retrieve data
    preferences = await json_session.get("user_preferences")
    print(f"Theme: {preferences['theme']}")
    print(f"Email notifications: {preferences['notifications']['email']}")

    # Get all session data
    all_data = await json_session.get_all()
    print(f"\nAll session keys: {list(all_data.keys())}")
    return json_session


async def best_practices_part(tenant_id: str, user_id: str) -> None:
    """The guide's Best Practices; each session it opens is cleared before it returns."""
    # 1. Use TTL for Automatic Cleanup
    session = AgentSession.create(
        user_id="user_123",
        redis_url=REDIS_URL,
        ttl=86400 # 24 hours
    )
    day_session = session  # the guide reuses the name `session` below

    # 3. Use Prefixes for Multi-Tenancy
    # Each tenant gets isolated sessions
    session = AgentSession.create(
        user_id=f"tenant_{tenant_id}:user_{user_id}",
        redis_url=REDIS_URL
    )
    print(f"Tenant session for {session.user_id}: {session.conversation_id}")

    # 4. Clear Sensitive Data
    # Clear session when no longer needed
    session.clear()
    day_session.clear()


async def main() -> None:
    session, loaded_session = await agent_session_part()
    json_session = await json_session_part()
    await best_practices_part(tenant_id="acme", user_id="42")

    # Clean up test sessions
    session.clear()
    loaded_session.clear()
    await json_session.clear()
    print("Sessions cleaned up!")


if __name__ == "__main__":
    asyncio.run(main())
