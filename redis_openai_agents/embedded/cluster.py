"""A local Redis Cluster (masters with replicas) from the embedded Redis binaries.

Tests, benchmarks and the guide need a real cluster, not a mock: each node is an
`EmbeddedRedis` started in cluster mode on a loopback port, joined with plain
`CLUSTER ADDSLOTSRANGE` / `MEET` / `REPLICATE` commands, so nothing beyond redis-py and
the server binary is needed. Failover and slot migration helpers drive the same commands
an operator would, so the library's behaviour under them can be measured.
"""

from __future__ import annotations

import random
import signal
import socket
import threading
import time
from types import FrameType, TracebackType

import redis

from .binaries import ServerKind
from .errors import ServerStartError
from .server import EmbeddedRedis

SLOTS = 16384
_HOST = "127.0.0.1"
_BUS_OFFSET = 10000


class ClusterStartError(RuntimeError):
    """The nodes started but did not form a healthy cluster in time."""


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((_HOST, port))
        except OSError:
            return False
    return True


def _free_cluster_port() -> int:
    """A port whose cluster bus port (+10000) is free too."""
    for _ in range(200):
        port = random.randint(20000, 40000)
        if _port_is_free(port) and _port_is_free(port + _BUS_OFFSET):
            return port
    raise ServerStartError("no free pair of client and cluster-bus ports found")


def _node_args(node_timeout_ms: int) -> list[str]:
    return [
        "--cluster-enabled", "yes",
        "--cluster-config-file", "nodes.conf",
        "--cluster-node-timeout", str(node_timeout_ms),
        "--cluster-require-full-coverage", "yes",
    ]  # fmt: skip


class ClusterNode:
    """One node of the local cluster: its server and a plain client to it."""

    def __init__(self, server: EmbeddedRedis) -> None:
        self.server = server
        self.client = redis.Redis(host=_HOST, port=server.port, decode_responses=True)
        self.node_id: str = self.client.execute_command("CLUSTER MYID")  # type: ignore[no-untyped-call]

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def url(self) -> str:
        return self.server.url

    def role(self) -> str:
        """`master` or `slave`, as the node itself reports it."""
        return str(self.client.execute_command("ROLE")[0])  # type: ignore[no-untyped-call]

    def cluster_info(self) -> dict[str, str]:
        raw = self.client.execute_command("CLUSTER INFO")  # type: ignore[no-untyped-call]
        if isinstance(raw, dict):
            return {str(k): str(v) for k, v in raw.items()}
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        return dict(line.split(":", 1) for line in text.split() if ":" in line)

    def stop(self) -> None:
        self.client.close()
        self.server.stop()


class LocalCluster:
    """`masters` masters, each with `replicas` replicas, on loopback ports.

    Slots are split evenly over the masters. `with LocalCluster() as cluster:` starts it
    and stops every node (deleting their data) on exit.
    """

    def __init__(
        self,
        masters: int = 3,
        replicas: int = 1,
        *,
        node_timeout_ms: int = 2000,
        startup_timeout: float = 60.0,
        server: ServerKind | None = None,
    ) -> None:
        if masters < 1 or replicas < 0:
            raise ValueError("a cluster needs at least one master and no negative replicas")
        self.masters_count = masters
        self.replicas_count = replicas
        self.node_timeout_ms = node_timeout_ms
        self.startup_timeout = startup_timeout
        self.server = server
        self.nodes: list[ClusterNode] = []

    # Lifecycle

    def start(self) -> LocalCluster:
        try:
            total = self.masters_count * (1 + self.replicas_count)
            self.nodes = [self._start_node() for _ in range(total)]
            masters = self.nodes[: self.masters_count]
            bounds = [SLOTS * i // self.masters_count for i in range(self.masters_count + 1)]
            for i, node in enumerate(masters):
                node.client.execute_command(  # type: ignore[no-untyped-call]
                    "CLUSTER ADDSLOTSRANGE", bounds[i], bounds[i + 1] - 1
                )
            first = self.nodes[0]
            for node in self.nodes[1:]:
                node.client.execute_command("CLUSTER MEET", _HOST, first.port)  # type: ignore[no-untyped-call]
            self._wait(lambda: all(self._knows_all(n) for n in self.nodes), "nodes to meet")
            replicas = self.nodes[self.masters_count :]
            for i, node in enumerate(replicas):
                master = masters[i % self.masters_count]
                node.client.execute_command("CLUSTER REPLICATE", master.node_id)  # type: ignore[no-untyped-call]
            self._wait(self.is_healthy, "the cluster to become healthy")
        except BaseException:
            self.stop()
            raise
        return self

    def _start_node(self) -> ClusterNode:
        for _ in range(10):
            port = _free_cluster_port()
            server = EmbeddedRedis(
                port=port, extra_args=_node_args(self.node_timeout_ms), server=self.server
            )
            try:
                server.start()
            except ServerStartError:
                continue
            return ClusterNode(server)
        raise ServerStartError("could not start a cluster node on a free port")

    def add_node(self) -> ClusterNode:
        """Start one more node and join it to the cluster as a master with no slots."""
        node = self._start_node()
        node.client.execute_command("CLUSTER MEET", _HOST, self.nodes[0].port)  # type: ignore[no-untyped-call]
        self.nodes.append(node)
        self._wait(lambda: all(self._knows_all(n) for n in self.nodes), "the new node to join")
        self._wait(self.is_healthy, "the new node to see the cluster healthy")
        return node

    def remove_node(self, node: ClusterNode) -> None:
        """Stop a node that serves no slots and make the others forget it."""
        self.nodes.remove(node)
        node.stop()
        for other in self.nodes:
            other.client.execute_command("CLUSTER FORGET", node.node_id)  # type: ignore[no-untyped-call]

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
        self.nodes = []

    def __enter__(self) -> LocalCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # Views

    @property
    def urls(self) -> list[str]:
        return [node.url for node in self.nodes]

    @property
    def url(self) -> str:
        """The URL of the first node: any node's URL reaches the whole cluster."""
        return self.nodes[0].url

    def masters(self) -> list[ClusterNode]:
        return [node for node in self.nodes if node.role() == "master"]

    def node_for_slot(self, slot: int) -> ClusterNode:
        """The master currently serving `slot`, according to the first reachable node."""
        by_id = {node.node_id: node for node in self.nodes}
        for node in self.nodes:
            try:
                shards = node.client.execute_command("CLUSTER SLOTS")  # type: ignore[no-untyped-call]
            except redis.ConnectionError:
                continue
            for start, end, master, *_ in shards:
                if start <= slot <= end:
                    return by_id[master[2]]
        raise LookupError(f"no node serves slot {slot}")

    def keyslot(self, key: str) -> int:
        return int(self.nodes[0].client.execute_command("CLUSTER KEYSLOT", key))  # type: ignore[no-untyped-call]

    def _knows_all(self, node: ClusterNode) -> bool:
        return int(node.cluster_info().get("cluster_known_nodes", 0)) >= len(self.nodes)

    def is_healthy(self) -> bool:
        """Every node sees every slot served and every replica is in sync with its master."""
        for node in self.nodes:
            info = node.cluster_info()
            if info.get("cluster_state") != "ok" or info.get("cluster_slots_ok") != str(SLOTS):
                return False
            replication = node.client.info("replication")
            if replication["role"] == "slave" and replication.get("master_link_status") != "up":
                return False
        return True

    def _wait(self, condition: object, what: str, timeout: float | None = None) -> None:
        assert callable(condition)
        deadline = time.monotonic() + (timeout or self.startup_timeout)
        while not condition():
            if time.monotonic() > deadline:
                raise ClusterStartError(f"timed out waiting for {what}")
            time.sleep(0.05)

    # Operations an operator performs

    def _replica_of(self, master: ClusterNode) -> ClusterNode:
        return next(
            n
            for n in self.nodes
            if n.role() == "slave" and n.client.info("replication")["master_port"] == master.port
        )

    def failover(self, master: ClusterNode) -> ClusterNode:
        """Promote a replica of `master` with `CLUSTER FAILOVER`; returns the new master."""
        replica = self._replica_of(master)
        replica.client.execute_command("CLUSTER FAILOVER")  # type: ignore[no-untyped-call]
        self._wait(lambda: replica.role() == "master" and master.role() == "slave", "failover")
        self._wait(self.is_healthy, "the cluster to settle after the failover")
        return replica

    def kill(self, master: ClusterNode) -> ClusterNode:
        """Stop `master` without warning and wait until the cluster has promoted its
        replica (after the node timeout); returns the new master."""
        replica = self._replica_of(master)
        self.nodes.remove(master)
        master.stop()
        self._wait(lambda: replica.role() == "master", "a replica to take over")
        self._wait(self.is_healthy, "the cluster to settle after losing a master")
        return replica

    def migrate_slot(self, slot: int, target: ClusterNode, batch: int = 10) -> int:
        """Move one slot with SETSLOT IMPORTING/MIGRATING and MIGRATE, as `redis-cli
        --cluster reshard` does; returns how many keys moved."""
        source = self.node_for_slot(slot)
        if source is target:
            return 0
        target.client.execute_command("CLUSTER SETSLOT", slot, "IMPORTING", source.node_id)  # type: ignore[no-untyped-call]
        source.client.execute_command("CLUSTER SETSLOT", slot, "MIGRATING", target.node_id)  # type: ignore[no-untyped-call]
        moved = 0
        while True:
            keys = source.client.execute_command("CLUSTER GETKEYSINSLOT", slot, batch)  # type: ignore[no-untyped-call]
            if not keys:
                break
            source.client.execute_command(  # type: ignore[no-untyped-call]
                "MIGRATE", _HOST, target.port, "", 0, 5000, "REPLACE", "KEYS", *keys
            )
            moved += len(keys)
        others = [n for n in self.nodes if n not in (source, target)]
        for node in [target, source, *others]:
            try:
                node.client.execute_command("CLUSTER SETSLOT", slot, "NODE", target.node_id)  # type: ignore[no-untyped-call]
            except redis.ResponseError as exc:
                # A replica, or a master that just lost its last slot and turned replica
                # of the node that took it: it learns the new owner by gossip.
                if "only with masters" not in str(exc):
                    raise
        self._wait(lambda: self.node_for_slot(slot) is target, f"slot {slot} to settle")
        return moved


def serve(masters: int, replicas: int, server: ServerKind | None = None) -> int:
    """Start a local cluster, print its node URLs, and run until Ctrl-C."""
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    with LocalCluster(masters, replicas, server=server) as cluster:
        for node in cluster.nodes:
            role = "master" if node.role() == "master" else "replica"
            print(f"{role:<7} {node.url}", flush=True)
        print(f"REDIS_URL={cluster.url}  (any node's URL reaches the whole cluster)", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        while not stop.wait(0.5):
            pass
    return 0
