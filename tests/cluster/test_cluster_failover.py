"""Writers keep writing through a CLUSTER FAILOVER and a slot migration.

Each writer appends two-item batches and remembers what was acknowledged; afterwards
every conversation is read back: nothing acknowledged may be missing, nothing applied
twice, no batch torn. How long writes paused is reported by `python -m benchmarks.cluster`.
"""

from __future__ import annotations

import uuid

from benchmarks.cluster import WriteLoad, users_by_master, write_through
from redis_openai_agents.embedded.cluster import LocalCluster
from redis_openai_agents.keys import hash_tag


def assert_nothing_lost(load: WriteLoad) -> None:
    assert sum(load.acknowledged.values()) > 0
    assert load.lost == 0
    assert load.duplicated == 0
    assert load.torn_batches == 0
    # Every conversation kept being written to after the topology changed.
    for times in load.successes.values():
        assert any(t > load.event_ended for t in times)


async def test_writes_continue_through_a_failover(cluster: LocalCluster) -> None:
    grouped = users_by_master(cluster)
    users = [u for group in grouped.values() for u in group]
    victim = cluster.masters()[0]
    load = await write_through(
        cluster.url, users, lambda: cluster.failover(victim), prefix=f"f{uuid.uuid4().hex[:6]}"
    )
    assert_nothing_lost(load)
    assert victim.role() == "slave"


async def test_writes_continue_through_a_slot_migration(cluster: LocalCluster) -> None:
    user = users_by_master(cluster, per_master=1)[cluster.masters()[1].node_id][0]
    slot = cluster.keyslot(hash_tag(user))
    source = cluster.node_for_slot(slot)
    target = next(m for m in cluster.masters() if m is not source)
    load = await write_through(
        cluster.url,
        [user],
        lambda: cluster.migrate_slot(slot, target, batch=1),
        prefix=f"m{uuid.uuid4().hex[:6]}",
        per_user=8,
    )
    assert_nothing_lost(load)
    assert cluster.node_for_slot(slot) is target
