"""The SDK's compaction hook and RedisVL writes on a Redis Cluster, for users on every master.

Each script declares every key it touches, all in the user's slot, so the snapshot and the
suffix replacement run on the master of that slot, wherever the client connected.
"""

from __future__ import annotations

import pytest
from conftest import users_on_every_master

from redis_openai_agents import AgentSession, JSONSession
from redis_openai_agents.embedded.cluster import LocalCluster

SUMMARY = {"type": "compaction", "id": "cmp_1", "encrypted_content": "synthetic-summary"}


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


@pytest.mark.parametrize("kind", [AgentSession, JSONSession])
async def test_a_suffix_is_replaced_on_every_master(
    kind: type, cluster: LocalCluster, cprefix: str
) -> None:
    for user_id in users_on_every_master(cluster):
        url = cluster.nodes[-1].url
        if kind is AgentSession:
            store = AgentSession("c", user_id=user_id, redis_url=url, prefix=cprefix, ttl=600)
            other = AgentSession("c", user_id=user_id, redis_url=url, prefix=cprefix)
        else:
            store = JSONSession("c", url, 600, user_id=user_id, prefix=cprefix)
            other = JSONSession("c", url, user_id=user_id, prefix=cprefix)
        items = [user(str(i)) for i in range(6)]
        await store.add_items(items)
        stale = await store._get_compaction_snapshot(3)
        await other.add_items([user("meanwhile")])
        assert await stale.replace_suffix(0, [SUMMARY]) is False
        snapshot = await store._get_compaction_snapshot(3)
        assert snapshot.items == [*items[4:], user("meanwhile")]
        assert await snapshot.replace_suffix(1, [SUMMARY]) is True
        assert await store.get_items() == [*items[:5], SUMMARY]
        await other.aclose()
        await store.aclose()


def test_message_history_reads_and_writes_on_every_master(
    cluster: LocalCluster, cprefix: str
) -> None:
    for user_id in users_on_every_master(cluster):
        session = AgentSession("c", user_id=user_id, redis_url=cluster.url, prefix=cprefix)
        session.store_exchange("q", "a")
        with session.message_history() as history:
            history.store("q2", "a2")
            assert history.get_recent(top_k=10, as_text=True) == ["q", "a", "q2", "a2"]
            history.drop()
            assert session.message_count() == 3
            assert history.get_recent(top_k=10, as_text=True) == ["q", "a", "q2"]
            history.clear()
        assert session.message_count() == 0
        session.close()
