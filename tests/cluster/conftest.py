"""Fixtures for the Redis Cluster tests: one real 3-master + 3-replica cluster per run.

The nodes are Redis Stack servers started from the same binaries as the other tests
(`LocalCluster`), on loopback ports, and stopped with their data at the end of the run.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import pytest
import redis
from redis.cluster import RedisCluster

from redis_openai_agents.embedded.cluster import LocalCluster
from redis_openai_agents.keys import hash_tag


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    with LocalCluster(masters=3, replicas=1) as running:
        yield running


@pytest.fixture
def cluster_url(cluster: LocalCluster) -> str:
    return cluster.url


@pytest.fixture
def rc(cluster: LocalCluster) -> Iterator[RedisCluster]:
    """A synchronous cluster client for looking at what the sessions stored."""
    client = RedisCluster.from_url(cluster.url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def cprefix(cluster: LocalCluster) -> Iterator[str]:
    """A key prefix of this test's own, removed from every master afterwards."""
    name = f"t{uuid.uuid4().hex[:10]}"
    yield name
    for node in cluster.masters():
        for key in node.client.scan_iter(f"{name}:*", count=1000):
            node.client.delete(key)
        for index in node.client.execute_command("FT._LIST"):  # type: ignore[no-untyped-call]
            if str(index).startswith(f"{name}:"):
                with contextlib.suppress(redis.ResponseError):
                    node.client.execute_command("FT.DROPINDEX", index)  # type: ignore[no-untyped-call]


def user_on(cluster: LocalCluster, node_index: int, stem: str = "user") -> str:
    """A user id whose keys live on the `node_index`-th master (in port order)."""
    masters = sorted(cluster.masters(), key=lambda n: n.port)
    target = masters[node_index % len(masters)]
    for i in range(10_000):
        candidate = f"{stem}-{uuid.uuid4().hex[:6]}-{i}"
        if cluster.node_for_slot(cluster.keyslot(hash_tag(candidate))) is target:
            return candidate
    raise AssertionError("no user id found for that master")


def users_on_every_master(cluster: LocalCluster) -> list[str]:
    return [user_on(cluster, i) for i in range(len(cluster.masters()))]
