"""The Lua scripts that make each session operation one atomic round trip."""

from __future__ import annotations

import asyncio
import hashlib
import time
from functools import cache
from importlib.resources import files
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import ClusterError, NoScriptError, ResponseError

MOVING_SLOT_PATIENCE = 10.0
"""Seconds a script waits for a cluster slot it needs to finish moving between masters."""


@cache
def _source(name: str) -> str:
    return (files(__package__) / "lua" / f"{name}.lua").read_text(encoding="utf-8")


class LuaScript:
    """A script sent by its SHA1, and in full only when the server does not know it yet.

    On a cluster, redis-py sends it to the master of its first key's slot (every key it
    declares shares that slot) and follows MOVED, ASK and TRYAGAIN. While that slot is
    being migrated, a script that touches a key already moved is stopped by Redis; each
    script touches such keys before its first write, so it is sent again until the slot
    has settled.

    A writing script (`write_once=True`) runs its last part as a function between the
    write-id prelude and epilogue (`write_once.lua`): it then takes the write-record hash
    as its last key and a write id and its lifetime as its last two arguments.
    """

    def __init__(self, *parts: str, write_once: bool = False) -> None:
        self.write_once = write_once
        if write_once:
            *helpers, body = parts
            sources = [_source(part) for part in helpers]
            sources += [
                _source("write_once"),
                f"local function write()\n{_source(body)}\nend",
                _source("write_once_end"),
            ]
        else:
            sources = [_source(part) for part in parts]
        self.source = "\n".join(sources)
        self.sha = hashlib.sha1(self.source.encode()).hexdigest()

    async def __call__(self, client: aioredis.Redis, keys: list[str], args: list[Any]) -> Any:
        deadline: float | None = None
        pause = 0.01
        while True:
            try:
                try:
                    return await client.execute_command(  # type: ignore[no-untyped-call]
                        "EVALSHA", self.sha, len(keys), *keys, *args
                    )
                except NoScriptError:
                    return await client.execute_command(  # type: ignore[no-untyped-call]
                        "EVAL", self.source, len(keys), *keys, *args
                    )
            except (ResponseError, ClusterError) as exc:
                if not _slot_is_moving(exc):
                    raise
                now = time.monotonic()
                if deadline is None:
                    deadline = now + MOVING_SLOT_PATIENCE
                if now + pause > deadline:
                    raise
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.2)


def _slot_is_moving(exc: Exception) -> bool:
    """Redis stopped the script before it ran, or at a key of a slot being migrated."""
    message = str(exc)
    return "non local key" in message or message == "TTL exhausted."


APPEND = LuaScript("ttl", "branches", "tag_sets", "item_hash", "append", write_once=True)
POP = LuaScript("ttl", "branches", "tag_sets", "pop", write_once=True)
READ = LuaScript("read")
CLEAR = LuaScript("ttl", "tag_sets", "clear", write_once=True)
BRANCH_CREATE = LuaScript("branches", "branch_create", write_once=True)
BRANCH_DELETE = LuaScript("branches", "branch_delete", write_once=True)
BRANCH_TURNS = LuaScript("branches", "branch_turns")
BRANCH_LIST = LuaScript("branches", "branch_list")
USAGE_STORE = LuaScript("branches", "usage_store", write_once=True)
USAGE_READ = LuaScript("branches", "usage_read")
LIST = LuaScript("list")
TAGS = LuaScript("ttl", "tag_sets", "tags", write_once=True)
LIST_TAGGED = LuaScript("list_tagged")
JSON_WRITE = LuaScript("json_stamp", "json_write", write_once=True)
JSON_MESSAGE = LuaScript("json_stamp", "json_message", write_once=True)
ERASE = LuaScript("erase")
HISTORY_READ = LuaScript("history_read")
