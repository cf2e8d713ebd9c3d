"""What exactly-once writes and replica acknowledgements cost: one append, three ways.

Each session appends the same Runner turn (a 4-item batch) to a 100-item conversation:
without write ids (the record is switched off, for comparison only), as shipped (a write
id recorded per write), and with `wait_replicas=1` against a replica of the benchmarked
server started for this phase (`WAIT` in the same round trip). Samples interleave the
three, round after round, and writes are undone by untimed pops.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

import redis

from redis_openai_agents import AgentSession, JSONSession

from .items import ItemFactory
from .stats import Series

CASES = ("no write ids", "write ids (default)", "write ids + wait_replicas=1")
HISTORY = 100


@contextlib.contextmanager
def replica_of(url: str) -> Iterator[str | None]:
    """A replica of the server at `url`, in sync, or None when one cannot be started here."""
    parts = urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost") or parts.password:
        yield None
        return
    try:
        from redis_openai_agents.embedded import EmbeddedRedis

        replica = EmbeddedRedis(extra_args=["--replicaof", "127.0.0.1", str(parts.port)])
        replica.start()
    except Exception:
        yield None
        return
    try:
        deadline = time.monotonic() + 30
        with redis.Redis(port=replica.port, decode_responses=True) as client:
            while client.info("replication").get("master_link_status") != "up":
                if time.monotonic() > deadline:
                    raise TimeoutError("the benchmark replica never synced")
                time.sleep(0.05)
        yield replica.url
    finally:
        replica.stop()


def _sessions(
    kind: str, url: str, prefix: str, conversation: str, with_replica: bool
) -> list[AgentSession | JSONSession]:
    made: list[AgentSession | JSONSession] = []
    for case in CASES if with_replica else CASES[:2]:
        wait = 1 if "wait_replicas" in case else 0
        session: AgentSession | JSONSession
        if kind == "AgentSession":
            session = AgentSession(
                conversation, user_id="bench", redis_url=url, prefix=prefix, wait_replicas=wait
            )
        else:
            session = JSONSession(conversation, url, prefix=prefix, wait_replicas=wait)
        session._connection.record_writes = case != CASES[0]
        made.append(session)
    return made


async def measure(
    url: str, prefix: str, items: ItemFactory, rounds: int, samples: int
) -> dict[str, dict[str, Series]]:
    """Per session type and case: the append's latency samples, round by round."""
    found: dict[str, dict[str, Series]] = {}
    with replica_of(url) as replica:
        for kind in ("AgentSession", "JSONSession"):
            sessions = _sessions(kind, url, prefix, uuid.uuid4().hex, replica is not None)
            first = sessions[0]
            history = [item for i in range(HISTORY // 4 + 1) for item in items.turn(i).batch]
            await first.add_items(history[:HISTORY])
            series = {case: Series() for case in CASES[: len(sessions)]}
            try:
                for session in sessions:  # warm up: scripts loaded, connections open
                    await session.add_items(items.turn(0).batch)
                    for _ in items.turn(0).batch:
                        await first.pop_item()
                for r in range(rounds):
                    taken: list[list[float]] = [[] for _ in sessions]
                    for i in range(samples):
                        batch = items.turn(r * samples + i).batch
                        for session, out in zip(sessions, taken, strict=True):
                            start = time.perf_counter()
                            await session.add_items(batch)
                            out.append(time.perf_counter() - start)
                            for _ in batch:
                                await first.pop_item()
                    for case, out in zip(series, taken, strict=True):
                        series[case].add_round(out)
            finally:
                await first.clear_session()
                if isinstance(first, JSONSession):
                    await first.clear()
                for session in sessions:
                    await session.aclose()
            found[kind] = series
    with redis.Redis.from_url(url) as admin:
        for key in admin.scan_iter(f"{prefix}:*", count=1000):
            admin.delete(key)
        with contextlib.suppress(redis.ResponseError):
            admin.execute_command("FT.DROPINDEX", f"{prefix}:messages")
    return found
