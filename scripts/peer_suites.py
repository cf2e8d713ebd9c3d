"""Run the peers' own test suites against AgentSession and JSONSession.

The PyPI sdists of the Agents SDK and of redis-openai-agents 0.1.0 carry their tests. This
script downloads each once (with pip, into `.cache/peer-suites/`), unpacks it, and runs:

- the SDK's session suites, with its `SQLiteSession` and `RedisSession` replaced by each of
  our classes through a constructor shim (`scripts/peer_shim.py`);
- 0.1.0's AgentSession and JSONSession tests, importing this package instead of 0.1.0
  (`scripts/peer_shim_v01.py`), with the offline model.

It needs `$REDIS_URL`; `make peer-tests` provides one.

Tests that inspect a backend's internals (its private attributes, its SQLite tables, mocks
of its redis-py calls) cannot apply to another backend; they run anyway and are reported
apart, with the reason. The exit status is 1 when any other test fails.

    python scripts/peer_suites.py [--classes AgentSession JSONSession] [-- pytest args]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
V01_SUITES = (
    "tests/test_json_session_integration.py",
    "tests/test_agent_session_basic.py",
    "tests/test_session_unit.py",
    "tests/test_simple_session_integration.py",
)
SUITES = (
    "tests/extensions/memory/test_redis_session.py",
    "tests/memory/test_session.py",
    "tests/memory/test_session_limit.py",
    "tests/extensions/memory/test_encrypt_session.py",
    "tests/memory/test_compaction_suffix.py",
    "tests/memory/test_compaction_model_visibility.py",
    "tests/memory/test_openai_responses_compaction_session.py",
)

_PRIVATE = "reads or patches the SDK backend's private attributes"
_SQLITE = "inspects the SQLite database file or its connections"
_MOCKED = "mocks redis-py calls the SDK backend makes"
NOT_APPLICABLE: dict[str, str] = {
    # test_redis_session.py
    "test_redis_session_rejects_cluster_transactions_before_pipeline": _MOCKED,
    "test_mutation_cancellation_waits_for_authoritative_outcome": _MOCKED,
    "test_internal_client_ownership": _PRIVATE,
    "test_get_next_id_method": _PRIVATE,
    "test_add_items_preserves_created_at_metadata": _MOCKED,
    "test_compaction_replaces_redis_history_atomically": _PRIVATE,
    "test_atomic_replacement_preserves_clear_add_metadata": _PRIVATE,
    "test_atomic_replacement_serializes_before_deleting_history": _PRIVATE,
    "test_compaction_subclass_retains_overridden_storage_methods": _PRIVATE,
    "test_compaction_cancel_after_redis_commit_invalidates_cached_history": _PRIVATE,
    "test_atomic_replacement_rejects_colliding_counter_key": _PRIVATE,
    "test_cancelled_redis_compaction_handoff_remains_resumable": _PRIVATE,
    # test_session.py
    "test_sqlite_session_close_closes_worker_thread_connections": _SQLITE,
    "test_sqlite_session_reaps_connections_from_exited_worker_threads": _SQLITE,
    "test_sqlite_session_closes_retired_connections_before_the_next_allocation": _SQLITE,
    "test_sqlite_session_keeps_connections_of_live_worker_threads": _SQLITE,
    "test_sqlite_session_closed_rejects_empty_add_items": (
        "expects `RuntimeError('SQLiteSession is closed')`; ours reconnect after close"
    ),
    "test_sqlite_session_pop_item_skips_corrupt_most_recent": _SQLITE,
    "test_sqlite_session_pop_item_returns_none_after_dropping_only_corrupt_rows": _SQLITE,
    "test_sqlite_session_get_items_limit_skips_corrupt_newest_rows": _SQLITE,
    "test_sqlite_session_get_items_session_settings_limit_skips_corrupt_rows": _SQLITE,
    "test_sqlite_session_file_lock_is_shared_across_instances": _PRIVATE,
    "test_sqlite_session_failed_add_items_releases_write_lock": _SQLITE,
    "test_sqlite_session_failed_clear_session_rolls_back": _SQLITE,
    "test_sqlite_session_failed_pop_item_releases_write_lock": _SQLITE,
    "test_sqlite_session_rollback_failure_evicts_connection": _SQLITE,
    "test_sqlite_session_close_retries_quarantined_connection": _SQLITE,
    "test_sqlite_session_post_commit_cancellation_propagates_after_known_outcome": _SQLITE,
    # test_encrypt_session.py: EncryptedSession authenticates before popping only over
    # SQLiteSession itself, and SQLite reads a negative limit as "all".
    "test_encrypted_pop_wrong_key_preserves_recoverable_history": _SQLITE,
    "test_encrypted_pop_rechecks_authentication_after_expired_tail": _SQLITE,
    "test_encrypted_pop_authentication_is_atomic_with_concurrent_mutations": _SQLITE,
    "test_encrypted_pop_wrong_key_preserves_row_identity": _SQLITE,
    "test_encrypted_pop_cancellation_waits_for_authentication_rollback": _SQLITE,
    "test_encrypted_session_scan_budget_rejects_negative_limit_before_read": (
        "relies on SQLite reading limit=-1 as every item; ours refuse it with ValueError"
    ),
    # test_compaction_suffix.py: SQLite triggers and patched inserts inside the transaction.
    "test_suffix_transaction_rolls_back_failed_insert": _SQLITE,
    "test_cancelled_suffix_transaction_settles_before_newer_append": _PRIVATE,
    "test_failed_encrypted_suffix_transaction_preserves_original_tokens": _SQLITE,
    # test_openai_responses_compaction_session.py
    "test_settled_pop_failure_invalidates_response_chain": _PRIVATE,
    "test_settled_clear_failure_invalidates_response_chain": _PRIVATE,
}
_LAYOUT = "reads 0.1.0's key layout (`session:<id>`, `$.messages`) with a plain client"
V01_NOT_APPLICABLE: dict[str, str] = {
    "test_create_session_stores_json_document": _LAYOUT,
    "test_create_session_with_ttl": _LAYOUT,
    "test_add_message_uses_atomic_append": _LAYOUT,
    "test_load_existing_session": (
        "loads a session created with user_id= without naming the user; ours are scoped "
        "to their owner, as AgentSession's are"
    ),
    "test_clear_removes_messages_keeps_metadata": (
        "expects clear() to keep the document; the guide's `await json_session.clear()` "
        "deletes it (clear_session() forgets only the items)"
    ),
    "test_save_clear_load_continue": "asserts a real model's language routing (French)",
    "test_three_parallel_conversations": "asserts a real model's language routing",
}


def sdist(project: str, version: str, cache: Path) -> Path:
    """The unpacked sdist of `project` `version`, downloaded with pip when missing."""
    stem = f"{project.replace('-', '_')}-{version}"
    unpacked = cache / stem
    if (unpacked / "tests").is_dir():
        return unpacked
    cache.mkdir(parents=True, exist_ok=True)
    archive = cache / f"{stem}.tar.gz"
    if not archive.exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                "--dest",
                str(cache),
                f"{project}=={version}",
            ],
            check=True,
        )
    with tarfile.open(archive) as tar:
        tar.extractall(cache, filter="data")
    return unpacked


def run_suite(
    root: Path,
    arguments: list[str],
    not_applicable: dict[str, str],
    env: dict[str, str] | None = None,
) -> Counter[str]:
    """Run one set of suites; count outcomes, naming the applicable failures."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "junit.xml"
        child = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT / "scripts")}
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q"]
        command += ["--tb=line", f"--junitxml={report}", *arguments]
        subprocess.run(command, cwd=root, env=child, check=False)
        tree = ElementTree.parse(report)
    counts: Counter[str] = Counter()
    for case in tree.iter("testcase"):
        name = case.get("name", "").split("[", 1)[0]
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed"
            elif child.tag == "skipped":
                outcome = "skipped"
        if outcome == "failed":
            outcome = "not applicable" if name in not_applicable else "failed"
            if outcome == "failed":
                print(f"  FAILED {case.get('classname')}::{case.get('name')}")
        counts[outcome] += 1
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdk-version", default=importlib.metadata.version("openai-agents"))
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "peer-suites")
    parser.add_argument("--classes", nargs="+", default=["AgentSession", "JSONSession"])
    parser.add_argument("--v01-version", default="0.1.0", help="redis-openai-agents to compare")
    parser.add_argument("pytest_args", nargs="*", help="after `--`: passed on to pytest")
    args = parser.parse_args(argv)
    if not os.environ.get("REDIS_URL"):
        parser.error("set REDIS_URL, or run through `make peer-tests`")
    root = sdist("openai-agents", args.sdk_version, args.cache)
    runs: list[tuple[str, Counter[str]]] = []
    for target in args.classes:
        counts = run_suite(
            root,
            ["-p", "peer_shim", *SUITES, *args.pytest_args],
            NOT_APPLICABLE,
            {"ROA_PEER_CLASS": target},
        )
        runs.append((f"{target}, openai-agents {args.sdk_version} session suites", counts))
    legacy = sdist("redis-openai-agents", args.v01_version, args.cache)
    counts = run_suite(
        legacy,
        [
            "-p",
            "peer_shim_v01",
            "-c",
            os.devnull,
            "--rootdir",
            "tests",
            "-o",
            "asyncio_mode=auto",
            "--run-api-tests",
            *V01_SUITES,
            *args.pytest_args,
        ],
        V01_NOT_APPLICABLE,
    )
    runs.append((f"redis-openai-agents {args.v01_version} session tests", counts))
    for title, counts in runs:
        print(
            f"{title}: {counts['passed']} passed, {counts['failed']} failed, "
            f"{counts['not applicable']} not applicable, {counts['skipped']} skipped"
        )
    return 1 if any(counts["failed"] for _, counts in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
