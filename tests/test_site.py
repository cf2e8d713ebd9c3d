"""The published documentation site: its address, its sitemap and the links to it."""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from docs_site import BuiltSite

REPO = Path(__file__).resolve().parents[1]
SITEMAP_NS = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}


class _Loader(yaml.SafeLoader):
    """mkdocs.yml names Python objects (`!!python/name:`); their names are enough here."""


_Loader.add_multi_constructor("tag:yaml.org,2002:python/", lambda loader, suffix, node: suffix)


def _config() -> dict[str, object]:
    loaded = yaml.load((REPO / "mkdocs.yml").read_text(), Loader=_Loader)
    assert isinstance(loaded, dict)
    return loaded


def _pages_url() -> str:
    """https://OWNER.github.io/NAME/ for repo_url https://github.com/OWNER/NAME."""
    owner, name = urlsplit(str(_config()["repo_url"])).path.strip("/").split("/")
    return f"https://{owner.lower()}.github.io/{name}/"


@pytest.fixture(scope="module")
def site(request: pytest.FixtureRequest) -> Path:
    given = os.environ.get("DOCS_SITE_DIR")
    if given:
        return Path(given)
    built: BuiltSite = request.getfixturevalue("built_docs")
    return built.path


def test_site_url_is_the_github_pages_of_the_repository() -> None:
    assert _config()["site_url"] == _pages_url()


def test_sitemap_lists_every_page_at_the_published_address(site: Path) -> None:
    tree = ET.parse(site / "sitemap.xml")
    locations = [loc.text or "" for loc in tree.getroot().iterfind("s:url/s:loc", SITEMAP_NS)]
    base = _pages_url()
    pages = {
        base + str(page.parent.relative_to(site)).removeprefix(".") + "/"
        for page in site.rglob("index.html")
        if page.parent != site / "search" and page.parent.name != "404"
    }
    pages = {page.replace(base + "/", base) for page in pages}
    assert len(locations) >= 8
    assert set(locations) == pages
    home = (site / "index.html").read_text()
    assert f'<link rel="canonical" href="{base}">' in home


def test_readme_and_home_page_link_the_hosted_docs() -> None:
    base = _pages_url()
    assert base in (REPO / "README.md").read_text()
    assert base in (REPO / "docs" / "index.md").read_text()


def test_guide_page_says_where_its_outputs_come_from() -> None:
    text = (REPO / "docs" / "guide" / "index.md").read_text()
    assert "make notebooks" in text
    assert re.search(r"Redis 8", text)
    assert "nbval" in text
    assert "what CI produced" not in text
