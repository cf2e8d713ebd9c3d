"""What a bad Redis URL or a failed connection means for the user, in words they can act on.

redis-py reports `http://...` as a bare `ValueError`, a refused connection as
"Error 111 connecting to ...", and a missing password in the wire protocol's terms. These
helpers turn them into the package's typed errors with the next step in the message.
"""

from __future__ import annotations

import errno
from urllib.parse import urlsplit

from .errors import InvalidRedisURLError

URL_SCHEMES = ("redis", "rediss", "unix")
"""What redis-py connects to: plain TCP, TLS, and a Unix socket."""

NO_REDIS_HINT = (
    "Nothing is listening there. Start a Redis 8: `docker compose up -d` or `make redis` in a "
    "clone of the redis-openai-agents repository, or `pip install 'redis-openai-agents[embedded]'` "
    "and `python -m redis_openai_agents.embedded serve`; or set REDIS_URL to your server."
)


def checked_url(url: str, source: str, masked: str) -> str:
    """`url` if redis-py can connect to it; otherwise an error naming the accepted schemes.

    `source` says where the URL came from (`redis_url`, `$REDIS_URL`), `masked` is the URL
    with its password hidden, for the message.
    """
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme in URL_SCHEMES:
        return url
    accepted = ", ".join(f"{name}://" for name in URL_SCHEMES)
    shown = masked if scheme else url.rsplit("@", 1)[-1]
    suggestion = url.rsplit("@", 1)[-1].split("://")[-1]
    raise InvalidRedisURLError(
        f"{source} {shown!r} is not a Redis URL: it must start with one of {accepted} "
        f"(for example 'redis://{suggestion}')"
    )


def unavailable_reason(url: str | None, exc: BaseException) -> str:
    """redis-py's words for a failed connection, plus how to get a Redis when none runs locally."""
    reason = str(exc) or type(exc).__name__
    if url is not None and _is_loopback(url) and _refused(exc):
        reason = f"{reason} {NO_REDIS_HINT}"
    return reason


def credentials_hint(url: str | None, client_has_password: bool) -> str:
    """What to do when the server refused the connection's credentials."""
    has_password = urlsplit(url).password is not None if url is not None else client_has_password
    if has_password:
        return "The server refused the user name or password."
    if url is None:
        return "The server needs a password: create the client with password= (and username=)."
    return (
        "The server needs a password: put it in the URL, "
        "redis://:PASSWORD@host:6379 (or redis://USER:PASSWORD@host:6379 for an ACL user)."
    )


def _is_loopback(url: str) -> bool:
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return False
    return host in ("localhost", "127.0.0.1", "::1")


def _refused(exc: BaseException) -> bool:
    """Whether a connection failure was a refusal: a reachable host with no server on the port."""
    # redis-py words it "Error 111 connecting to host:port." and may drop the OSError.
    if f"Error {errno.ECONNREFUSED} connecting" in str(exc):
        return True
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, ConnectionRefusedError):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False
