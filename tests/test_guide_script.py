"""The guide as a plain program: `examples/session_management.py`, run the way a reader runs it.

Pasting the guide's notebook code into a `.py` file fails on its top-level `await`; the example
holds the same code in `async def` functions run by `asyncio.run`. This runs it in a fresh
interpreter without an OpenAI key against the test Redis, and checks that it carries every
line of the guide's code, continues the conversation from Redis, and leaves nothing behind.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import redis
from test_notebooks import guide_lines, normalized

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "session_management.py"


def test_the_example_holds_every_line_of_the_guides_code() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    lines = {normalized(line) for line in text.splitlines()}
    missing = [line for line in guide_lines("code") if line not in lines]
    assert not missing, "guide code lines missing from the example:\n" + "\n".join(missing)
    assert "asyncio.run(main())" in text
    assert not any(line.startswith("await ") for line in text.splitlines()), "top-level await"


def test_the_example_runs_as_a_script(redis_url: str, r: redis.Redis) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    env["REDIS_URL"] = redis_url
    run = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        cwd=ROOT / "examples",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "Agent response: Your name is Alice and you live in Seattle." in out
    assert "Theme: dark" in out
    assert out.rstrip().endswith("Sessions cleaned up!")

    created = re.search(r"^Session created: (\w+)$", out, re.M)
    tenant = re.search(r"^Tenant session for (\S+): (\w+)$", out, re.M)
    assert created and tenant
    left = [
        *r.scan_iter(match=f"roa:*{{user_123}}:{created.group(1)}*"),
        *r.scan_iter(match=f"roa:*{{{tenant.group(1)}}}:{tenant.group(2)}*"),
        *r.scan_iter(match="roa:json:{complex-session-1}"),
    ]
    assert not left, left
    assert r.zscore("roa:user:{user_123}", created.group(1)) is None
