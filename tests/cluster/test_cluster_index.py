"""The message index on a cluster, and RedisVL MessageHistory reading one conversation.

Redis Stack's Query Engine has no cross-shard coordinator and treats an index name as a
key: `FT.CREATE` is accepted only by the master owning the slot of the name, that master
indexes only its own keys, and it returns the fields only of documents in the name's
slot. The library asks every master (the master set read afresh at each check) and keeps
what each answers; listing conversations needs no index.
"""

from __future__ import annotations

import redis
from conftest import user_on
from redisvl.extensions.message_history import MessageHistory

from redis_openai_agents import AgentSession
from redis_openai_agents.embedded.cluster import LocalCluster
from redis_openai_agents.index import forget_message_indexes


def index_home(cluster: LocalCluster, prefix: str) -> int:
    """Which master (in port order) owns the slot of the index name."""
    masters = sorted(cluster.masters(), key=lambda n: n.port)
    owner = cluster.node_for_slot(cluster.keyslot(f"{prefix}:messages"))
    return masters.index(owner)


def test_the_index_lives_where_its_name_hashes_and_counts_that_shard(
    cluster: LocalCluster, cprefix: str
) -> None:
    home = index_home(cluster, cprefix)
    sessions = [
        AgentSession.create(user_id=user_on(cluster, i), redis_url=cluster.url, prefix=cprefix)
        for i in range(3)
    ]
    for i, session in enumerate(sessions):
        for _ in range(i + 1):
            session.store_exchange("q", "a")
    masters = sorted(cluster.masters(), key=lambda n: n.port)
    for i, node in enumerate(masters):
        if i == home:
            info = node.client.ft(f"{cprefix}:messages").info()
            assert int(info["num_docs"]) == 2 * (i + 1)
        else:
            try:
                node.client.execute_command("FT.INFO", f"{cprefix}:messages")
            except redis.ResponseError as exc:
                assert str(exc).startswith("MOVED") or isinstance(exc, redis.exceptions.MovedError)
            else:
                raise AssertionError("a master that does not own the name answered FT.INFO")
    for session in sessions:
        session.close()


def test_the_index_finds_a_conversation_on_its_shard_in_order(
    cluster: LocalCluster, cprefix: str
) -> None:
    """Queries on the index's master find one conversation by `session_tag`, newest first.

    Without a coordinator the Query Engine loads fields only of documents in the slot of
    the index name; for the others it returns ids and sortable fields, so RedisVL
    `MessageHistory` sees messages without content. Sessions read conversations by their
    own keys and never through the index.
    """
    home = index_home(cluster, cprefix)
    user_id = user_on(cluster, home)
    assert cluster.keyslot(f"{{{user_id}}}") != cluster.keyslot(f"{cprefix}:messages")
    session = AgentSession.create(user_id=user_id, redis_url=cluster.url, prefix=cprefix)
    session.store_exchange("Hi! I'm Alice.", "Hello, Alice.")
    session.add_message("user", "Bye.")
    masters = sorted(cluster.masters(), key=lambda n: n.port)
    found = masters[home].client.execute_command(
        "FT.SEARCH", f"{cprefix}:messages", f"@session_tag:{{{session.conversation_id}}}",
        "SORTBY", "timestamp", "DESC", "RETURN", "1", "timestamp",
    )  # fmt: skip
    results = found["results"] if isinstance(found, dict) else None
    assert results is not None
    assert [r["id"].rsplit(":", 1)[1] for r in results] == ["2", "1", "0"]
    history = MessageHistory(
        name=f"{cprefix}:messages",
        session_tag=session.conversation_id,
        redis_client=redis.Redis.from_url(masters[home].url),
        create_index=False,
    )
    assert history.get_recent(top_k=10, as_text=True) == []
    session.close()


def test_list_sessions_needs_no_index(cluster: LocalCluster, cprefix: str) -> None:
    for i in range(3):
        user_id = user_on(cluster, i)
        session = AgentSession.create(user_id=user_id, redis_url=cluster.url, prefix=cprefix)
        session.store_exchange("hello", "hi")
        home = cluster.node_for_slot(cluster.keyslot(f"{cprefix}:messages"))
        home.client.execute_command("FT.DROPINDEX", f"{cprefix}:messages")
        infos = AgentSession.list_sessions(user_id, redis_url=cluster.url, prefix=cprefix)
        assert [x.message_count for x in infos] == [2]
        forget_message_indexes()
        session.close()


def test_a_master_added_later_is_asked_at_the_next_check(
    cluster: LocalCluster, cprefix: str
) -> None:
    """A new master holds keys once it serves slots; the next check (once a minute, here
    forced) asks it too."""
    user_id = user_on(cluster, 0)
    session = AgentSession.create(user_id=user_id, redis_url=cluster.url, prefix=cprefix)
    slot = cluster.keyslot(f"{{{user_id}}}")
    old_home = cluster.node_for_slot(slot)
    added = cluster.add_node()
    try:
        cluster.migrate_slot(slot, added)
        forget_message_indexes()
        session.store_exchange("q", "a")
        assert session.message_count() == 2
        stats = added.client.info("commandstats")
        asked = sum(
            int(v.get("calls", 0)) + int(v.get("rejected_calls", 0))
            for k, v in stats.items()
            if k.lower().startswith("cmdstat_ft.")
        )
        assert asked >= 1, sorted(stats)
    finally:
        cluster.migrate_slot(slot, old_home)
        session.close()
        cluster.remove_node(added)


def test_message_history_reads_a_conversation_in_the_slot_of_the_index_name(
    cluster: LocalCluster, cprefix: str
) -> None:
    """Where the Query Engine does load fields (documents in the index name's slot),
    RedisVL `MessageHistory` reads what AgentSession wrote, through a cluster client and
    through a client of that one node."""
    from redis.cluster import RedisCluster
    from redis.crc import key_slot

    name_slot = key_slot(f"{cprefix}:messages".encode())
    user_id = next(f"u{i}" for i in range(10**6) if key_slot(f"u{i}".encode()) == name_slot)
    session = AgentSession.create(user_id=user_id, redis_url=cluster.url, prefix=cprefix)
    session.store_exchange("Hi! I'm Alice.", "Hello, Alice.")
    owner = cluster.node_for_slot(name_slot)
    clients = [redis.Redis.from_url(owner.url), RedisCluster.from_url(cluster.url)]
    try:
        for client in clients:
            history = MessageHistory(
                name=f"{cprefix}:messages",
                session_tag=session.conversation_id,
                redis_client=client,  # type: ignore[arg-type]
                create_index=False,
            )
            assert history.get_recent(top_k=10, as_text=True) == ["Hi! I'm Alice.", "Hello, Alice."]
    finally:
        for client in clients:
            client.close()
        session.close()
