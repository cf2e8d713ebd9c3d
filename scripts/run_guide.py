"""Run the session-management guide: every notebook in notebooks/, top to bottom, against Redis.

    python scripts/run_guide.py                # run all: headings, code and what each cell shows
    python scripts/run_guide.py 02             # only the notebooks whose name starts with 02
    python scripts/run_guide.py --no-code      # headings and outputs only
    python scripts/run_guide.py --write        # also save the outputs into the notebooks

Redis is `$REDIS_URL`, or the guide's default `redis://localhost:6379` when it is unset;
`make guide` and `make notebooks` run this script through
`python -m redis_openai_agents.embedded run --`, which starts an embedded Redis Stack when
`REDIS_URL` is unset. Each notebook gets a fresh IPython kernel of this interpreter, with
notebooks/ as its working directory. The script prints every notebook's name and title, its
section headings, each code cell as `In [n]:` and what it shows as `Out[n]:` (rich outputs
summarised in one line), PASS or FAIL, a summary line and where to go next; it exits with
status 1 when a cell fails.

`--write` (`make notebooks`) saves the executed notebooks in place, with clean metadata (no
execution timestamps, a fixed kernel name), so their committed outputs are what a run against
Redis produces. It ignores `OPENAI_API_KEY`: committed outputs always come from the offline model,
which is what `make test` compares them with.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
from traitlets import default

from redis_openai_agents.connection import mask_url

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
DEFAULT_REDIS_URL = "redis://localhost:6379"
PLACEHOLDER_API_KEYS = {"", "your-api-key-here"}
KERNEL_NAME = "python3"
# The name and display name `make install` gives the kernel, so saving from `make lab` keeps them.
KERNELSPEC = {
    "display_name": "Python 3 (redis-openai-agents)",
    "language": "python",
    "name": KERNEL_NAME,
}
MAX_LINES_PER_CELL = 40
HEADING = re.compile(r"^(#{1,4})\s+(.+?)\s*#*\s*$")
NEXT_STEPS = (
    "make lab           the same notebooks in JupyterLab, with Redis",
    "make docs-serve    the documentation site on http://127.0.0.1:8000",
    "python examples/session_management.py   the guide as a plain asyncio program",
)
TRACEBACK_LINES = 25
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
TEXT_MIME = "text/plain"


class CurrentEnvKernelSpecs(KernelSpecManager):
    """Resolves the kernel to an IPython kernel of this interpreter, whatever is installed."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        from ipykernel.kernelspec import RESOURCES, get_kernel_dict

        return KernelSpec(resource_dir=RESOURCES, **get_kernel_dict())


class CurrentEnvKernelManager(AsyncKernelManager):
    """A kernel of this interpreter, whatever kernel specs are installed."""

    @default("kernel_spec_manager")
    def _current_env_specs(self) -> KernelSpecManager:
        return CurrentEnvKernelSpecs(data_dir=self.data_dir)


def redis_problem(url: str) -> str | None:
    """Why Redis at `url` can't run the guide, in the library's words, or None when it answers."""
    from redis_openai_agents import AgentSession, RedisOpenAIAgentsError

    try:
        AgentSession.list_sessions(user_id="user_123", redis_url=url, limit=1)
    except RedisOpenAIAgentsError as exc:
        return str(exc)
    return None


def output_lines(output: dict[str, Any]) -> list[str]:
    """What a person sees of one cell output, as text lines."""
    kind = output.get("output_type")
    if kind == "stream":
        text = ANSI.sub("", "".join(output.get("text", "")))
        lines = text.rstrip("\n").split("\n")
        return [f"(stderr) {line}" for line in lines] if output.get("name") == "stderr" else lines
    if kind in ("execute_result", "display_data"):
        data: dict[str, Any] = output.get("data", {})
        rich = sorted(mime for mime in data if mime != TEXT_MIME)
        if rich:
            return [f"[{kind.replace('_', ' ')}: {', '.join(rich)}]"]
        return "".join(data.get(TEXT_MIME, "")).rstrip("\n").split("\n")
    if kind == "error":
        trace = ANSI.sub("", "\n".join(output.get("traceback", []))).rstrip().split("\n")
        if len(trace) > TRACEBACK_LINES:
            trace = ["...", *trace[-TRACEBACK_LINES:]]
        return [f"{output.get('ename')}: {output.get('evalue')}", *trace]
    return [f"[{kind} output]"]


def _labelled(label: str, lines: list[str]) -> list[str]:
    pad = " " * (len(label) + 1)
    return [f"{label} {lines[0]}", *(f"{pad}{line}" for line in lines[1:])]


def headings(cell: Any) -> list[str]:
    """The markdown headings of a cell, as written (`## Loading a Session`)."""
    found = []
    for line in "".join(cell.get("source", "")).splitlines():
        match = HEADING.match(line)
        if match:
            found.append(f"{match.group(1)} {match.group(2).replace('`', '')}")
    return found


def code_report(cell: Any, number: int) -> list[str]:
    lines = "".join(cell.get("source", "")).rstrip("\n").split("\n")
    return _labelled(f"In [{number}]:", lines)


def cell_report(cell: Any) -> list[str]:
    lines = [line for output in cell.get("outputs", []) for line in output_lines(output)]
    if not lines:
        return []
    if len(lines) > MAX_LINES_PER_CELL:
        hidden = len(lines) - MAX_LINES_PER_CELL
        lines = [*lines[:MAX_LINES_PER_CELL], f"... ({hidden} more lines)"]
    return _labelled(f"Out[{cell.get('execution_count') or ' '}]:", lines)


def coalesce_streams(outputs: list[Any]) -> list[Any]:
    """Merge consecutive chunks of the same stream, as Jupyter shows them."""
    merged: list[Any] = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            previous is not None
            and output.get("output_type") == "stream"
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            previous["text"] = "".join(previous["text"]) + "".join(output["text"])
        else:
            merged.append(output)
    return merged


def clean_for_commit(nb: Any) -> None:
    """Metadata that does not change from one run or machine to the next."""
    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    language = nb.metadata.get("language_info", {})
    language.pop("version", None)
    nb.metadata["language_info"] = language or {"name": "python"}
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for key in ("execution", "ExecuteTime", "collapsed", "scrolled"):
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.outputs)


def run_notebook(
    path: Path, timeout: int, write: bool, echo: Callable[[str], None], show_code: bool = True
) -> tuple[int, str | None]:
    """Execute one notebook in a fresh kernel: its number of code cells, and why it failed."""
    nb = nbformat.read(path, as_version=4)
    cells = sum(cell.cell_type == "code" for cell in nb.cells)
    running = {"ordinal": 0}

    def on_cell_start(cell: Any, **_: Any) -> None:
        if cell.cell_type == "markdown":
            for heading in headings(cell):
                echo(f"\n{heading}")
        elif cell.cell_type == "code":
            running["ordinal"] += 1
            if show_code:
                for line in code_report(cell, running["ordinal"]):
                    echo(line)

    def on_cell_executed(cell: Any, **_: Any) -> None:
        for line in cell_report(cell):
            echo(line)

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        kernel_manager_class=CurrentEnvKernelManager,
        resources={"metadata": {"path": str(path.parent)}},
        record_timing=False,
        # The kernel's own log (e.g. "running over TCP without encryption" on a loopback
        # port) is noise here; warnings raised by the cells still appear in their output.
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
        on_cell_start=on_cell_start,
        on_cell_executed=on_cell_executed,
    )
    try:
        client.execute()
    except CellTimeoutError:
        return cells, f"code cell {running['ordinal']} of {cells} timed out after {timeout} s"
    except CellExecutionError as exc:
        # The cell's error output, traceback included, was printed as its output.
        return cells, f"code cell {running['ordinal']} of {cells} raised {exc.ename}"
    except DeadKernelError as exc:
        return cells, f"the kernel died in code cell {running['ordinal']} of {cells}: {exc}"
    if write:
        clean_for_commit(nb)
        nbformat.validate(nb)
        nbformat.write(nb, path)
    return cells, None


def select(names: list[str]) -> list[Path]:
    notebooks = sorted(NOTEBOOKS.glob("[0-9]*.ipynb"))
    if not names:
        return notebooks
    return [path for path in notebooks if any(path.name.startswith(name) for name in names)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", help="names or name prefixes (default: all)")
    parser.add_argument("--write", action="store_true", help="save outputs into the notebooks")
    parser.add_argument("--no-code", action="store_true", help="print headings and outputs only")
    parser.add_argument("--timeout", type=int, default=120, help="seconds per cell (default 120)")
    args = parser.parse_args(argv)

    if importlib.util.find_spec("ipykernel") is None:
        print("error: ipykernel is not installed in this environment (make install)")
        return 2
    paths = select(args.notebooks)
    if not paths:
        print(f"error: no notebooks to run in {NOTEBOOKS.relative_to(ROOT)}/")
        return 2

    if args.write and os.environ.pop("OPENAI_API_KEY", "").strip() not in PLACEHOLDER_API_KEYS:
        print("--write: OPENAI_API_KEY ignored; outputs are recorded with the offline model")
    offline = os.environ.get("OPENAI_API_KEY", "").strip() in PLACEHOLDER_API_KEYS
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    problem = redis_problem(url)
    if problem:
        print(f"error: {problem}")
        print("`make guide` without REDIS_URL starts an embedded Redis for the guide.")
        return 2
    # Debugger noise an IPython kernel prints on some Python builds.
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")

    model = "offline model" if offline else "OpenAI model"
    plural = "s" if len(paths) != 1 else ""
    print(f"guide: {len(paths)} notebook{plural} against {mask_url(url)} ({model})", flush=True)
    started = time.monotonic()

    def echo(line: str) -> None:
        print(line, flush=True)

    failed: list[str] = []
    total_cells = 0
    for path in paths:
        print(f"\n== {path.name} ==", flush=True)
        began = time.monotonic()
        cells, failure = run_notebook(path, args.timeout, args.write, echo, not args.no_code)
        total_cells += cells
        seconds = time.monotonic() - began
        if failure:
            failed.append(path.name)
            print(f"FAIL {path.name}: {failure} ({seconds:.1f} s)", flush=True)
        else:
            saved = ", saved" if args.write else ""
            print(f"PASS {path.name}: {cells} cells in {seconds:.1f} s{saved}", flush=True)

    elapsed = time.monotonic() - started
    outcome = "all passed" if not failed else f"{len(failed)} failed ({', '.join(failed)})"
    print(
        f"\nguide: {len(paths)} notebook{plural}, {total_cells} cells, {outcome} in {elapsed:.1f} s"
    )
    if not failed and not args.write:
        print("\nWhere to go next:")
        for step in next_steps():
            print(f"  {step}")
    return 1 if failed else 0


def next_steps() -> list[str]:
    """The follow-ups a reader has after the guide, the hosted docs when they have an address."""
    steps = list(NEXT_STEPS)
    config = ROOT / "mkdocs.yml"
    text = config.read_text(encoding="utf-8") if config.exists() else ""
    match = re.search(r"^site_url:\s*(\S+)", text, re.MULTILINE)
    if match:
        steps.append(f"{match.group(1)}   the hosted documentation")
    return steps


if __name__ == "__main__":
    sys.exit(main())
