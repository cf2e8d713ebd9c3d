"""Servers to break and writers to count: the fault suite's and `make soak`'s shared parts.

Every server is started from the same binaries as the rest of the suite
(`EmbeddedRedis`); a Sentinel runs the very `redis-server` binary of a started server
with `--sentinel`. Writers append uniquely marked batches while a fault happens, repeat a
call that failed (the same call, so its write id is reused), and the tally then reads
what was stored: every acknowledged batch must be there exactly once and contiguous.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from redis_openai_agents import (
    AgentSession,
    RedisOpenAIAgentsError,
    RedisUnavailableError,
    ReplicationTimeoutError,
)
from redis_openai_agents.embedded import EmbeddedRedis

ITEMS_PER_BATCH = 3


def aof_args(workdir: Path) -> list[str]:
    """A server that fsyncs every write to its append-only file in `workdir`."""
    return ["--appendonly", "yes", "--appendfsync", "always", "--dir", str(workdir)]


DEBUG_ARGS = ["--enable-debug-command", "yes"]
# A master sends its data to a new replica at once, rather than after the default 5 s of
# waiting for more replicas to sync together (diskless full sync).
QUICK_SYNC_ARGS = ["--repl-diskless-sync-delay", "0"]
# Milliseconds, as `SENTINEL DEBUG` takes them (the defaults are 10000 and 2000).
SENTINEL_PERIODS = ["INFO-PERIOD", "200", "PUBLISH-PERIOD", "200"]


@contextlib.contextmanager
def server(*extra_args: str, port: int = 0) -> Iterator[EmbeddedRedis]:
    with EmbeddedRedis(port=port, extra_args=[*DEBUG_ARGS, *extra_args]) as started:
        yield started


BIG_VALUE = b"x" * (64 << 20)
"""More than loopback's socket buffers hold, so a send to a stopped server blocks."""


@contextlib.contextmanager
def stopped(started: EmbeddedRedis) -> Iterator[None]:
    """The server stopped (SIGSTOP) for the block: it reads nothing and answers nothing."""
    os.kill(started.pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(started.pid, signal.SIGCONT)


def kill9(started: EmbeddedRedis) -> None:
    """SIGKILL the server: no shutdown, no final fsync; only what the AOF holds survives."""
    pid = started.pid
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}/stat").exists() and time.monotonic() < deadline:
        if Path(f"/proc/{pid}/stat").read_text().split(") ")[-1].startswith("Z"):
            break
        time.sleep(0.01)


def batch(writer: int, number: int) -> list[dict[str, Any]]:
    return [
        {"role": "user", "content": f"w{writer}-b{number}-i{i}"} for i in range(ITEMS_PER_BATCH)
    ]


@dataclass
class Tally:
    """What the writers were told, against what the server kept."""

    acknowledged: set[tuple[int, int]] = field(default_factory=set)
    unacknowledged: set[tuple[int, int]] = field(default_factory=set)
    errors: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    """The first message of each kind of error the writers saw."""
    lost: int = 0
    duplicated: int = 0
    torn: int = 0
    stored: int = 0
    writing_through_fault: bool = False
    """Whether writers were still busy when the fault ended (the fault hit them)."""

    def figures(self) -> str:
        return (
            f"acknowledged={len(self.acknowledged)} lost={self.lost} "
            f"duplicated={self.duplicated} torn={self.torn} "
            f"unacknowledged={len(self.unacknowledged)} errors={dict(self.errors)}"
            + "".join(f"\n    {kind}: {text}" for kind, text in self.examples.items())
        )


async def write_batches(
    session: AgentSession,
    writer: int,
    batches: int,
    tally: Tally,
    *,
    give_up_after: float = 60.0,
    pause: float = 0.0,
) -> None:
    """Append `batches` marked batches; a failed call is repeated as it was."""
    for number in range(batches):
        items = batch(writer, number)
        deadline = time.monotonic() + give_up_after
        while time.monotonic() < deadline:
            try:
                await session.add_items(items)
            except (RedisUnavailableError, ReplicationTimeoutError) as exc:
                tally.errors[type(exc).__name__] += 1
                tally.examples.setdefault(type(exc).__name__, str(exc))
                await asyncio.sleep(0.05)
                continue
            tally.acknowledged.add((writer, number))
            break
        else:
            tally.unacknowledged.add((writer, number))
        if pause:
            await asyncio.sleep(pause)


def count_stored(tally: Tally, conversations: list[list[dict[str, Any]]]) -> Tally:
    """Fill in lost / duplicated / torn from the stored conversations."""
    seen: Counter[tuple[int, int]] = Counter()
    for items in conversations:
        tally.stored += len(items)
        texts = [item["content"] for item in items]
        index = 0
        while index < len(texts):
            writer, number, position = (int(p[1:]) for p in texts[index].split("-"))
            expected = [i["content"] for i in batch(writer, number)]
            if position != 0 or texts[index : index + ITEMS_PER_BATCH] != expected:
                tally.torn += 1
                index += 1
                continue
            seen[(writer, number)] += 1
            index += ITEMS_PER_BATCH
    tally.lost = len([b for b in tally.acknowledged if seen[b] == 0])
    tally.duplicated = sum(count - 1 for count in seen.values() if count > 1)
    return tally


async def run_writers(
    sessions: list[AgentSession],
    batches: int,
    fault: Callable[[], Awaitable[None]],
    *,
    pause: float = 0.0,
    readers: list[AgentSession] | None = None,
) -> Tally:
    """Write from every session at once while `fault` runs, then count what was stored
    (read through `readers`, one per writing session, when given)."""
    tally = Tally()
    writers = [
        asyncio.ensure_future(write_batches(s, n, batches, tally, pause=pause))
        for n, s in enumerate(sessions)
    ]
    # The fault hits running clients: every writer has had a batch acknowledged.
    deadline = time.monotonic() + 30
    while len({w for w, _ in tally.acknowledged}) < len(sessions) and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    await fault()
    tally.writing_through_fault = not all(w.done() for w in writers)
    await asyncio.gather(*writers)
    stored = []
    for session in readers or sessions:
        for _ in range(50):
            try:
                stored.append(await session.get_items())
                break
            except RedisOpenAIAgentsError:
                await asyncio.sleep(0.1)
    return count_stored(tally, stored)


# Sentinel


@dataclass
class SentinelSetup:
    master: EmbeddedRedis
    replica: EmbeddedRedis
    sentinel_port: int
    process: subprocess.Popen[bytes]
    service: str = "roa-master"

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.sentinel_port, decode_responses=True)

    def master_port(self) -> int:
        with self.client() as sentinel:
            _host, port = sentinel.execute_command(
                "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.service
            )
        return int(port)

    def failover(self, timeout: float = 30.0) -> int:
        """Ask for a failover and wait until the sentinel names the new master."""
        before = self.master_port()
        deadline = time.monotonic() + timeout
        with self.client() as sentinel:
            while True:
                try:
                    sentinel.execute_command("SENTINEL", "FAILOVER", self.service)
                    break
                except redis.ResponseError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
        while self.master_port() == before:
            if time.monotonic() > deadline:
                raise TimeoutError("the sentinel never named a new master")
            time.sleep(0.05)
        return self.master_port()

    def wait_demoted(self, port: int, timeout: float = 60.0) -> None:
        """Until the server on `port` replicates the new master: what it alone held is gone."""
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(redis.ConnectionError):
                with redis.Redis(port=port, decode_responses=True) as old:
                    info = old.info("replication")
                if info["role"] == "slave" and info.get("master_link_status") == "up":
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the server on port {port} was never demoted")
            time.sleep(0.1)


def _binary_and_env(started: EmbeddedRedis) -> tuple[str, dict[str, str]]:
    """The running server's own binary, and the folders of the libraries it loaded."""
    exe = os.readlink(f"/proc/{started.pid}/exe")
    folders = {
        str(Path(line.split()[-1]).parent)
        for line in Path(f"/proc/{started.pid}/maps").read_text().splitlines()
        if line.split()[-1].endswith(".so.1.1")
    }
    env = dict(os.environ)
    if folders:
        env["LD_LIBRARY_PATH"] = os.pathsep.join([*sorted(folders), env.get("LD_LIBRARY_PATH", "")])
    return exe, env


def _die_with_parent() -> None:
    """In the child: the kernel kills the sentinel if the process that started it dies."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def sentinel_setup() -> Iterator[SentinelSetup]:
    """One master, one replica and one sentinel watching them, all on loopback."""
    with (
        server(*QUICK_SYNC_ARGS) as master,
        server(*QUICK_SYNC_ARGS, "--replicaof", "127.0.0.1", str(master.port)) as replica,
    ):
        exe, env = _binary_and_env(master)
        workdir = Path(tempfile.mkdtemp(prefix="roa-sentinel-"))
        port = _free_port()
        service = "roa-master"
        (workdir / "sentinel.conf").write_text(
            f"port {port}\nbind 127.0.0.1\ndir {workdir}\n"
            f"sentinel monitor {service} 127.0.0.1 {master.port} 1\n"
            f"sentinel down-after-milliseconds {service} 2000\n"
            f"sentinel failover-timeout {service} 10000\n"
        )
        process = subprocess.Popen(
            [exe, str(workdir / "sentinel.conf"), "--sentinel"],
            cwd=workdir,
            env=env,
            stdout=(workdir / "sentinel.log").open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,
        )
        setup = SentinelSetup(master, replica, port, process, service)
        try:
            _quicken(setup)
            _wait_for_replica(setup)
            yield setup
        finally:
            process.terminate()
            process.wait(10)


def _quicken(setup: SentinelSetup, timeout: float = 30.0) -> None:
    """The sentinel's clock in tenths of a second instead of seconds (`SENTINEL DEBUG`).

    It reads its servers' INFO every 0.2 s instead of every 10 s, so it learns of the replica
    and of a promotion at once; and it tells a server that still claims to be master after
    a failover to replicate the new one 0.8 s after noticing, instead of 8 s (four periods
    of its hello messages). What it does is the same, only sooner.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            with setup.client() as sentinel:
                sentinel.execute_command("SENTINEL", "DEBUG", *SENTINEL_PERIODS)
            return
        except redis.ConnectionError:
            if setup.process.poll() is not None:
                raise RuntimeError("the sentinel exited at startup") from None
            if time.monotonic() > deadline:
                raise TimeoutError("the sentinel never came up") from None
            time.sleep(0.05)


def _wait_for_replica(setup: SentinelSetup, timeout: float = 30.0) -> None:
    """Until the replica is in sync and the sentinel knows it (a failover needs both)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with redis.Redis(port=setup.replica.port, decode_responses=True) as replica:
                synced = replica.info("replication").get("master_link_status") == "up"
            with setup.client() as sentinel:
                replicas = sentinel.execute_command("SENTINEL", "REPLICAS", setup.service)
            if synced and replicas:
                return
        except redis.ConnectionError:
            if setup.process.poll() is not None:
                raise RuntimeError("the sentinel exited at startup") from None
        if time.monotonic() > deadline:
            raise TimeoutError("the replica or the sentinel never came up")
        time.sleep(0.1)
