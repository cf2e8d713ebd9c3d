"""The guide's notebooks on a Redis that already holds data under the guide's own ids.

A reader's Redis is rarely empty: the README's example leaves a conversation of `user_123`
with a one-hour TTL, an interrupted notebook leaves its sessions, and `complex-session-1` may
hold a document of the reader's own. The notebooks keep the guide's ids, so each of them must
look only at what it created and remove only what it wrote. This test seeds such data, runs
every notebook twice in a row (`scripts/run_guide.py`, fresh kernels, as `make guide` does) and
checks that both runs pass and that the seeded conversations are untouched. The one exception
is the guide's own cleanup line `await json_session.clear()`, which deletes the
`complex-session-1` document whatever it held.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from redis_openai_agents import AgentSession, JSONSession
from redis_openai_agents._bridge import run_sync

ROOT = Path(__file__).resolve().parents[1]
RUN_GUIDE = ROOT / "scripts" / "run_guide.py"
GUIDE_USER = "user_123"
TENANT_USER = "tenant_acme:user_42"
GUIDE_DOCUMENT = "complex-session-1"
RUNS = 2


def user_keys(r: redis.Redis, user_id: str) -> set[str]:
    return set(r.scan_iter(match=f"roa:*{{{user_id}}}*", count=1000))


@pytest.fixture
def seeded(redis_url: str, r: redis.Redis) -> Iterator[list[AgentSession]]:
    """Conversations under the guide's users, as the README and earlier runs leave them."""
    readme = AgentSession.create(user_id=GUIDE_USER, redis_url=redis_url, ttl=3600)
    readme.store_exchange("My name is Alice and I live in Seattle.", "Hello Alice!")
    readme.store_exchange("Where do I live?", "In Seattle.")
    # An id the guide uses for a JSONSession, here naming a conversation without a TTL.
    clash = AgentSession.create(
        user_id=GUIDE_USER, redis_url=redis_url, conversation_id=GUIDE_DOCUMENT
    )
    clash.store_exchange("Keep this forever.", "Kept.")
    tenant = AgentSession.create(user_id=TENANT_USER, redis_url=redis_url, ttl=86400)
    tenant.add_message("user", "A tenant's own conversation.")
    document = JSONSession(session_id=GUIDE_DOCUMENT, redis_url=redis_url)
    run_sync(document.set("cart", {"items": ["milk"], "total": 1}))
    sessions = [readme, clash, tenant]
    try:
        yield sessions
    finally:
        for session in sessions:
            session.clear()
            session.close()
        run_sync(document.clear())
        run_sync(document.aclose())


def run_guide(redis_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    env["REDIS_URL"] = redis_url
    return subprocess.run(
        [sys.executable, str(RUN_GUIDE), "--no-code"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_notebooks_pass_twice_on_a_redis_holding_the_guides_ids(
    redis_url: str, r: redis.Redis, seeded: list[AgentSession]
) -> None:
    readme, clash, tenant = seeded
    before = {user: user_keys(r, user) for user in (GUIDE_USER, TENANT_USER)}
    listed_before = set(r.zrange(f"roa:user:{{{GUIDE_USER}}}", 0, -1))
    counts_before = [session.message_count() for session in seeded]
    assert r.exists(f"roa:json:{{{GUIDE_DOCUMENT}}}")

    for attempt in range(1, RUNS + 1):
        run = run_guide(redis_url)
        assert run.returncode == 0, f"run {attempt}:\n{run.stdout[-6000:]}\n{run.stderr[-2000:]}"
        assert "all passed" in run.stdout
        # The listing shows the seeded conversations beside the notebook's own.
        assert f"Found {len(listed_before) + 1} sessions for user_123" in run.stdout

        # The seeded conversations are exactly as they were; nothing of the notebooks is left.
        after = {user: user_keys(r, user) for user in (GUIDE_USER, TENANT_USER)}
        assert after == before, f"run {attempt} changed the users' keys"
        assert set(r.zrange(f"roa:user:{{{GUIDE_USER}}}", 0, -1)) == listed_before
        assert [session.message_count() for session in seeded] == counts_before
        assert 3000 < r.ttl(f"roa:conv:{{{GUIDE_USER}}}:{readme.conversation_id}") <= 3600
        assert r.ttl(f"roa:conv:{{{GUIDE_USER}}}:{GUIDE_DOCUMENT}") == -1
        # The guide's own `await json_session.clear()` removed the document it shares an id with.
        assert not r.exists(f"roa:json:{{{GUIDE_DOCUMENT}}}")
        assert clash.get_messages()[0]["content"] == "Keep this forever."
        assert tenant.get_messages()[0]["content"] == "A tenant's own conversation."
