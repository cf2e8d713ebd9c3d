"""What the server says: request counts, CPU time, memory per key, index size, versions."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import redis


@dataclass(frozen=True)
class ServerSnapshot:
    """Counters of `INFO stats commandstats cpu` at one instant."""

    reads: int
    calls: dict[str, int]
    cpu_seconds: float


@dataclass
class ServerDelta:
    """What the server did between two snapshots."""

    reads: int
    calls: dict[str, int] = field(default_factory=dict)
    cpu_seconds: float = 0.0


class Admin:
    """A plain synchronous client for looking at and cleaning the server."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = redis.Redis.from_url(url)

    def close(self) -> None:
        self.client.close()

    def snapshot(self) -> ServerSnapshot:
        """One INFO call: its own request is in the count and cancels out between two."""
        info: dict[str, Any] = self.client.info("stats", "commandstats", "cpu")
        calls = {
            key.removeprefix("cmdstat_"): int(value["calls"])
            for key, value in info.items()
            if key.startswith("cmdstat_")
        }
        cpu = float(info["used_cpu_sys"]) + float(info["used_cpu_user"])
        return ServerSnapshot(int(info["total_reads_processed"]), calls, cpu)

    @staticmethod
    def delta(before: ServerSnapshot, after: ServerSnapshot) -> ServerDelta:
        calls = {
            name: count - before.calls.get(name, 0)
            for name, count in after.calls.items()
            if count != before.calls.get(name, 0) and name != "info"
        }
        return ServerDelta(
            after.reads - before.reads, calls, after.cpu_seconds - before.cpu_seconds
        )

    def scan(self, pattern: str) -> Iterator[bytes]:
        yield from self.client.scan_iter(match=pattern, count=2000)

    def memory_usage(self, pattern: str) -> tuple[int, int]:
        """(keys, bytes) for every key matching `pattern`, from MEMORY USAGE ... SAMPLES 0."""
        keys = 0
        total = 0
        for chunk in _chunks(self.scan(pattern), 1000):
            pipe = self.client.pipeline(transaction=False)
            for key in chunk:
                pipe.memory_usage(key, samples=0)
            for used in pipe.execute():
                if used is not None:
                    keys += 1
                    total += int(used)
        return keys, total

    def index_bytes(self, name: str) -> int:
        """The search index's own memory from FT.INFO (0 when there is no such index)."""
        try:
            raw = self.client.execute_command("FT.INFO", name)  # type: ignore[no-untyped-call]
        except redis.ResponseError:
            return 0
        info = _pairs(raw)
        total = info.get("total_index_memory_sz_mb")
        if total is not None:
            return int(float(total) * 1024 * 1024)
        parts = (
            "inverted_sz_mb",
            "offset_vectors_sz_mb",
            "doc_table_size_mb",
            "sortable_values_size_mb",
            "key_table_size_mb",
            "tag_overhead_sz_mb",
            "text_overhead_sz_mb",
        )
        return int(sum(float(info.get(p, 0) or 0) for p in parts) * 1024 * 1024)

    def delete_matching(self, pattern: str) -> int:
        removed = 0
        for chunk in _chunks(self.scan(pattern), 2000):
            removed += int(self.client.unlink(*chunk))
        return removed

    def drop_index(self, name: str) -> None:
        with contextlib.suppress(redis.ResponseError):
            self.client.execute_command("FT.DROPINDEX", name)  # type: ignore[no-untyped-call]

    def server_versions(self) -> dict[str, str]:
        info: dict[str, Any] = self.client.info("server")
        out = {"redis": str(info.get("redis_version", "?"))}
        with contextlib.suppress(redis.ResponseError):
            modules = self.client.execute_command("MODULE", "LIST")  # type: ignore[no-untyped-call]
            for module in modules:
                entry = _pairs(module)
                name = str(entry.get("name", "?"))
                ver = int(entry.get("ver", 0))
                out[name] = f"{ver // 10000}.{ver // 100 % 100}.{ver % 100}"
        return out

    def sample_keys(self, pattern: str, count: int) -> list[bytes]:
        """Up to `count` keys matching `pattern`."""
        found: list[bytes] = []
        for key in self.client.scan_iter(match=pattern, count=1000):
            found.append(key)
            if len(found) >= count:
                break
        return found

    def rebuilt_bytes(self, keys: list[bytes], fields: tuple[str, ...] | None) -> int:
        """`MEMORY USAGE` of copies of hashes holding only `fields` (None: all of them),
        each under a name as long as the original's, summed; the copies are deleted."""
        total = 0
        for key in keys:
            values = self.client.hgetall(key)
            if fields is not None:
                values = {f: v for f, v in values.items() if f.decode() in fields}
            copy = b"~" + key[1:]
            self.client.hset(copy, mapping=values)  # type: ignore[arg-type]
            total += int(self.client.memory_usage(copy, samples=0) or 0)
            self.client.delete(copy)
        return total

    def fill_noise(self, prefix: str, count: int, batch: int = 5000) -> None:
        """`count` unrelated string keys, to show what a full database costs."""
        value = b"x" * 64
        for start in range(0, count, batch):
            pipe = self.client.pipeline(transaction=False)
            for i in range(start, min(count, start + batch)):
                pipe.set(f"{prefix}:{i}", value)
            pipe.execute()


def _pairs(raw: Any) -> dict[str, Any]:
    """A RESP2 flat list or a RESP3 map as a dict with str keys (values decoded)."""
    if isinstance(raw, dict):
        items: Iterable[tuple[Any, Any]] = raw.items()
    else:
        items = zip(raw[::2], raw[1::2], strict=False)
    out: dict[str, Any] = {}
    for key, value in items:
        name = key.decode() if isinstance(key, bytes) else str(key)
        out[name] = value.decode() if isinstance(value, bytes) else value
    return out


def _chunks(values: Iterable[bytes], size: int) -> Iterator[list[bytes]]:
    chunk: list[bytes] = []
    for value in values:
        chunk.append(value)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
