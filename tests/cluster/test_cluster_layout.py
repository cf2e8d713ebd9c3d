"""One user's keys share one slot, so every script runs on one master, atomically.

Each script declares its keys in KEYS (redis-py routes it by the first); the item hashes
`<message prefix><seq>` and the other conversations' metadata that scripts build from a
prefix cannot be declared, and are shown here to hash to the declared keys' slot. Redis
Cluster itself would stop a script that touched a key of another slot.
"""

from __future__ import annotations

import re
from importlib.resources import files

import pytest
from redis.cluster import RedisCluster

from redis_openai_agents import AgentSession, JSONSession
from redis_openai_agents.embedded.cluster import LocalCluster
from redis_openai_agents.keys import ConversationKeys, conversation_meta_prefix

AWKWARD_USERS = ["alice", "a{b}c", "x*y", "50%", "{", "}{", "ünï cödé"]


def keys_on_cluster(cluster: LocalCluster, prefix: str) -> list[str]:
    return [k for node in cluster.masters() for k in node.client.scan_iter(f"{prefix}:*")]


@pytest.mark.parametrize("user_id", AWKWARD_USERS)
def test_every_key_of_a_user_is_in_one_slot(
    cluster: LocalCluster, cprefix: str, user_id: str
) -> None:
    for n in range(3):
        session = AgentSession(
            f"conv-{n}*{{x}}", user_id=user_id, redis_url=cluster.url, prefix=cprefix, ttl=600
        )
        session.store_exchange("hello", "hi")
        session.add_message("user", "more")
        session.close()
    keys = [k for k in keys_on_cluster(cluster, cprefix) if ":json:" not in k]
    # Per conversation: meta, order, 3 items; the user's list and write records.
    assert len(keys) == 3 * 5 + 1 + 1
    slots = {cluster.keyslot(k) for k in keys}
    assert len(slots) == 1
    assert len({cluster.node_for_slot(s).node_id for s in slots}) == 1


def test_keys_built_inside_scripts_hash_to_the_declared_slot(cluster: LocalCluster) -> None:
    for user_id in AWKWARD_USERS:
        keys = ConversationKeys("roa", user_id, "c*1{")
        declared = {cluster.keyslot(k) for k in (keys.meta, keys.user_index, keys.order)}
        assert len(declared) == 1
        built = [keys.message(seq) for seq in (0, 7, 10**9)]
        built.append(conversation_meta_prefix("roa", user_id) + "another-conversation")
        assert {cluster.keyslot(k) for k in built} == declared


def test_every_script_names_its_keys_in_its_header() -> None:
    """Each script file says which KEYS it takes, and reaches keys only via KEYS or a
    prefix passed with them (never a key name of its own)."""
    for path in files("redis_openai_agents").joinpath("lua").iterdir():
        source = path.read_text(encoding="utf-8")
        if path.name == "ttl.lua":
            continue  # helpers, called by scripts with keys they declared
        assert re.search(r"^-- KEYS: ", source, re.MULTILINE), path.name
        for literal in re.findall(r"redis\.call\('\w+', '([^']*)'", source):
            assert literal in {"$", "$.items", "$.updated_at", "$.ttl_ms"}, (path.name, literal)


def test_json_session_documents_spread_over_masters(cluster: LocalCluster, cprefix: str) -> None:
    import asyncio

    async def write(i: int) -> None:
        async with JSONSession(f"s{i}", redis_url=cluster.url, prefix=cprefix) as session:
            await session.set("n", i)

    async def main() -> None:
        await asyncio.gather(*(write(i) for i in range(30)))

    asyncio.run(main())
    per_master = [
        sum(1 for _ in node.client.scan_iter(f"{cprefix}:json:*")) for node in cluster.masters()
    ]
    assert sum(per_master) == 30 and all(per_master), per_master
    client = RedisCluster.from_url(cluster.url, decode_responses=True)
    try:
        assert client.json().get(f"{cprefix}:json:{{s7}}", "$.data.n") == [7]
    finally:
        client.close()
