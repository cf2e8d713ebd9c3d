"""Commands packed by hiredis on the package's own asyncio connections."""

from __future__ import annotations

import pytest
import redis
import redis.asyncio as aioredis
import redis.asyncio.connection as aio_connection
from redis.exceptions import DataError

from redis_openai_agents import AgentSession
from redis_openai_agents.packing import HiredisPacking, hiredis_packed

VALUES: list[object] = [
    b"bytes with \r\n inside",
    "text: é, 中文, emoji 🎉",
    0,
    -(2**70),
    1.5,
    1e-300,
    bytearray(b"array"),
    memoryview(b"view"),
    "",
]


def test_the_packed_bytes_are_redis_pys_own() -> None:
    plain = aio_connection.Connection()
    packed = hiredis_packed(aio_connection.Connection)()
    assert isinstance(packed, HiredisPacking)
    for value in VALUES:
        expected = b"".join(plain.pack_command("SET", "k", value))
        assert b"".join(packed.pack_command("SET", "k", value)) == expected, value
    assert b"".join(packed.pack_command("CONFIG GET", "x")) == b"".join(
        plain.pack_command("CONFIG GET", "x")
    )
    for refused in (True, None, object()):
        with pytest.raises(DataError):
            packed.pack_command("SET", "k", refused)
        with pytest.raises(DataError):
            plain.pack_command("SET", "k", refused)


def test_another_encoding_keeps_redis_pys_packer() -> None:
    latin = hiredis_packed(aio_connection.Connection)(encoding="latin-1")
    assert (
        b"".join(latin.pack_command("SET", "k", "é"))
        == b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\n\xe9\r\n"
    )


async def test_sessions_opened_from_a_url_pack_with_hiredis_and_round_trip(
    redis_url: str, prefix: str, r: redis.Redis
) -> None:
    session = AgentSession("c", user_id="u", redis_url=redis_url, prefix=prefix)
    client = session._client()
    assert issubclass(client.connection_pool.connection_class, HiredisPacking)
    items = [{"role": "user", "content": str(value)} for value in VALUES[1:6]]
    items.append({"role": "assistant", "content": "line\r\nbreak", "n": 2**70})
    await session.add_items(items)
    assert await session.get_items() == items
    for value in VALUES:
        await client.set(f"{prefix}:packed", value)  # type: ignore[arg-type]
        if isinstance(value, (bytes, bytearray, memoryview)):
            expected = bytes(value).decode()
        else:
            expected = str(value)
        assert r.get(f"{prefix}:packed") == expected
    await session.aclose()


async def test_a_callers_client_is_used_as_it_is(redis_url: str, prefix: str) -> None:
    mine = aioredis.from_url(redis_url)
    session = AgentSession("c", user_id="u", redis_client=mine, prefix=prefix)
    await session.add_items([{"role": "user", "content": "hi"}])
    assert mine.connection_pool.connection_class is aio_connection.Connection
    assert await session.get_items() == [{"role": "user", "content": "hi"}]
    await session.aclose()
    await mine.aclose()
