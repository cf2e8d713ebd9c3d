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
    """A script sent by its SHA1, and in full only when the server does not know it yet."""

    def __init__(self, *parts: str) -> None:
        self.source = "\n".join(_source(part) for part in parts)
        self.sha = hashlib.sha1(self.source.encode()).hexdigest()

    async def __call__(self, client: aioredis.Redis, keys: list[str], args: list[Any]) -> Any:
        try:
            return await client.evalsha(self.sha, len(keys), *keys, *args)
        except NoScriptError:
            return await client.eval(self.source, len(keys), *keys, *args)


APPEND = LuaScript("ttl", "append")
POP = LuaScript("ttl", "pop")
READ = LuaScript("read")
CLEAR = LuaScript("ttl", "clear")
LIST = LuaScript("list")
JSON_WRITE = LuaScript("json_write")
ERASE = LuaScript("erase")
JSON_MESSAGE = LuaScript("json_message")
HISTORY_READ = LuaScript("history_read")
