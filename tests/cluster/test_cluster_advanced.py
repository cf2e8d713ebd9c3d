"""Turns, usage and branches on a real Redis Cluster, compared with AdvancedSQLiteSession.

The scenario of `tests/test_advanced.py` runs for a user on each master; every key it
writes, branches included, lands in that user's slot.
"""

from __future__ import annotations

import sys
from pathlib import Path

from conftest import users_on_every_master
from redis.cluster import RedisCluster

from redis_openai_agents import AgentSession
from redis_openai_agents.embedded.cluster import LocalCluster
from redis_openai_agents.keys import ConversationKeys

sys.path.insert(0, str(Path(__file__).parents[1]))

from advanced_scenario import check_substance, run_scenario
from agents.extensions.memory import AdvancedSQLiteSession


async def test_the_scenario_on_a_cluster_reports_what_the_sdk_reports(
    cluster: LocalCluster, cluster_url: str, cprefix: str, rc: RedisCluster
) -> None:
    expected = await run_scenario(AdvancedSQLiteSession(session_id="s", create_tables=True))
    check_substance(expected)
    for user_id in users_on_every_master(cluster):
        session = AgentSession("s", user_id=user_id, redis_url=cluster_url, prefix=cprefix)
        seen = await run_scenario(session)
        for name, value in expected.items():
            assert seen[name] == value, (user_id, name)
        await session.create_branch_from_turn(1, "kept")
        await session.add_items([{"role": "user", "content": "on a kept branch"}])
        keys = [
            key
            for node in cluster.masters()
            for key in node.client.scan_iter(f"{cprefix}:*", count=1000)
            if f"{{{user_id}}}".encode() in (key if isinstance(key, bytes) else key.encode())
        ]
        assert any(b":branch:" in (k if isinstance(k, bytes) else k.encode()) for k in keys)
        assert len({rc.keyslot(k) for k in keys}) == 1
        await session.aclear()
        left = [
            key
            for node in cluster.masters()
            for key in node.client.scan_iter(f"{cprefix}:*{user_id}*", count=1000)
        ]
        assert [
            k for k in left if b":writes:" not in (k if isinstance(k, bytes) else k.encode())
        ] == []
        await session.aclose()


def test_branch_keys_share_the_users_slot(cluster: LocalCluster) -> None:
    for user_id in ("plain", "{braces}", "half{open", "star*", "100%"):
        keys = ConversationKeys("roa", user_id, "c*1{")
        names = [keys.meta, keys.branches, keys.branch_order("b{x}"), keys.branch_order("main")]
        assert len({cluster.keyslot(k) for k in names}) == 1
