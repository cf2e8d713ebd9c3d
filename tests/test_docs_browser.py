"""The documentation site in a real browser: headless Chromium driven by playwright-core.

The site is built (`mkdocs build --strict`, or the folder in `$DOCS_SITE_DIR`), served with
`python -m http.server` on a free loopback port, and checked by
`scripts/browser/check.mjs`, which asserts that

- every page reachable from the home page loads without JavaScript errors, and no page has
  a broken internal link, anchor or image, an empty or dangling table-of-contents entry,
  two copy buttons on one code block, a code block whose code is cut off or covered by its
  copy button (measured word by word, notebook cells included), or an emoji that needs an
  emoji font to be seen;
- nothing the pages show comes from another server: every script and style (Mermaid too)
  is served by the site itself;
- the home page renders (title, code blocks with copy buttons, navigation tabs, the
  light/dark toggle, the edit-on-repository button) and turns dark in a dark-preferring
  browser;
- every notebook page shows its cells and their outputs, has a download button and no
  cell-tag badges;
- the API reference is one page per class, with an entry for every public name; `create`,
  `load`, `list_sessions` and `list_conversations` (and their async twins) show their
  options and a Parameters section, and no signature hides them in `**options`;
- the home page's output block shows whole output, not a lone "…" for its first line;
- the Mermaid diagram on the concepts page renders;
- Material's client-side search finds the API entry of `list_sessions`, and its results for
  notebook text carry no "In [n]:" prompts or "Copied!" notices.

Screenshots (light and dark home, notebook, API and concepts pages, search) are written to
`$DOCS_SCREENSHOTS` (default: a temporary folder, printed in the test output).

Needs Node.js 20+, Debian's `chromium` (or `$CHROMIUM`), and `npm ci --prefix
scripts/browser`. Missing any of them fails the test; it is skipped only when
`SKIP_BROWSER_TESTS=1` is set.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from docs_site import BuiltSite

import redis_openai_agents

ROOT = Path(__file__).resolve().parent.parent
BROWSER_DIR = ROOT / "scripts" / "browser"
API_DOCS = ROOT / "docs" / "api"
CHECK = BROWSER_DIR / "check.mjs"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9]*.ipynb"))

pytestmark = pytest.mark.skipif(
    os.environ.get("SKIP_BROWSER_TESTS") == "1",
    reason="SKIP_BROWSER_TESTS=1: the browser check of the documentation site was skipped",
)


def _chromium() -> str:
    configured = os.environ.get("CHROMIUM")
    candidates = (
        [configured] if configured else ["/usr/bin/chromium", "chromium", "chromium-browser"]
    )
    for candidate in candidates:
        found = shutil.which(candidate) if candidate else None
        if found:
            return found
    pytest.fail(
        "Chromium not found (looked for "
        + ", ".join(c for c in candidates if c)
        + "): install Debian's package with `apt-get install -y chromium`, or set CHROMIUM; "
        "SKIP_BROWSER_TESTS=1 skips this test"
    )


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail(
            "Node.js not found: install it (`apt-get install -y nodejs npm`); "
            "SKIP_BROWSER_TESTS=1 skips this test"
        )
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0]) < 20:
        pytest.fail(f"Node.js {version} is too old for playwright-core: 20 or newer is needed")
    if not (BROWSER_DIR / "node_modules" / "playwright-core").is_dir():
        pytest.fail(
            "playwright-core is not installed: run `npm ci --prefix scripts/browser`; "
            "SKIP_BROWSER_TESTS=1 skips this test"
        )
    return node


@pytest.fixture(scope="module")
def built_site(request: pytest.FixtureRequest) -> Path:
    given = os.environ.get("DOCS_SITE_DIR")
    if given:
        site = Path(given).resolve()
        assert (site / "index.html").is_file(), f"DOCS_SITE_DIR={given} holds no built site"
        return site
    built: BuiltSite = request.getfixturevalue("built_docs")
    return built.path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def served_site(built_site: Path) -> Iterator[str]:
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(port),
            "--bind",
            "127.0.0.1",
            "--directory",
            str(built_site),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"python -m http.server did not serve {built_site} on port {port}")
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


def test_site_in_headless_chromium(
    served_site: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    chromium = _chromium()
    node = _node()
    shots = Path(os.environ.get("DOCS_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    command = [node, str(CHECK), "--base", served_site, "--chromium", chromium, "--out", str(shots)]
    for name in [*redis_openai_agents.__all__, "AgentSession.list_sessions", "JSONSession.get_all"]:
        command += ["--expect-api", name]
    for notebook in NOTEBOOKS:
        command += ["--expect-notebook", f"notebooks/{notebook.stem}/"]
    proc = subprocess.run(command, cwd=BROWSER_DIR, capture_output=True, text=True, timeout=900)
    print(f"screenshots: {shots}")
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        pytest.fail(
            f"check.mjs exited {proc.returncode} without a report:\n"
            f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        )
    if proc.returncode == 2:
        pytest.fail(f"Chromium could not be started: {report.get('error')}")
    assert "error" not in report, f"check.mjs crashed: {report['error']}"
    assert not report["failures"], "the site has problems:\n" + "\n".join(report["failures"])
    assert proc.returncode == 0, proc.stderr[-3000:]

    assert report["home"]["h1"] == "Redis OpenAI Agents"
    assert report["home"]["copyButtons"] >= report["home"]["codeBlocks"] > 0
    assert report["search"]["apiHit"], report["search"]
    assert report["api"]["missing"] == []
    api_pages = {f"api/{'' if p.stem == 'index' else p.stem + '/'}" for p in API_DOCS.glob("*.md")}
    assert set(report["api"]["heights"]) == api_pages, report["api"]
    assert report["codeBlocksChecked"] > 50, report["codeBlocksChecked"]
    assert report["notebookSearch"]["notebookHits"] > 0, report["notebookSearch"]
    assert report["home"]["outputFirstLines"], report["home"]
    assert not any("unpkg" in url or "mermaid" in url for url in report["externalRequestsBlocked"])
    assert report["mermaid"]["height"] > 100
    assert len(report["notebooks"]) == len(NOTEBOOKS)
    for path, info in report["notebooks"].items():
        assert info["cells"] > 0 and info["visibleOutputs"] > 0, (path, info)
        assert info["download"] == 1, (path, info)
    pages = set(report["pages"])
    for expected in (
        "",
        "installation/",
        "guide/",
        "concepts/",
        "comparison/",
        "api/",
        "api/agent-session/",
        "api/json-session/",
        "api/session-info/",
        "api/errors/",
        "api/helpers/",
        "benchmarks/",
    ):
        assert served_site + expected in pages, (
            f"{expected or 'home'} page not reached from the home page"
        )
    for notebook in NOTEBOOKS:
        assert f"{served_site}notebooks/{notebook.stem}/" in pages
