"""The errors a newcomer meets first: a wrong URL, no Redis running, a server with a password.

Each one is the library's typed error, raised before or instead of redis-py's, and its
message says what to do: the accepted URL schemes, how to get a Redis, where the password
goes. None of them speaks of the wire protocol.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from redis_openai_agents import (
    AgentSession,
    InvalidRedisURLError,
    JSONSession,
    RedisAuthenticationError,
    RedisOpenAIAgentsError,
    RedisUnavailableError,
)
from redis_openai_agents.embedded import EmbeddedRedis

ROOT = Path(__file__).resolve().parents[1]
NOT_URLS = ["http://localhost:6379", "localhost:7301", "https://user:hunter2@db.example:6380"]
PROTOCOL_WORDS = ("HELLO", "RESP", "NOAUTH", "WRONGPASS", "Cannot reach")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("url", NOT_URLS)
def test_a_url_that_is_not_redis_is_a_typed_error_naming_the_schemes(url: str) -> None:
    for make in (
        lambda: AgentSession("c", user_id="u", redis_url=url),
        lambda: AgentSession.create(user_id="u", redis_url=url),
        lambda: AgentSession.list_sessions(user_id="u", redis_url=url),
        lambda: JSONSession("s", redis_url=url),
    ):
        with pytest.raises(InvalidRedisURLError) as caught:
            make()
        error = caught.value
        assert isinstance(error, RedisOpenAIAgentsError) and isinstance(error, ValueError)
        for scheme in ("redis://", "rediss://", "unix://"):
            assert scheme in str(error)
        assert "hunter2" not in str(error)


def test_a_bare_host_and_port_gets_the_url_it_meant() -> None:
    with pytest.raises(InvalidRedisURLError, match="'redis://localhost:7301'"):
        AgentSession("c", user_id="u", redis_url="localhost:7301")


def test_a_wrong_redis_url_in_the_environment_is_reported_as_such(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDIS_URL", "http://localhost:6379")
    with pytest.raises(InvalidRedisURLError, match=r"\$REDIS_URL"):
        JSONSession("s")


def test_nothing_listening_locally_says_how_to_get_a_redis() -> None:
    url = f"redis://localhost:{free_port()}"
    with pytest.raises(RedisUnavailableError) as caught:
        AgentSession.create(user_id="u", redis_url=url)
    message = str(caught.value)
    for way in ("docker compose up -d", "make redis", "[embedded]"):
        assert way in message


@pytest.fixture(scope="module")
def password_server() -> Iterator[str]:
    """A private server that requires a password (the shared one must stay open)."""
    with EmbeddedRedis() as server:
        redis.Redis.from_url(server.url).config_set("requirepass", "s3cret")
        try:
            yield server.url
        finally:
            redis.Redis.from_url(server.url, password="s3cret").config_set("requirepass", "")


def assert_plain_authentication_error(error: BaseException) -> None:
    assert isinstance(error, RedisAuthenticationError)
    assert isinstance(error, RedisUnavailableError)  # callers that catch the broader one
    message = str(error)
    assert "authentication failed" in message
    for word in PROTOCOL_WORDS:
        assert word not in message, message
    assert "s3cret" not in message and "wrong" not in message


def test_a_missing_password_says_authentication_failed_and_where_it_goes(
    password_server: str,
) -> None:
    with pytest.raises(RedisAuthenticationError) as caught:
        AgentSession.create(user_id="u", redis_url=password_server)
    assert_plain_authentication_error(caught.value)
    assert "redis://:PASSWORD@" in str(caught.value)


async def test_a_wrong_password_says_authentication_failed(password_server: str) -> None:
    url = password_server.replace("redis://", "redis://:wrong@")
    with pytest.raises(RedisAuthenticationError) as caught:
        await JSONSession("s", redis_url=url).set("k", 1)
    assert_plain_authentication_error(caught.value)
    assert "refused the user name or password" in str(caught.value)


def test_the_right_password_works(password_server: str) -> None:
    url = password_server.replace("redis://", "redis://:s3cret@")
    session = AgentSession.create(user_id="u", redis_url=url)
    assert AgentSession.list_sessions(user_id="u", redis_url=url)[0].conversation_id == (
        session.conversation_id
    )
    session.clear()
    session.close()


@pytest.mark.parametrize(
    "notebook", sorted(p.name for p in (ROOT / "notebooks").glob("[0-9]*.ipynb"))
)
def test_a_notebook_without_redis_fails_first_with_the_librarys_error(
    notebook: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No Redis at REDIS_URL: the first failing cell raises the library's error, not redis-py's."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import run_guide
    finally:
        sys.path.pop(0)
    monkeypatch.setenv("REDIS_URL", f"redis://localhost:{free_port()}")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    shown: list[str] = []
    _, failure = run_guide.run_notebook(ROOT / "notebooks" / notebook, 60, False, shown.append)
    assert failure is not None and failure.endswith("raised RedisUnavailableError"), failure
    assert any("make redis" in line for line in shown), shown
