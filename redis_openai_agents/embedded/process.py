"""Start one `redis-server` process with given arguments, wait for it, and stop it.

The reusable core of the embedded servers: a single server, a cluster node or a Sentinel is
one such process, with its own folder (data and `redis.log`) deleted when it stops.
"""

from __future__ import annotations

import ctypes
import functools
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from .binaries import ServerBuild
from .errors import ServerStartError

__all__ = [
    "HOST",
    "LOG_NAME",
    "PortTakenError",
    "die_with_parent",
    "free_port",
    "log_tail",
    "server_pid",
    "shutdown",
    "spawn",
    "wait_ready",
]

HOST = "127.0.0.1"
LOG_NAME = "redis.log"
_PR_SET_PDEATHSIG = 1


class PortTakenError(Exception):
    """Another process took the picked port before redis-server bound it."""


def spawn(build: ServerBuild, args: Sequence[str], workdir: Path) -> subprocess.Popen[bytes]:
    """Start `build.server` with `args` in `workdir`, its output going to `redis.log` there.

    The process gets a session of its own (a terminal's Ctrl-C reaches only its owner, which
    stops it in order) and, from the main thread, dies with the Python process.
    """
    with (workdir / LOG_NAME).open("wb") as log:
        return subprocess.Popen(
            [str(build.server), *args],
            cwd=workdir,
            env=build.environment(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=die_with_parent(),
        )


def wait_ready(
    process: subprocess.Popen[bytes],
    port: int,
    workdir: Path,
    timeout: float,
    *,
    port_was_picked: bool,
) -> None:
    """Return once `process` answers on `port` as itself.

    Raises `PortTakenError` when a picked port turned out to be taken (pick another and
    retry), and `ServerStartError` when the server exits or stays silent for `timeout` s.
    """
    deadline = time.monotonic() + timeout
    while True:
        code = process.poll()
        if code is not None:
            log = log_tail(workdir)
            if "Address already in use" in log and port_was_picked:
                raise PortTakenError
            raise ServerStartError(f"redis-server exited with code {code} during startup:\n{log}")
        pid = server_pid(port)
        if pid == process.pid:
            return
        if pid is not None and port_was_picked:
            raise PortTakenError
        if time.monotonic() > deadline:
            raise ServerStartError(
                f"redis-server did not answer on {HOST}:{port} within {timeout:g} s:\n"
                + log_tail(workdir)
            )
        time.sleep(0.02)


def free_port() -> int:
    """A port on the loopback address that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def server_pid(port: int) -> int | None:
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


def die_with_parent() -> Callable[[], None] | None:
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


def shutdown(process: subprocess.Popen[bytes], workdir: Path) -> None:
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


def log_tail(workdir: Path, lines: int = 20) -> str:
    """The last lines of the server's `redis.log`, for error messages."""
    try:
        text = (workdir / LOG_NAME).read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.strip().splitlines()[-lines:])
