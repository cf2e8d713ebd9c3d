"""Conversation tags and full-text search on a real Redis Cluster.

Tags live in each user's slot, so every tag script runs on one master, for users on each
of them. Search needs the search index on every master; the Query Engine of Redis Stack
has no cross-shard coordinator and accepts the index only on the master owning the slot of
its name, so on this cluster enabling search and searching raise a typed error that says
so, instead of returning results that could miss messages.
"""

from __future__ import annotations

import pytest
from conftest import users_on_every_master
from redis.cluster import RedisCluster

from redis_openai_agents import AgentSession, SearchNotEnabledError, erase_user
from redis_openai_agents.embedded.cluster import LocalCluster
from redis_openai_agents.keys import search_index_name, tag_index_key


def test_tags_and_listing_by_tag_for_users_on_every_master(
    cluster: LocalCluster, cprefix: str, rc: RedisCluster
) -> None:
    for user_id in users_on_every_master(cluster):
        sessions = [
            AgentSession.create(user_id, cluster.url, conversation_id=f"c{i}", prefix=cprefix)
            for i in range(3)
        ]
        for i, session in enumerate(sessions):
            session.store_exchange(f"question {i}", "answer")
            assert session.set_tags(["all", "even" if i % 2 == 0 else "odd"]) == [
                "all",
                "even" if i % 2 == 0 else "odd",
            ]
        meta_slot = cluster.keyslot(sessions[0]._keys.meta)
        assert cluster.keyslot(tag_index_key(cprefix, user_id, "even")) == meta_slot
        listed = AgentSession.list_sessions(user_id, cluster.url, prefix=cprefix, tags=["even"])
        assert [info.conversation_id for info in listed] == ["c2", "c0"]
        both = AgentSession.list_sessions(user_id, cluster.url, prefix=cprefix, tags=["all", "odd"])
        assert [(i.conversation_id, i.tags) for i in both] == [("c1", ("all", "odd"))]
        sessions[0].store_exchange("again", "again")
        listed = AgentSession.list_sessions(user_id, cluster.url, prefix=cprefix, tags=["all"])
        assert [info.conversation_id for info in listed] == ["c0", "c2", "c1"]
        sessions[1].clear()
        assert not rc.exists(tag_index_key(cprefix, user_id, "odd"))
        erased = erase_user(user_id, redis_url=cluster.url, prefix=cprefix)
        assert erased.conversations == 2
        assert not rc.exists(tag_index_key(cprefix, user_id, "all"))
        assert not rc.exists(tag_index_key(cprefix, user_id, "even"))
        for session in sessions:
            session.close()


def test_search_on_a_cluster_without_a_coordinator_says_why_it_cannot_run(
    cluster: LocalCluster, cprefix: str
) -> None:
    user_id = users_on_every_master(cluster)[0]
    session = AgentSession.create(user_id, cluster.url, prefix=cprefix)
    session.store_exchange("flights to Paris", "booked")
    with pytest.raises(SearchNotEnabledError) as enabling:
        AgentSession.enable_search(cluster.url, prefix=cprefix)
    assert "1 of 3 masters" in str(enabling.value)
    with pytest.raises(SearchNotEnabledError) as searching:
        AgentSession.search(user_id, "paris", cluster.url, prefix=cprefix)
    assert "1 of 3 masters" in str(searching.value)
    owners = [
        node
        for node in cluster.masters()
        if search_index_name(cprefix)
        in {
            n if isinstance(n, str) else n.decode() for n in node.client.execute_command("FT._LIST")
        }
    ]
    assert [node.port for node in owners] == [
        cluster.node_for_slot(cluster.keyslot(search_index_name(cprefix))).port
    ]
    assert AgentSession.disable_search(cluster.url, prefix=cprefix) is True
    with pytest.raises(SearchNotEnabledError) as after:
        AgentSession.search(user_id, "paris", cluster.url, prefix=cprefix)
    assert "enable_search" in str(after.value)
    session.clear()
    session.close()
