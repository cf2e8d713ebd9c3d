"""Static checks of the guide notebooks in notebooks/: no Redis, no kernel.

`make test` also runs the notebooks under nbval, which re-executes them and compares each cell's
output with the committed one. These checks cover what nbval can't see:

- every notebook was executed top to bottom and committed with its outputs, none of them an
  error, a traceback, a warning on stderr, a machine path, an object address or a secret;
- no IPython magics or shell escapes (`%...`, `!...`): nbval lets a broken magic pass;
- nbval markers are cell tags, not `# NBVAL_*` comments that would show in the published page;
- the notebooks still mirror the guide (`tests/guide/session-management-guide.txt`, the
  guide's text as published, whose code lost its indentation): each of its code lines appears
  in a notebook code cell, its shell commands in a markdown code block, its headings in order;
  the guide's parts come first, one notebook each, titled after the part, and the notebooks
  after them say that they go beyond the guide;
- each notebook sets itself up (REDIS_URL from the environment, the offline model before any
  agent runs), meets the reader with the guide's setup code rather than with helpers, and ends
  by cleaning up and checking that nothing it wrote is left in Redis;
- notebooks/ holds only notebooks (it is what JupyterLab's file browser shows), and the
  library never imports the notebooks' inspection helper.
"""

from __future__ import annotations

import configparser
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
GUIDE = ROOT / "tests" / "guide" / "session-management-guide.txt"
SANITIZE = ROOT / "tests" / "guide" / "nbval-sanitize.cfg"
PACKAGE = ROOT / "redis_openai_agents"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9]*.ipynb"))

REDIS_URL_LINE = 'REDIS_URL = os.environ.get("REDIS_URL", "redis://localhost:6379")'
OFFLINE_CALL = "use_offline_model_if_no_api_key()"
CLEANUP_DONE = "Nothing left in Redis from this notebook."
CLEANUP_CHECK = "check_nothing_left("
HELPERS = "notebook_helpers"
# The guide's parts in its order; notebook N is titled "Part N: <part>".
GUIDE_PARTS = ("AgentSession", "JSONSession", "Best Practices")
BEYOND = "beyond the guide"
ALLOWED_TAGS = {"nbval-ignore-output", "nbval-skip", "raises-exception", "nbval-raises-exception"}
KERNELSPEC = {
    "display_name": "Python 3 (redis-openai-agents)",
    "language": "python",
    "name": "python3",
}

# Text that must never reach a committed (and published) output.
LEAKS = {
    "a machine path": re.compile(r"/(?:work|tmp|root|home|Users|private/var)/|site-packages"),
    "an object address": re.compile(r"\b0x[0-9a-fA-F]{6,}\b"),
    "a password in a URL": re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s/@:]*:(?!\*\*\*@)[^\s/@]+@"),
    "an OpenAI key": re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"),
    "a terminal escape code": re.compile(r"\x1b\["),
}
# A guide line is prose when it reads as a sentence: a capital letter first, words, and none of
# the characters Python code in the guide always has (calls, assignments, literals, comments).
PYTHON_MARKS = re.compile(r"""[=()\[\]{}"'#]""")
SHELL_COMMANDS = ("docker ", "pip ", "redis-server ", "redis-cli ")


def source(cell: dict[str, Any]) -> str:
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else str(text)


def load(path: Path) -> dict[str, Any]:
    notebook: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return notebook


def code_cells(notebook: dict[str, Any]) -> list[dict[str, Any]]:
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def output_text(output: dict[str, Any]) -> str:
    """Every piece of text an output carries, whatever its type."""
    parts: list[str] = []
    if "text" in output:
        parts.append("".join(output["text"]))
    for value in output.get("data", {}).values():
        parts.append("".join(value) if isinstance(value, list) else json.dumps(value))
    if output.get("output_type") == "error":
        parts += [str(output.get("ename")), str(output.get("evalue")), *output["traceback"]]
    return "\n".join(parts)


def normalized(line: str) -> str:
    """A line without its indentation, with runs of blanks as one space (formatters differ)."""
    return " ".join(line.split())


def classify(line: str) -> str | None:
    """What a line of the guide is: heading, shell, prose or code (None for a blank line)."""
    text = line.strip()
    if not text:
        return None
    if text.endswith("#") and not text.startswith("#"):
        return "heading"
    if text.startswith(SHELL_COMMANDS):
        return "shell"
    if text[0].isupper() and " " in text and not PYTHON_MARKS.search(text):
        return "prose"
    return "code"


def guide_lines(kind: str) -> list[str]:
    lines = GUIDE.read_text(encoding="utf-8").splitlines()
    found = [normalized(line) for line in lines if classify(line) == kind]
    return [line.removesuffix("#").strip() for line in found] if kind == "heading" else found


def markdown_headings(notebook: dict[str, Any]) -> Iterator[str]:
    for cell in notebook["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for line in source(cell).splitlines():
            match = re.match(r"^#{1,6}\s+(.+?)\s*#*\s*$", line)
            if match:
                yield match.group(1).replace("`", "").strip()


def fenced_blocks(markdown: str, language: str) -> Iterator[str]:
    yield from re.findall(rf"^```{language}\n(.*?)^```", markdown, re.MULTILINE | re.DOTALL)


notebook_params = pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)


def test_there_are_numbered_notebooks() -> None:
    names = [path.name for path in NOTEBOOKS]
    assert names, "no notebooks/[0-9]*.ipynb"
    numbers = [int(name[:2]) for name in names]
    assert numbers == list(range(1, len(names) + 1)), f"not numbered 01, 02, ...: {names}"
    for name in names:
        assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", name), name


@notebook_params
def test_executed_top_to_bottom_with_outputs(path: Path) -> None:
    cells = code_cells(load(path))
    counts = [cell.get("execution_count") for cell in cells]
    assert counts == list(range(1, len(cells) + 1)), (
        f"code cells not executed in order from a fresh kernel (`make notebooks`): {counts}"
    )
    assert any(cell.get("outputs") for cell in cells), "no outputs: run `make notebooks`"


@notebook_params
def test_outputs_have_no_errors_or_warnings(path: Path) -> None:
    for number, cell in enumerate(code_cells(load(path)), start=1):
        for output in cell.get("outputs", []):
            text = output_text(output)
            assert output.get("output_type") != "error", f"code cell {number}: error output"
            assert "Traceback (most recent call last)" not in text, f"code cell {number}: {text}"
            assert output.get("name") != "stderr", f"code cell {number} wrote to stderr: {text}"


@notebook_params
def test_outputs_leak_nothing(path: Path) -> None:
    for number, cell in enumerate(code_cells(load(path)), start=1):
        text = "\n".join(output_text(output) for output in cell.get("outputs", []))
        for what, pattern in LEAKS.items():
            match = pattern.search(text)
            assert match is None, f"code cell {number} output shows {what}: {match.group()!r}"


@notebook_params
def test_metadata_is_clean(path: Path) -> None:
    """As `make notebooks` writes it: nothing that changes from one run or machine to the next."""
    notebook = load(path)
    hint = "run `make notebooks` to re-execute and clean the notebooks"
    assert notebook["metadata"].get("kernelspec") == KERNELSPEC, hint
    assert "version" not in notebook["metadata"].get("language_info", {}), hint
    for cell in notebook["cells"]:
        assert "execution" not in cell.get("metadata", {}), f"execution timestamps: {hint}"
        assert "ExecuteTime" not in cell.get("metadata", {}), f"execution timestamps: {hint}"


@notebook_params
def test_no_magics_or_shell_escapes(path: Path) -> None:
    for number, cell in enumerate(code_cells(load(path)), start=1):
        for line in source(cell).splitlines():
            assert not line.lstrip().startswith(("%", "!")), f"code cell {number}: {line!r}"


@notebook_params
def test_nbval_markers_are_tags(path: Path) -> None:
    for cell in load(path)["cells"]:
        assert "NBVAL_" not in source(cell).upper(), "use cell tags, not # NBVAL_* comments"
        tags = set(cell.get("metadata", {}).get("tags", []))
        assert tags <= ALLOWED_TAGS, f"unknown tags {tags - ALLOWED_TAGS}"


@notebook_params
def test_sets_itself_up(path: Path) -> None:
    """Runnable on its own: REDIS_URL from the environment, offline model before any agent."""
    sources = [source(cell) for cell in code_cells(load(path))]
    lines = [normalized(line) for text in sources for line in text.splitlines()]
    assert REDIS_URL_LINE in lines, "REDIS_URL must come from the environment, guide's default"
    assert not any("asyncio.run(" in line for line in lines), "use top-level await"
    runs = [i for i, text in enumerate(sources) if "Runner.run" in text]
    if runs:
        offline = [i for i, text in enumerate(sources) if OFFLINE_CALL in text]
        assert offline, f"agents run, but {OFFLINE_CALL} is never called"
        assert offline[0] < runs[0], f"{OFFLINE_CALL} must come before the first Runner.run"


@notebook_params
def test_ends_by_cleaning_up(path: Path) -> None:
    notebook = load(path)
    cells = notebook["cells"]
    headings = [
        i
        for i, cell in enumerate(cells)
        if cell["cell_type"] == "markdown" and re.search(r"^#+\s+Cleanup\s*$", source(cell), re.M)
    ]
    assert headings, "no Cleanup section"
    after = [cell for cell in cells[headings[-1] :] if cell["cell_type"] == "code"]
    assert any(".clear()" in source(cell) for cell in after), "the Cleanup section clears nothing"
    last = code_cells(notebook)[-1]
    assert CLEANUP_CHECK in source(last), f"the last cell must call {CLEANUP_CHECK}...)"
    printed = "".join(output_text(output) for output in last.get("outputs", []))
    assert CLEANUP_DONE in printed, f"the last cell's output must say {CLEANUP_DONE!r}"


def test_guide_is_classified_sensibly() -> None:
    code = guide_lines("code")
    prose = guide_lines("prose")
    assert "import os" in code
    assert "for s in sessions:" in code
    assert "ttl=3600 # Optional: 1 hour TTL" in code
    assert "})" in code
    assert "Make sure you have Redis 8 running:" in prose
    sentence = (
        "Keep track of conversation IDs in your application database to resume sessions later."
    )
    assert sentence in prose
    assert guide_lines("shell") == ["docker run -d --name redis -p 6379:6379 redis:8"]
    assert "Best Practices" in guide_lines("heading")


def test_every_guide_code_line_is_in_a_code_cell() -> None:
    notebook_lines = {
        normalized(line)
        for path in NOTEBOOKS
        for cell in code_cells(load(path))
        for line in source(cell).splitlines()
    }
    missing = [line for line in guide_lines("code") if line not in notebook_lines]
    assert not missing, "guide code lines missing from the notebooks:\n" + "\n".join(missing)


def test_every_guide_shell_command_is_in_a_markdown_code_block() -> None:
    blocks = {
        normalized(line)
        for path in NOTEBOOKS
        for cell in load(path)["cells"]
        if cell["cell_type"] == "markdown"
        for block in fenced_blocks(source(cell), "bash")
        for line in block.splitlines()
    }
    missing = [line for line in guide_lines("shell") if line not in blocks]
    assert not missing, f"shell commands not shown in a ```bash block: {missing}"


def title(notebook: dict[str, Any]) -> str:
    first = source(notebook["cells"][0])
    match = re.match(r"^# (.+)$", first, re.M)
    assert match, "a notebook's first cell starts with its # title"
    return match.group(1).strip()


def test_guide_headings_appear_in_order() -> None:
    """The guide's sections in its order; its own title names the guide in notebook 01."""
    headings = [
        heading.casefold() for path in NOTEBOOKS for heading in markdown_headings(load(path))
    ]
    guide_title, *sections = guide_lines("heading")
    assert guide_title in source(load(NOTEBOOKS[0])["cells"][0])
    position = 0
    for wanted in sections:
        try:
            position = headings.index(wanted.casefold(), position) + 1
        except ValueError:
            pytest.fail(f"guide heading {wanted!r} missing or out of order in the notebooks")


def test_the_guides_parts_come_first_titled_after_their_part() -> None:
    titles = [title(load(path)) for path in NOTEBOOKS]
    wanted = [f"Part {number}: {part}" for number, part in enumerate(GUIDE_PARTS, start=1)]
    assert titles[: len(GUIDE_PARTS)] == wanted, titles
    headings = guide_lines("heading")
    assert all(part in headings for part in GUIDE_PARTS)


@notebook_params
def test_notebooks_after_the_guide_say_they_go_beyond_it(path: Path) -> None:
    notebook = load(path)
    if title(notebook).startswith("Part "):
        return
    assert BEYOND in source(notebook["cells"][0]).casefold(), "say it goes beyond the guide"


@notebook_params
def test_the_guides_setup_comes_first(path: Path) -> None:
    """A reader meets the guide's code before any helper: the first cell is the guide's setup."""
    first = source(code_cells(load(path))[0])
    assert first.startswith("import os\n"), first
    assert REDIS_URL_LINE in first
    for cell in code_cells(load(path)):
        assert "def show_keys" not in source(cell) and "def ttl_words" not in source(cell)


def test_notebooks_folder_holds_only_notebooks() -> None:
    others = [
        path.name
        for path in NOTEBOOK_DIR.iterdir()
        if not path.name.startswith(".") and path.suffix != ".ipynb"
    ]
    assert not others, f"JupyterLab would show these beside the notebooks: {others}"


def test_the_library_never_imports_the_notebook_helpers() -> None:
    for module in PACKAGE.rglob("*.py"):
        if module.stem == HELPERS:
            continue
        assert HELPERS not in module.read_text(encoding="utf-8"), module.name


def test_sanitize_file_is_valid() -> None:
    config = configparser.ConfigParser()
    config.read(SANITIZE, encoding="utf-8")
    assert config.sections(), "no sanitize rules"
    for section in config.sections():
        assert set(config[section]) == {"regex", "replace"}, section
        re.compile(config[section]["regex"])
