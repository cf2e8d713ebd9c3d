"""The README's first example, run exactly as shown by someone without an OpenAI key.

It is the first code a new user copies. Run in a fresh interpreter against the test Redis,
with `OPENAI_API_KEY` unset, it must finish and print the answer from the stored
conversation. The conversation it leaves (it has a one-hour TTL, as in the README) is removed
afterwards so the other tests see the Redis they expect.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import redis

from redis_openai_agents import AgentSession

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
USER_LIST = "roa:user:{user_123}"


def first_python_block() -> str:
    match = re.search(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.M | re.S)
    assert match, "README.md has no ```python block"
    return match.group(1)


def test_the_readme_says_what_its_example_needs_before_it() -> None:
    text = README.read_text(encoding="utf-8")
    before = text[: text.index("```python")]
    assert "OPENAI_API_KEY" in before and "Redis" in before


def test_the_readme_example_runs_as_shown_without_an_openai_key(
    redis_url: str, r: redis.Redis, tmp_path: Path
) -> None:
    script = tmp_path / "readme_example.py"
    script.write_text(first_python_block(), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    env["REDIS_URL"] = redis_url
    before = set(r.zrange(USER_LIST, 0, -1))
    try:
        run = subprocess.run(
            [sys.executable, str(script)],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        for conversation_id in set(r.zrange(USER_LIST, 0, -1)) - before:
            AgentSession(conversation_id, user_id="user_123", redis_url=redis_url).clear()
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert "Seattle" in run.stdout
    assert "'My name is Alice and I live in Seattle.', 4 messages" in run.stdout
