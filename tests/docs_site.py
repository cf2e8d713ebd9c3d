"""One strict build of the documentation site, shared by the tests that read it.

`tests/test_docs.py` (pages, links, search index), `tests/test_site.py` (sitemap) and
`tests/test_docs_browser.py` (headless Chromium) all look at the same files, so the run
builds them once (the `built_docs` fixture of `tests/conftest.py`).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Material 9.8 prints an end-of-life banner for MkDocs 2 on every build; Python's own
# deprecation notices are not warnings of the site.
BUILD_ENV = {"NO_MKDOCS_2_WARNING": "1", "PYTHONWARNINGS": "ignore::DeprecationWarning"}


@dataclass(frozen=True)
class BuiltSite:
    """The site as `mkdocs build --strict` wrote it, and what the build printed."""

    path: Path
    log: str


class SiteBuildError(Exception):
    """mkdocs is missing or the strict build failed."""


def build_site(out: Path) -> BuiltSite:
    """`mkdocs build --strict` of the repository's docs into `out`."""
    if importlib.util.find_spec("mkdocs") is None:
        raise SiteBuildError(
            "mkdocs is not installed: install the docs toolchain "
            "(pip install -r requirements-docs.txt, or pip install --group docs)"
        )
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env={**os.environ, **BUILD_ENV},
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise SiteBuildError(f"mkdocs build --strict failed:\n{log[-6000:]}")
    return BuiltSite(out, log)
