"""The Lua scripts that make each session operation one atomic round trip."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib.resources import files
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError


@cache
def _source(name: str) -> str:
    return (files(__package__) / "lua" / f"{name}.lua").read_text(encoding="utf-8")


class LuaScript:
    """A script sent by its SHA1, and in full only when the server does not know it yet.

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
        try:
            return await client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await client.eval(self.source, len(keys), *keys, *args)


APPEND = LuaScript("ttl", "append", write_once=True)
POP = LuaScript("ttl", "pop", write_once=True)
READ = LuaScript("read")
CLEAR = LuaScript("ttl", "clear", write_once=True)
LIST = LuaScript("list")
JSON_WRITE = LuaScript("json_write", write_once=True)
