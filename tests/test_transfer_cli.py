"""`python -m redis_openai_agents`: imports, export, erase and its errors, against Redis."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from agents import SQLiteSession

from redis_openai_agents import AgentSession
from redis_openai_agents.__main__ import main


def sdk_database(path: Path) -> Path:
    async def write() -> None:
        for n in range(3):
            session = SQLiteSession(f"s{n}", path)
            await session.add_items(
                [
                    {"role": "user", "content": f"question {n}"},
                    {"role": "assistant", "content": "ok"},
                ]
            )
            session.close()

    asyncio.run(write())
    return path


def test_help_names_every_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "redis_openai_agents", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for word in ("import", "export", "erase", "$REDIS_URL"):
        assert word in done.stdout
    sources = subprocess.run(
        [sys.executable, "-m", "redis_openai_agents", "import", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for source in ("sqlite", "redis-session", "v0.1", "jsonl"):
        assert source in sources.stdout


def test_import_export_erase_from_the_shell(
    tmp_path: Path,
    redis_url: str,
    prefix: str,
    user_id: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = ["--redis-url", redis_url, "--prefix", prefix]
    db = sdk_database(tmp_path / "sdk.db")
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["import", "sqlite", str(db), "--user", user_id, *target]) == 0
    out, err = capsys.readouterr()
    assert "3 conversations read: 3 created, 0 resumed, 0 already complete; 6 items written" in out
    assert "6.00item [" in err  # the progress bar's last state

    assert main(["import", "sqlite", str(db), "--user", user_id, "--no-progress", *target]) == 0
    assert "0 created, 0 resumed, 3 already complete; 0 items written" in capsys.readouterr().out

    export = tmp_path / "out.jsonl"
    assert main(["export", "--user", user_id, "-o", str(export), "--no-progress", *target]) == 0
    assert "exported 3 conversations" in capsys.readouterr().err
    lines = [json.loads(line) for line in export.read_text(encoding="utf-8").splitlines()]
    assert sorted(line["conversation_id"] for line in lines) == ["s0", "s1", "s2"]

    copy = f"{user_id}-copy"
    assert main(["import", "jsonl", str(export), "--user", copy, "--no-progress", *target]) == 0
    assert "3 created" in capsys.readouterr().out
    loaded = AgentSession.load(
        conversation_id="s1", user_id=copy, redis_url=redis_url, prefix=prefix
    )
    assert loaded.to_agent_inputs() == [
        {"role": "user", "content": "question 1"},
        {"role": "assistant", "content": "ok"},
    ]
    loaded.close()

    assert main(["erase", "--user", user_id, *target]) == 1
    assert "pass --yes" in capsys.readouterr().out
    assert len(AgentSession.list_sessions(user_id=user_id, redis_url=redis_url, prefix=prefix)) == 3
    assert main(["erase", "--user", user_id, "--yes", *target]) == 0
    assert "erased 3 conversations, 6 items, 0 JSON sessions" in capsys.readouterr().out
    assert AgentSession.list_sessions(user_id=user_id, redis_url=redis_url, prefix=prefix) == []
    assert len(AgentSession.list_sessions(user_id=copy, redis_url=redis_url, prefix=prefix)) == 3


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["import", "sqlite", "/nonexistent/sdk.db", "--user", "u"],
            "no such SQLite database file",
        ),
        (["import", "jsonl", "/nonexistent/x.jsonl"], "no such file"),
        (["export", "--user", "u", "--redis-url", "redis://127.0.0.1:1"], "Cannot reach Redis"),
        (["export", "--user", "u", "--redis-url", "localhost:6379"], "is not a Redis URL"),
        (["import", "v0.1", "--from-url", "redis://127.0.0.1:1", "--user", "u"], "Cannot reach"),
    ],
)
def test_wrong_files_and_urls_give_one_clear_line(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*arguments, "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err
    assert "Traceback" not in err


def test_every_command_line_in_the_docs_parses() -> None:
    import re
    import shlex

    from redis_openai_agents.__main__ import _parser

    root = Path(__file__).resolve().parent.parent
    text = "\n".join(p.read_text(encoding="utf-8") for p in (root / "docs").rglob("*.md"))
    text = text.replace("\\\n", " ")
    commands = re.findall(r"^\s*python -m redis_openai_agents (?!\.)(.+)$", text, re.M)
    assert len(commands) >= 6
    for command in commands:
        _parser().parse_args(shlex.split(command))


def test_export_to_stdout_and_import_from_stdin(
    redis_url: str,
    prefix: str,
    user_id: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    target = ["--redis-url", redis_url, "--prefix", prefix, "--no-progress"]
    session = AgentSession("piped", user_id=user_id, redis_url=redis_url, prefix=prefix)
    session.add_message("user", "through a pipe")
    session.close()
    assert main(["export", "--user", user_id, *target]) == 0
    exported = capsys.readouterr().out
    assert json.loads(exported)["items"] == [{"role": "user", "content": "through a pipe"}]

    monkeypatch.setattr(sys, "stdin", io.StringIO(exported))
    assert main(["import", "jsonl", "-", "--user", f"{user_id}-2", *target]) == 0
    assert "1 created" in capsys.readouterr().out
    copied = AgentSession("piped", user_id=f"{user_id}-2", redis_url=redis_url, prefix=prefix)
    assert copied.to_agent_inputs() == [{"role": "user", "content": "through a pipe"}]
    copied.close()
