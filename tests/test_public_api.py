"""The package's public names: every one imports from the top level, and the sessions are
imported on first use, so the embedded server's CLI starts without the Agents SDK."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import redis_openai_agents


def _fresh_interpreter(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_every_public_name_resolves_to_its_defining_object() -> None:
    for name in redis_openai_agents.__all__:
        value = getattr(redis_openai_agents, name)
        module = getattr(value, "__module__", None)
        if isinstance(module, str) and module.startswith("redis_openai_agents."):
            assert getattr(sys.modules[module], name) is value, name
    assert sorted(redis_openai_agents.__all__) == sorted(set(redis_openai_agents.__all__))
    assert set(redis_openai_agents.__all__) <= set(dir(redis_openai_agents))


def test_star_import_binds_every_public_name() -> None:
    namespace: dict[str, object] = {}
    exec("from redis_openai_agents import *", namespace)
    assert set(redis_openai_agents.__all__) <= set(namespace)
    assert namespace["AgentSession"] is redis_openai_agents.AgentSession


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'AgentSesion'"):
        _ = redis_openai_agents.AgentSesion  # type: ignore[attr-defined]
    with pytest.raises(ImportError, match="AgentSesion"):
        exec("from redis_openai_agents import AgentSesion", {})


def test_the_embedded_cli_and_the_errors_start_without_the_sdk() -> None:
    loaded = _fresh_interpreter(
        """
        import sys
        import redis_openai_agents.embedded
        from redis_openai_agents import RedisUnavailableError, DEFAULT_PREFIX
        print(sorted(m for m in ("agents", "openai", "redisvl") if m in sys.modules))
        """
    )
    assert loaded == "[]"


def test_a_session_is_imported_on_first_use() -> None:
    loaded = _fresh_interpreter(
        """
        import sys
        import redis_openai_agents
        before = "agents" in sys.modules
        session_class = redis_openai_agents.AgentSession
        cached = vars(redis_openai_agents).get("AgentSession") is session_class
        print(before, "agents" in sys.modules, cached)
        """
    )
    assert loaded == "False True True"
