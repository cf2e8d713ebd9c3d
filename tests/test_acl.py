"""A least-privilege ACL user: sessions work without SORT_RO's read-everything permission."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from redis_openai_agents import AgentSession

RESTRICTED_COMMANDS = [
    *("-@all", "+@connection", "+@read", "+@write", "+@scripting", "-@dangerous"),
    *("+time", "+ft.create", "+ft.info", "+ft._list", "+ft.search"),
]


@pytest.fixture
def restricted_url(redis_url: str, r: redis.Redis, prefix: str) -> Iterator[str]:
    """A user limited to `prefix`'s keys, with no `sort_ro` and no read access elsewhere."""
    name = f"agents-{uuid.uuid4().hex[:8]}"
    r.acl_setuser(
        name,
        enabled=True,
        passwords=["+pw"],
        keys=[f"{prefix}:*"],
        commands=RESTRICTED_COMMANDS,
        reset_channels=True,
    )
    host, port = (
        r.connection_pool.connection_kwargs["host"],
        r.connection_pool.connection_kwargs["port"],
    )
    yield f"redis://{name}:pw@{host}:{port}/0"
    r.acl_deluser(name)


async def test_whole_reads_fall_back_to_a_script_when_sort_patterns_are_refused(
    restricted_url: str, redis_url: str, prefix: str
) -> None:
    items = [{"role": "user", "content": f"message {i}"} for i in range(5)]
    session = AgentSession("c", user_id="alice", redis_url=restricted_url, prefix=prefix)
    await session.add_items(items)

    assert await session.get_items() == items
    assert not session._connection.sort_patterns_allowed
    assert await session.get_items() == items
    assert [m["content"] for m in await session.aget_messages()] == [i["content"] for i in items]
    assert await session.get_items(limit=2) == items[-2:]

    admin = AgentSession("c", user_id="alice", redis_url=redis_url, prefix=prefix)
    assert await admin.get_items() == items
    assert admin._connection.sort_patterns_allowed
    await session.aclear()
    await session.aclose()
    await admin.aclose()
