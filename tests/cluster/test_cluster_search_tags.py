"""Conversation tags and full-text search on a real Redis Cluster.

Tags live in each user's slot, so every tag script runs on one master, for users on each
of them. The Query Engine of Redis Stack has no cross-shard coordinator: each master gets a
search index of its own, and a search asks every master.
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


def test_search_finds_each_users_messages_on_every_master(
    cluster: LocalCluster, cprefix: str
) -> None:
    """Each master has a search index of its own, named by a slot it serves; a search asks
    every master, and reads the page's fields from the user's slot where the Query Engine
    returns only the ids (documents outside the slot of the index name)."""
    users = users_on_every_master(cluster)
    for n, user_id in enumerate(users):
        session = AgentSession.create(user_id, cluster.url, conversation_id="trip", prefix=cprefix)
        session.store_exchange(f"flights to Paris number {n}", "booked")
        session.close()
    assert AgentSession.enable_search(cluster.url, prefix=cprefix) == 2 * len(users)
    names = {
        node.port: {
            n if isinstance(n, str) else n.decode() for n in node.client.execute_command("FT._LIST")
        }
        for node in cluster.masters()
    }
    for node in cluster.masters():
        (own,) = [n for n in names[node.port] if n.startswith(search_index_name(cprefix))]
        assert cluster.node_for_slot(cluster.keyslot(own)) is node
    for n, user_id in enumerate(users):
        (hit,) = AgentSession.search(user_id, "paris", cluster.url, prefix=cprefix)
        assert (hit.conversation_id, hit.role, hit.content) == (
            "trip",
            "user",
            f"flights to Paris number {n}",
        )
        assert hit.item == {"role": "user", "content": f"flights to Paris number {n}"}
        newest = AgentSession.search(
            user_id, "booked paris", cluster.url, prefix=cprefix, match="any", order="newest"
        )
        assert [h.content for h in newest] == ["booked", f"flights to Paris number {n}"]
    assert AgentSession.search("nobody", "paris", cluster.url, prefix=cprefix) == []
    assert AgentSession.disable_search(cluster.url, prefix=cprefix) is True
    with pytest.raises(SearchNotEnabledError) as after:
        AgentSession.search(users[0], "paris", cluster.url, prefix=cprefix)
    assert "enable_search" in str(after.value)
    for node in cluster.masters():
        listed = node.client.execute_command("FT._LIST")
        assert not [n for n in listed if str(n).startswith(search_index_name(cprefix))]
