"""Both session types on a real Redis Cluster, reached through any node or a cluster client.

Every public method runs for users whose keys live on each of the three masters, through
the URL of every node (replicas included: a replica's URL reaches the cluster too), and
through `RedisCluster` clients, sync and async, passed as `redis_client=`.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import redis.asyncio.cluster as aiocluster
from agents import Agent, RunConfig, Runner
from conftest import user_on, users_on_every_master
from redis.cluster import RedisCluster

from redis_openai_agents import AgentSession, JSONSession, SessionNotFoundError
from redis_openai_agents.embedded.cluster import LocalCluster
from redis_openai_agents.offline import OfflineModelProvider

RUN = RunConfig(model_provider=OfflineModelProvider(), tracing_disabled=True)


def exercise_agent_session(user_id: str, prefix: str, **where: Any) -> None:
    """Every public AgentSession method once, checking what each returns."""
    session = AgentSession.create(user_id=user_id, ttl=600, prefix=prefix, **where)
    cid = session.conversation_id
    assert [
        s.conversation_id for s in AgentSession.list_sessions(user_id, prefix=prefix, **where)
    ] == [cid]
    session.store_exchange("Hi, I'm Alice.", "Hello, Alice.", agent_name="greeter")
    session.add_message("user", "What is my name?", source="test")
    assert session.message_count() == 3
    messages = session.get_messages()
    assert [m["content"] for m in messages] == [
        "Hi, I'm Alice.",
        "Hello, Alice.",
        "What is my name?",
    ]
    assert messages[2]["metadata"] == {"source": "test"}
    assert [i["content"] for i in session.to_agent_inputs()] == [m["content"] for m in messages]
    meta = session.get_metadata()
    assert meta["message_count"] == 3 and meta["current_agent"] == "greeter"
    assert meta["agents_used"] == ["greeter"] and meta["expires_at"] is not None
    loaded = AgentSession.load(cid, user_id, prefix=prefix, **where)
    assert loaded.current_agent == "greeter" and loaded.message_count() == 3
    listed = AgentSession.list_conversations(user_id, prefix=prefix, **where)
    assert [s.conversation_id for s in listed] == [cid]
    info = AgentSession.list_sessions(user_id, prefix=prefix, **where)[0]
    assert (
        info.message_count == 3 and info.title == "Hi, I'm Alice." and info.last_agent == "greeter"
    )

    async def protocol() -> None:
        await session.add_items(
            [{"role": "user", "content": "one"}, {"role": "user", "content": "two"}]
        )
        assert [i["content"] for i in await session.get_items(limit=2)] == ["one", "two"]
        assert (await session.pop_item())["content"] == "two"  # type: ignore[index]
        assert len(await session.get_items()) == 4
        await session.clear_session()
        assert await session.get_items() == []

    asyncio.run(protocol())
    session.store_exchange("again", "yes")
    session.delete()
    assert session.message_count() == 0
    with pytest.raises(SessionNotFoundError):
        AgentSession.load(cid, user_id, prefix=prefix, **where)
    assert AgentSession.list_sessions(user_id, prefix=prefix, **where) == []
    other = AgentSession.create(user_id=user_id, prefix=prefix, **where)
    other.clear()
    session.close()
    other.close()
    loaded.close()


async def exercise_json_session(session_id: str, prefix: str, **where: Any) -> None:
    async with JSONSession(session_id, ttl=600, prefix=prefix, **where) as session:
        assert not await session.exists()
        await session.set("cart", {"items": [{"sku": "A1", "qty": 2}], "total": 12.5})
        await session.set("user.name", "Alice")
        assert await session.get("cart") == {"items": [{"sku": "A1", "qty": 2}], "total": 12.5}
        assert await session.get("missing", "default") == "default"
        assert await session.get_all() == {
            "cart": {"items": [{"sku": "A1", "qty": 2}], "total": 12.5},
            "user.name": "Alice",
        }
        assert await session.delete("user.name") is True
        assert await session.delete("user.name") is False
        await session.add_items(
            [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]
        )
        assert [i["content"] for i in await session.get_items(limit=1)] == ["b"]
        assert (await session.pop_item())["content"] == "b"  # type: ignore[index]
        await session.clear_session()
        assert await session.get_items() == [] and await session.get("cart") is not None
        assert await session.exists()
        await session.clear()
        assert not await session.exists()


def test_every_node_url_reaches_every_master(cluster: LocalCluster, cprefix: str) -> None:
    """Checked per node URL: all methods of both classes, for users on each master."""
    checked = 0
    for node in cluster.nodes:
        for user_id in users_on_every_master(cluster):
            exercise_agent_session(user_id, cprefix, redis_url=node.url)
            asyncio.run(exercise_json_session(f"json-{user_id}", cprefix, redis_url=node.url))
            checked += 1
    assert checked == len(cluster.nodes) * 3


def test_a_sync_cluster_client_is_accepted(cluster: LocalCluster, cprefix: str) -> None:
    client = RedisCluster.from_url(cluster.url)
    try:
        for user_id in users_on_every_master(cluster):
            exercise_agent_session(user_id, cprefix, redis_client=client)
            asyncio.run(exercise_json_session(f"json-{user_id}", cprefix, redis_client=client))
    finally:
        client.close()


async def test_an_async_cluster_client_is_accepted_and_left_open(
    cluster: LocalCluster, cprefix: str
) -> None:
    client = aiocluster.RedisCluster.from_url(cluster.url)
    try:
        for user_id in users_on_every_master(cluster):
            await exercise_json_session(f"json-{user_id}", cprefix, redis_client=client)
            session = await AgentSession.acreate(user_id, redis_client=client, prefix=cprefix)
            await session.add_items([{"role": "user", "content": "hello"}])
            assert [i["content"] for i in await session.get_items()] == ["hello"]
            infos = await AgentSession.alist_sessions(user_id, redis_client=client, prefix=cprefix)
            assert [i.message_count for i in infos] == [1]
            await session.aclose()
        assert await client.ping()
        # The blocking twins of the same session reach the cluster from the bridge thread.
        user_id = user_on(cluster, 1)
        session = AgentSession("sync-twin", user_id=user_id, redis_client=client, prefix=cprefix)
        session.store_exchange("q", "a")
        assert session.message_count() == 2
    finally:
        await client.aclose()


def test_sessions_name_the_cluster_they_reach(cluster: LocalCluster) -> None:
    client = RedisCluster.from_url(cluster.url)
    try:
        session = AgentSession("c", user_id="u", redis_client=client)
        assert session.redis_url.endswith("(cluster)")
    finally:
        client.close()


@pytest.mark.parametrize("node_index", [0, 1, 2])
def test_runner_run_with_a_session_on_each_master(
    cluster: LocalCluster, cprefix: str, node_index: int
) -> None:
    user_id = user_on(cluster, node_index)
    agent = Agent(name="assistant", instructions="Be brief.")
    session = AgentSession.create(user_id=user_id, redis_url=cluster.url, prefix=cprefix)
    Runner.run_sync(agent, "My name is Alice.", session=session, run_config=RUN)
    result = Runner.run_sync(agent, "What is my name?", session=session, run_config=RUN)
    assert "Alice" in str(result.final_output)
    fresh = AgentSession.load(
        session.conversation_id, user_id, redis_url=cluster.url, prefix=cprefix
    )
    items = asyncio.run(fresh.get_items())
    assert [i.get("role") for i in items] == ["user", "assistant", "user", "assistant"]
    store = JSONSession(f"run-{user_id}", redis_url=cluster.url, prefix=cprefix)
    Runner.run_sync(agent, "My name is Bob.", session=store, run_config=RUN)
    again = Runner.run_sync(agent, "What is my name?", session=store, run_config=RUN)
    assert "Bob" in str(again.final_output)
    session.close()
    fresh.close()
    store.close()


def test_clients_of_finished_event_loops_go_quietly(cluster: LocalCluster, cprefix: str) -> None:
    """`asyncio.run` per call leaves a cluster client per finished loop; dropping them must
    not report unclosed clients on the loop that runs next."""
    import gc
    import warnings

    session = AgentSession("c", user_id=user_on(cluster, 0), redis_url=cluster.url, prefix=cprefix)
    gc.collect()  # what earlier tests left behind is not this test's business
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(3):
            asyncio.run(session.add_items([{"role": "user", "content": "x"}]))
        session.store_exchange("q", "a")  # another loop (the bridge's) drops the old clients
        gc.collect()
    assert session.message_count() == 5
    assert not [w for w in caught if "Unclosed" in str(w.message)]
    session.close()


def test_a_single_node_client_on_a_cluster_gets_a_clear_error(
    cluster: LocalCluster, cprefix: str
) -> None:
    import redis

    from redis_openai_agents import RedisCommandError

    masters = sorted(cluster.masters(), key=lambda n: n.port)
    client = redis.Redis.from_url(masters[0].url)
    try:
        session = AgentSession(
            "c", user_id=user_on(cluster, 1), redis_client=client, prefix=cprefix
        )
        with pytest.raises(
            RedisCommandError, match=r"MOVED \d+ .*Redis Cluster node.*RedisCluster"
        ):
            session.message_count()
    finally:
        client.close()
