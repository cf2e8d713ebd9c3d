"""wait_replicas on a cluster: the WAIT goes to the master of the conversation's slot."""

from __future__ import annotations

import uuid

from redis_openai_agents import AgentSession, JSONSession
from redis_openai_agents.embedded.cluster import LocalCluster


async def test_wait_replicas_on_a_cluster(cluster: LocalCluster) -> None:
    user = f"u-{uuid.uuid4().hex[:8]}"
    session = AgentSession(
        "c", user_id=user, redis_url=cluster.url, wait_replicas=1, wait_timeout=2.0
    )
    await session.add_items([{"role": "user", "content": "hi"}])
    assert await session.get_items() == [{"role": "user", "content": "hi"}]
    await session.aclose()
    document = JSONSession(f"j-{user}", redis_url=cluster.url, wait_replicas=1, wait_timeout=2.0)
    await document.set("k", {"v": 1})
    assert await document.get("k") == {"v": 1}
    await document.aclose()
