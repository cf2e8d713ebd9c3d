"""The GitHub Actions workflows: valid (actionlint), free of known security mistakes (zizmor),
and running what the project runs locally.

Both linters run offline from the `lint` dependency group that `make test` installs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / ".github" / "workflows"


def _tool(name: str) -> str:
    beside_python = Path(sys.executable).with_name(name)
    found = str(beside_python) if beside_python.is_file() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: `make venv` installs the lint group ({name})")
    return found


def _actionlint(files: list[Path]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_tool("actionlint"), "-format", "{{json .}}", "-no-color", *map(str, files)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _workflow(name: str) -> dict[Any, Any]:
    loaded = yaml.safe_load((WORKFLOWS / name).read_text())
    assert isinstance(loaded, dict)
    return loaded


def _on(workflow: dict[Any, Any]) -> dict[str, Any]:
    # YAML 1.1 reads the key `on` as True.
    triggers = workflow.get("on", workflow.get(True))
    assert isinstance(triggers, dict)
    return triggers


def test_actionlint_accepts_the_workflows() -> None:
    workflows = sorted(WORKFLOWS.glob("*.yml"))
    assert [p.name for p in workflows] == ["docs.yml", "tests.yml"]
    result = _actionlint(workflows)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout or "[]") == []


def test_actionlint_rejects_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\n"
        "jobs:\n"
        "  check:\n"
        "    runs-on: ubuntu-24.04\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - run: echo ${{ matrix.python }}\n"
    )
    result = _actionlint([broken])
    assert result.returncode == 1, result.stderr
    kinds = {error["kind"] for error in json.loads(result.stdout)}
    assert {"action", "expression"} <= kinds  # the node20 checkout, the undefined matrix


def test_zizmor_finds_nothing() -> None:
    result = subprocess.run(
        [_tool("zizmor"), "--offline", "--no-progress", str(WORKFLOWS)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_tests_workflow_runs_make_test_on_every_python_against_both_servers() -> None:
    workflow = _workflow("tests.yml")
    assert set(_on(workflow)) >= {"push", "pull_request"}
    job = workflow["jobs"]["test"]
    matrix = job["strategy"]["matrix"]
    assert 'requires-python = ">=3.10"' in (REPO / "pyproject.toml").read_text()
    assert matrix["python"] == ["3.10", "3.11", "3.12", "3.13"]
    assert matrix["redis"] == ["redis:8", "redis/redis-stack-server:7.4.0-v1"]
    assert job["services"]["redis"]["image"] == "${{ matrix.redis }}"
    assert job["env"]["REDIS_URL"] == "redis://localhost:6379"
    runs = [step.get("run", "") for step in job["steps"]]
    assert "scripts/install-system-deps" in runs
    assert any(run.startswith("make test") for run in runs)


def test_docs_workflow_builds_strictly_and_deploys_main_to_pages() -> None:
    workflow = _workflow("docs.yml")
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    assert any(step.get("run", "").startswith("make docs") for step in build["steps"])
    makefile = (REPO / "Makefile").read_text()
    assert "mkdocs build --strict" in makefile
    uploads = [s for s in build["steps"] if s.get("uses", "").startswith("actions/upload-pages")]
    assert [step["with"]["path"] for step in uploads] == ["site"]
    assert deploy["needs"] == "build"
    assert "refs/heads/main" in deploy["if"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == ["actions/deploy-pages"]
