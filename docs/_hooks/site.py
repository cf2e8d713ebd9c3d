"""MkDocs hooks for this site (listed under `hooks:` in mkdocs.yml; not published).

- The Guide section lists every `notebooks/[0-9]*.ipynb` in file-name order, so a new
  notebook appears on the site without touching mkdocs.yml, and the guide's index page
  gets a generated list of the notebooks with their first paragraph.
- Notebook pages get "edit" links to `notebooks/<name>.ipynb`, the real file behind the
  `docs/notebooks` symlink.
- Notebook pages get a table of contents read from their rendered headings, and links
  between notebooks (`02_x.ipynb`) lead to the published pages.
- The Benchmarks page shows `benchmarks/results.md` and the images beside it when they
  exist, and says how to produce them when they do not, so the strict build never depends
  on them.
"""

from __future__ import annotations

import html
import json
import logging
import re
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.structure.toc import get_toc

log = logging.getLogger("mkdocs.hooks.site")

GUIDE_SECTION = "Guide"
NOTEBOOK_GLOB = "[0-9]*.ipynb"
NOTEBOOK_LIST_MARKER = "<!-- notebook-list -->"
BENCHMARK_MARKER = "<!-- benchmark-results -->"
BENCHMARK_IMAGES = ("*.png", "*.svg", "*.jpg", "*.jpeg", "*.webp")


def _root(config: MkDocsConfig) -> Path:
    return Path(config.config_file_path).resolve().parent


def _notebooks(config: MkDocsConfig) -> list[Path]:
    folder = Path(config.docs_dir) / "notebooks"
    return sorted(folder.glob(NOTEBOOK_GLOB)) if folder.is_dir() else []


def _cell_text(cell: dict[str, Any]) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def notebook_summary(path: Path) -> tuple[str, str]:
    """The notebook's first `# Title` and the first paragraph after it."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8")).get("cells", [])
    except (OSError, ValueError):
        return path.stem, ""
    title, summary = "", ""
    for cell in cells:
        if cell.get("cell_type") != "markdown":
            continue
        for block in re.split(r"\n\s*\n", _cell_text(cell)):
            block = block.strip()
            if not block:
                continue
            heading = re.match(r"^#\s+(.+)$", block.splitlines()[0])
            if not title and heading:
                title = heading.group(1).strip()
                rest = "\n".join(block.splitlines()[1:]).strip()
                if rest and not rest.startswith("#"):
                    summary = rest
            elif title and not summary and not block.startswith(("#", "```", "|", "<", "!", "-")):
                summary = block
            if title and summary:
                break
        if title and summary:
            break
    return title or path.stem.replace("_", " "), " ".join(summary.split())


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    notebooks = [f"notebooks/{path.name}" for path in _notebooks(config)]
    for entry in config.nav or []:
        if isinstance(entry, dict) and GUIDE_SECTION in entry:
            section = entry[GUIDE_SECTION]
            known = {
                item if isinstance(item, str) else next(iter(item.values())) for item in section
            }
            section.extend(nb for nb in notebooks if nb not in known)
            break
    else:
        log.warning("mkdocs.yml has no '%s' section for the notebooks", GUIDE_SECTION)
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    bench = _root(config) / "benchmarks"
    for pattern in BENCHMARK_IMAGES:
        for image in sorted(bench.glob(pattern)) if bench.is_dir() else []:
            uri = f"benchmarks/{image.name}"
            if files.get_file_from_path(uri) is None:
                files.append(File.generated(config, uri, abs_src_path=str(image)))
    return files


def _guide_table(page: Page, config: MkDocsConfig) -> str:
    notebooks = _notebooks(config)
    if not notebooks:
        return (
            '!!! info "No notebooks yet"\n\n'
            "    The guide's notebooks (`notebooks/01_*.ipynb`, ...) appear here as soon as "
            "they are committed.\n"
        )
    items = []
    for path in notebooks:
        title, summary = notebook_summary(path)
        item = f"1. **[{title}](../notebooks/{path.name})**"
        if summary:
            item += f"\n\n    {summary}"
        items.append(item)
    return "\n\n".join(items) + "\n"


# Status marks drawn as the theme's own SVG icons: an emoji needs an emoji font, and
# without one a reader sees an empty box.
_STATUS_ICONS = {
    "\u2705": ':material-check-circle:{ .status-pass title="within budget" }',
    "\u274c": ':material-close-circle:{ .status-fail title="over budget" }',
}


def _without_emoji(text: str) -> str:
    for emoji, icon in _STATUS_ICONS.items():
        text = text.replace(emoji, icon)
    return text


def _benchmark_results(config: MkDocsConfig) -> str:
    bench = _root(config) / "benchmarks"
    results = bench / "results.md"
    parts: list[str] = []
    text = ""
    if results.is_file():
        text = results.read_text(encoding="utf-8")
        # results.md usually starts with its own title; this page already has one.
        text = re.sub(r"\A\s*#\s+[^\n]*\n", "", text)
        parts.append(_without_emoji(text))
    images = [p for pattern in BENCHMARK_IMAGES for p in sorted(bench.glob(pattern))]
    images = [p for p in images if p.name not in text] if bench.is_dir() else []
    for image in images:
        alt = image.stem.replace("_", " ").replace("-", " ")
        parts.append(f"![{alt}]({image.name})\n")
    if not parts:
        return (
            '!!! info "No results committed yet"\n\n'
            "    `make bench` runs the benchmarks and writes `benchmarks/results.md` and "
            "`benchmarks/latency.png`; this page shows them once they are committed.\n"
        )
    return "\n".join(parts)


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    if NOTEBOOK_LIST_MARKER in markdown:
        markdown = markdown.replace(NOTEBOOK_LIST_MARKER, _guide_table(page, config))
    if BENCHMARK_MARKER in markdown:
        markdown = markdown.replace(BENCHMARK_MARKER, _benchmark_results(config))
    return markdown


def _is_notebook(page: Page) -> bool:
    return page.file.src_uri.startswith("notebooks/") and page.file.src_uri.endswith(".ipynb")


_HEADING = re.compile(r'<h([1-6])\s+id="([^"]*)"[^>]*>(.*?)</h\1>', re.DOTALL)
_TAGS = re.compile(r"<[^>]+>")


def _heading_text(inner: str) -> str:
    inner = re.sub(r'<a class="anchor-link".*?</a>', "", inner, flags=re.DOTALL)
    return " ".join(html.unescape(_TAGS.sub("", inner)).replace("\u00b6", "").split())


def _link_notebooks(html_text: str, config: MkDocsConfig) -> str:
    """Point links between notebooks (`02_x.ipynb#Anchor`, right in Jupyter and on GitHub)
    at the published pages (`../02_x/#Anchor`)."""
    published = {path.name for path in _notebooks(config)}

    def fix(match: re.Match[str]) -> str:
        name, anchor = match.group(2), match.group(3) or ""
        if name not in published:
            return match.group(0)
        return f'{match.group(1)}"../{name[: -len(".ipynb")]}/{anchor}"'

    return re.sub(r'(href=)"(?:\./)?([^"/#]+\.ipynb)(#[^"]*)?"', fix, html_text)


# Parts of a rendered notebook that are chrome, not content: the `In [n]:` prompts, the copy
# button with its hidden "Copied!" notice, and the hidden copy of each cell's code that the
# button copies (the visible code is indexed already).
_SEARCH_CHROME = re.compile(
    r'<div class="(jp-InputPrompt|jp-OutputPrompt|zeroclipboard-container|clipboard-copy-txt)\b'
)


def _keep_chrome_out_of_search(html_text: str) -> str:
    """Mark notebook chrome `data-search-exclude`, which Material's search index skips."""
    return _SEARCH_CHROME.sub(r'<div data-search-exclude class="\1', html_text)


def on_page_content(html_text: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Rebuild a notebook page's table of contents from the headings it really has.

    mkdocs-jupyter derives the table of contents from a Markdown rendering of the notebook:
    its entries link to ids (`creating-a-session`) that nbconvert's HTML does not use
    (`Creating-a-Session`), and it drops inline code from titles ("Creating a" for
    "Creating a `Session`"). Reading the headings back from the HTML fixes both.
    """
    if not _is_notebook(page):
        return html_text
    html_text = _keep_chrome_out_of_search(_link_notebooks(html_text, config))
    depth = config.mdx_configs.get("toc", {}).get("toc_depth", 3)
    tokens: list[dict[str, Any]] = []
    stack: list[dict[str, Any]] = []
    for match in _HEADING.finditer(html_text):
        level, anchor, inner = int(match.group(1)), match.group(2), match.group(3)
        if level > int(depth):
            continue
        token = {
            "level": level,
            "id": anchor,
            "name": html.escape(_heading_text(inner)),
            "children": [],
        }
        while stack and stack[-1]["level"] >= level:
            stack.pop()
        (stack[-1]["children"] if stack else tokens).append(token)
        stack.append(token)
    page.toc = get_toc(tokens)
    return html_text


def on_page_context(context: dict[str, Any], page: Page, config: MkDocsConfig, nav: Any) -> Any:
    if _is_notebook(page) and config.repo_url:
        name = page.file.src_uri.split("/", 1)[1]
        page.edit_url = f"{config.repo_url.rstrip('/')}/edit/main/notebooks/{name}"
    return context
