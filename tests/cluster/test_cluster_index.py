"""The message index on a cluster, and RedisVL MessageHistory reading one conversation.

Redis Stack's Query Engine has no cross-shard coordinator and treats an index name as a
key: each master gets an index of its own, named with a hash tag of a slot it serves
(`roa:messages{7}`), indexing only its own keys and keeping every returned field in the
index so that documents of all its slots come back whole. A conversation never spans
masters, so one master's index answers for it; listing conversations needs no index.

The index is opt-in: writes never create it. `AgentSession.enable_message_index` and
`session.message_history()` create it on every current master.
"""

from __future__ import annotations

import asyncio
import json

import pytest
import redis
from conftest import user_on, users_on_every_master
from redis.cluster import RedisCluster
from redis.crc import key_slot
from redisvl.extensions.message_history import MessageHistory

from redis_openai_agents import AgentSession
from redis_openai_agents.embedded.cluster import ClusterNode, LocalCluster
from redis_openai_agents.index import message_index_name_for
from redis_openai_agents.topology import connect


def indexes_on(node: ClusterNode, prefix: str) -> list[str]:
    names = node.client.execute_command("FT._LIST")  # type: ignore[no-untyped-call]
    return sorted(str(n) for n in names if str(n).startswith(f"{prefix}:"))


def indexed_masters(cluster: LocalCluster, prefix: str) -> dict[int, list[str]]:
    """The prefix's indexes of every master that has any, by port."""
    found = {node.port: indexes_on(node, prefix) for node in cluster.masters()}
    return {port: names for port, names in found.items() if names}


def index_name_for(cluster: LocalCluster, prefix: str, user_id: str) -> str:
    async def ask() -> str:
        client = connect(cluster.url, health_check_interval=0)
        try:
            return await message_index_name_for(client, prefix, user_id)
        finally:
            await client.aclose()

    return asyncio.run(ask())


def test_every_master_indexes_its_own_shard_under_a_name_it_serves(
    cluster: LocalCluster, cprefix: str
) -> None:
    users = users_on_every_master(cluster)
    for i, user_id in enumerate(users):
        session = AgentSession.create(user_id=user_id, redis_url=cluster.url, prefix=cprefix)
        for _ in range(i + 1):
            session.store_exchange("q", "a")
        session.close()
    assert indexed_masters(cluster, cprefix) == {}, "writes alone create no index"
    assert AgentSession.enable_message_index(cluster.url, prefix=cprefix) == 2 * (1 + 2 + 3)
    for i, user_id in enumerate(users):
        home = cluster.node_for_slot(cluster.keyslot(f"{{{user_id}}}"))
        name = index_name_for(cluster, cprefix, user_id)
        assert indexes_on(home, cprefix) == [name]
        assert name.startswith(f"{cprefix}:messages{{")
        assert cluster.node_for_slot(key_slot(name.encode())) is home
        info = home.client.ft(name).info()
        assert int(info["num_docs"]) == 2 * (i + 1)


@pytest.mark.parametrize("through", ["cluster client", "node client"])
def test_message_history_reads_a_conversation_on_every_master(
    cluster: LocalCluster, cprefix: str, through: str
) -> None:
    """Whatever slot a conversation hashes to, MessageHistory gets every field back,
    in order, and only that conversation's messages."""
    users = users_on_every_master(cluster)
    assert AgentSession.enable_message_index(cluster.url, prefix=cprefix) == 0
    assert len(indexed_masters(cluster, cprefix)) == len(users)
    for user_id in users:
        session = AgentSession.create(user_id=user_id, redis_url=cluster.url, prefix=cprefix)
        session.store_exchange("Hi! I'm Alice.", "Hello, Alice.")
        session.add_message("user", "Bye.")
        other = AgentSession.create(user_id=user_id, redis_url=cluster.url, prefix=cprefix)
        other.store_exchange("not", "this one")
        home = cluster.node_for_slot(cluster.keyslot(f"{{{user_id}}}"))
        client: redis.Redis | RedisCluster = (
            RedisCluster.from_url(cluster.nodes[-1].url)
            if through == "cluster client"
            else redis.Redis.from_url(home.url)
        )
        try:
            history = MessageHistory(
                name=index_name_for(cluster, cprefix, user_id),
                prefix=f"{cprefix}:msg",
                session_tag=session.conversation_id,
                redis_client=client,  # type: ignore[arg-type]
                create_index=False,
            )
            assert history.get_recent(top_k=10, as_text=True) == [
                "Hi! I'm Alice.",
                "Hello, Alice.",
                "Bye.",
            ]
            recent = history.get_recent(top_k=1, raw=True)
            assert len(recent) == 1 and recent[0]["content"] == "Bye."
            assert recent[0]["entry_id"] and recent[0]["session_tag"] == session.conversation_id
            assert json.loads(recent[0]["metadata"])["content"] == "Bye."
        finally:
            client.close()
            session.close()
            other.close()


def test_list_sessions_needs_no_index(cluster: LocalCluster, cprefix: str) -> None:
    for i in range(3):
        user_id = user_on(cluster, i)
        session = AgentSession.create(user_id=user_id, redis_url=cluster.url, prefix=cprefix)
        session.store_exchange("hello", "hi")
        assert indexed_masters(cluster, cprefix) == {}
        infos = AgentSession.list_sessions(user_id, redis_url=cluster.url, prefix=cprefix)
        assert [x.message_count for x in infos] == [2]
        session.close()


def test_an_index_from_earlier_versions_is_replaced_by_each_masters_own(
    cluster: LocalCluster, cprefix: str
) -> None:
    """Earlier versions created one `roa:messages` on the master serving that name's slot,
    which returned fields only for documents in that one slot."""
    old_name = f"{cprefix}:messages"
    owner = cluster.node_for_slot(key_slot(old_name.encode()))
    owner.client.execute_command(
        "FT.CREATE", old_name, "ON", "HASH", "PREFIX", "1", f"{cprefix}:msg:",
        "SCHEMA", "role", "TAG",
    )  # fmt: skip
    masters = sorted(cluster.masters(), key=lambda n: n.port)
    user_id = user_on(cluster, masters.index(owner))
    session = AgentSession.create(user_id=user_id, redis_url=cluster.url, prefix=cprefix)
    session.store_exchange("q", "a")
    assert indexed_masters(cluster, cprefix) == {owner.port: [old_name]}, "writes change none"
    assert AgentSession.enable_message_index(cluster.url, prefix=cprefix) == 2
    assert old_name not in indexes_on(owner, cprefix)
    assert indexes_on(owner, cprefix) == [index_name_for(cluster, cprefix, user_id)]
    assert len(indexed_masters(cluster, cprefix)) == len(masters)
    assert session.message_count() == 2
    session.close()


def test_a_master_added_later_gets_its_own_index_from_message_history(
    cluster: LocalCluster, cprefix: str
) -> None:
    """A new master holds keys once it serves slots. Writes to it create no index;
    `message_history()` creates its index, which indexes the keys that moved to it."""
    user_id = user_on(cluster, 0)
    session = AgentSession.create(user_id=user_id, redis_url=cluster.url, prefix=cprefix)
    session.store_exchange("before", "the move")
    assert AgentSession.enable_message_index(cluster.url, prefix=cprefix) == 2
    slot = cluster.keyslot(f"{{{user_id}}}")
    old_home = cluster.node_for_slot(slot)
    added = cluster.add_node()
    reader = redis.Redis.from_url(added.url)
    try:
        assert cluster.migrate_slot(slot, added) > 0
        session.store_exchange("after", "the move")
        assert session.message_count() == 4
        assert indexes_on(added, cprefix) == [], "writes alone create no index"
        with session.message_history() as history:
            name = index_name_for(cluster, cprefix, user_id)
            assert indexes_on(added, cprefix) == [name]
            assert cluster.node_for_slot(key_slot(name.encode())) is added
            assert history.get_recent(top_k=10, as_text=True) == [
                "before",
                "the move",
                "after",
                "the move",
            ]
        mine = MessageHistory(
            name=name,
            prefix=f"{cprefix}:msg",
            session_tag=session.conversation_id,
            redis_client=reader,
            create_index=False,
        )
        assert mine.count() == 4
        assert mine.get_recent(top_k=10, as_text=True) == [
            "before",
            "the move",
            "after",
            "the move",
        ]
        assert len(indexed_masters(cluster, cprefix)) == len(cluster.masters())
    finally:
        reader.close()
        cluster.migrate_slot(slot, old_home)
        session.close()
        cluster.remove_node(added)


def test_a_master_keeps_one_index_when_a_lower_tag_lands_on_it(
    cluster: LocalCluster, cprefix: str
) -> None:
    """After slots move, a master may serve a lower hash tag than the one its index was
    named by; enabling again creates the new name and drops the old one (index only)."""
    user_id = user_on(cluster, 1)
    session = AgentSession.create(user_id=user_id, redis_url=cluster.url, prefix=cprefix)
    session.store_exchange("q", "a")
    assert AgentSession.enable_message_index(cluster.url, prefix=cprefix) == 2
    home = cluster.node_for_slot(cluster.keyslot(f"{{{user_id}}}"))
    current = index_name_for(cluster, cprefix, user_id)
    tag = int(current.rsplit("{", 1)[1].rstrip("}"))
    later = next(
        n for n in range(tag + 1, 10_000)
        if cluster.node_for_slot(key_slot(str(n).encode())) is home
    )  # fmt: skip
    stale = f"{cprefix}:messages{{{later}}}"
    home.client.execute_command(
        "FT.CREATE", stale, "ON", "HASH", "PREFIX", "1", f"{cprefix}:msg:", "SCHEMA", "role", "TAG"
    )  # fmt: skip
    session.store_exchange("q", "a")
    assert indexes_on(home, cprefix) == sorted([current, stale]), "writes drop no index"
    assert AgentSession.enable_message_index(cluster.url, prefix=cprefix) == 4
    assert indexes_on(home, cprefix) == [current]
    assert session.message_count() == 4
    assert int(home.client.ft(current).info()["num_docs"]) == 4
    session.close()


async def test_disabling_drops_every_masters_index_and_keeps_the_messages(
    cluster: LocalCluster, cprefix: str
) -> None:
    users = users_on_every_master(cluster)
    sessions = [AgentSession("c", user_id=u, redis_url=cluster.url, prefix=cprefix) for u in users]
    for session in sessions:
        await session.add_items([{"role": "user", "content": "kept"}])
    assert await AgentSession.aenable_message_index(cluster.url, prefix=cprefix) == len(users)
    assert len(indexed_masters(cluster, cprefix)) == len(users)
    # Idempotent: one index per master still, holding every message.
    assert await AgentSession.aenable_message_index(cluster.url, prefix=cprefix) == len(users)
    assert all(len(names) == 1 for names in indexed_masters(cluster, cprefix).values())

    assert await AgentSession.adisable_message_index(cluster.url, prefix=cprefix) is True
    assert indexed_masters(cluster, cprefix) == {}
    for session in sessions:
        await session.add_items([{"role": "user", "content": "after"}])
        assert [m["content"] for m in await session.aget_messages()] == ["kept", "after"]
    assert indexed_masters(cluster, cprefix) == {}, "writes alone create no index"
    assert AgentSession.disable_message_index(cluster.url, prefix=cprefix) is False

    assert AgentSession.enable_message_index(cluster.url, prefix=cprefix) == 2 * len(users)
    assert len(indexed_masters(cluster, cprefix)) == len(users)
    for session in sessions:
        await session.aclose()
