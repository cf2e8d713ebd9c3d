"""The guide notebooks, executed top to bottom with REDIS_URL set to one node of a cluster.

Every session call in them runs unchanged. Two things are adapted, and only these:
- the notebooks look at Redis directly with `redis.Redis.from_url(REDIS_URL)`, a client
  of one node; a first cell makes that a `RedisCluster`, so the look covers every master;
- the cells that query the message index (`r.ft(...)`, RedisVL `MessageHistory`) are not
  run, apart from their `AgentSession.enable_message_index(...)` calls: they query it as
  `roa:messages`, the name on a single server, where a cluster gives every master an
  index of its own, `roa:messages{n}` (see docs/concepts.md, "On a Redis Cluster").

The index is opt-in: a notebook that does not enable it leaves none behind, whatever it
writes; the one that does gets an index on every master.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from redis_openai_agents import AgentSession
from redis_openai_agents.embedded.cluster import LocalCluster

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("[0-9]*.ipynb"))
CLUSTER_LOOK = """\
import redis

def _whole_cluster(cls, url, **options):
    return redis.RedisCluster.from_url(url, **options)

redis.Redis.from_url = classmethod(_whole_cluster)
"""
INDEX_QUERIES = (".ft(", "MessageHistory(")
ENABLE = "AgentSession.enable_message_index("
PREFIX = "roa"


def message_indexes(cluster: LocalCluster) -> dict[int, list[str]]:
    """The notebooks' message indexes (`roa:messages...`) on each master, by port."""
    found = {}
    for node in cluster.masters():
        listed = node.client.execute_command("FT._LIST")  # type: ignore[no-untyped-call]
        found[node.port] = sorted(str(n) for n in listed if str(n).startswith(f"{PREFIX}:messages"))
    return found


@pytest.fixture
def on_cluster(cluster: LocalCluster) -> Iterator[str]:
    AgentSession.disable_message_index(cluster.url, prefix=PREFIX)
    replica = next(n for n in cluster.nodes if n.role() == "slave")
    previous = {k: os.environ.get(k) for k in ("REDIS_URL", "OPENAI_API_KEY")}
    os.environ["REDIS_URL"] = replica.url
    os.environ["OPENAI_API_KEY"] = ""
    yield replica.url
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    AgentSession.disable_message_index(cluster.url, prefix=PREFIX)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_on_a_cluster(path: Path, on_cluster: str, cluster: LocalCluster) -> None:
    notebook = nbformat.read(path, as_version=4)
    left_out = [
        cell
        for cell in notebook.cells
        if cell.cell_type == "code" and any(q in cell.source for q in INDEX_QUERIES)
    ]
    enables = 0
    for cell in left_out:
        kept = [line for line in cell.source.splitlines() if line.startswith(ENABLE)]
        enables += len(kept)
        cell.source = "\n".join(
            ["pass  # queries the message index as roa:messages: not on a cluster", *kept]
        )
    assert all(names == [] for names in message_indexes(cluster).values())
    notebook.cells.insert(0, nbformat.v4.new_code_cell(CLUSTER_LOOK))
    client = NotebookClient(
        notebook,
        timeout=180,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    outputs = "".join(
        str(o.get("text", "")) for cell in notebook.cells for o in cell.get("outputs", [])
    )
    assert "Nothing left in Redis from this notebook." in outputs
    indexes = message_indexes(cluster)
    if enables:
        for port, names in indexes.items():
            assert len(names) == 1 and names[0].startswith(f"{PREFIX}:messages{{"), (port, names)
    else:
        assert all(names == [] for names in indexes.values()), "writes alone create no index"
    assert (len(left_out) > 0) == path.name.endswith("_under_the_hood.ipynb"), (
        "only the under-the-hood notebook queries the message index"
    )
    assert (enables > 0) == (len(left_out) > 0), "the notebook enables the index it queries"
