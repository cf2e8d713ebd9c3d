"""Fixtures: every test talks to a real Redis with the Query Engine and JSON.

`REDIS_URL` names it (as `make test` arranges); without it, one embedded Redis (Redis 8
core, or Redis Stack with `REDIS_OPENAI_AGENTS_SERVER=stack`) is started for the whole run.
The report header names the server, with the versions it reports.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import redis
from docs_site import BuiltSite, SiteBuildError, build_site

from redis_openai_agents.offline import restore_default_model, use_offline_model

if TYPE_CHECKING:
    from redis_openai_agents.embedded import EmbeddedRedis


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get("REDIS_URL")
    if not url:
        return "redis: an embedded server started by the tests"
    from redis_openai_agents.embedded import describe_url

    try:
        return f"redis: {describe_url(url, socket_timeout=5)}"
    except redis.RedisError as exc:
        return f"redis: {url} did not answer ({exc})"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    url = os.environ.get("REDIS_URL")
    if url:
        yield url
        return
    from redis_openai_agents.embedded import EmbeddedRedis

    with EmbeddedRedis() as server:
        os.environ["REDIS_URL"] = server.url
        try:
            yield server.url
        finally:
            os.environ.pop("REDIS_URL", None)


@pytest.fixture
def private_server() -> Iterator[EmbeddedRedis]:
    """A Redis of this test's own, for tests that stop, freeze or reconfigure it."""
    from redis_openai_agents.embedded import EmbeddedRedis

    with EmbeddedRedis() as started:
        yield started


@pytest.fixture
def r(redis_url: str) -> Iterator[redis.Redis]:
    """A plain synchronous client for looking at what the sessions stored."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def prefix(r: redis.Redis) -> Iterator[str]:
    """A key prefix of this test's own, removed afterwards with its search index."""
    name = f"t{uuid.uuid4().hex[:10]}"
    yield name
    for key in r.scan_iter(f"{name}:*", count=1000):
        r.delete(key)
    with contextlib.suppress(redis.ResponseError):
        r.execute_command("FT.DROPINDEX", f"{name}:messages")


@pytest.fixture
def user_id() -> str:
    return f"user-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def offline_model() -> Iterator[None]:
    """Agents answer with the offline model for the duration of one test."""
    use_offline_model()
    yield
    restore_default_model()


@pytest.fixture(scope="session")
def built_docs(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    """The documentation site, built strictly once for every test that reads it."""
    try:
        return build_site(tmp_path_factory.mktemp("site"))
    except SiteBuildError as exc:
        pytest.fail(str(exc))
