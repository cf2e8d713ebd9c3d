"""Command line: import conversations, export a user's, erase a user (`--help` for usage)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from typing import Any

from .errors import RedisOpenAIAgentsError
from .keys import DEFAULT_PREFIX

_EPILOG = """\
examples:
  python -m redis_openai_agents import sqlite conversations.db --user alice
  python -m redis_openai_agents import redis-session --from-url redis://old:6379 --user alice
  python -m redis_openai_agents import v0.1 --from-url redis://old:6379 --user alice
  python -m redis_openai_agents export --user alice -o alice.jsonl
  python -m redis_openai_agents import jsonl alice.jsonl
  python -m redis_openai_agents erase --user alice --yes

The target server is --redis-url, else $REDIS_URL, else redis://localhost:6379.
Imports can be run again: what is already stored is not written twice.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m redis_openai_agents",
        description="Move conversations into and out of redis-openai-agents, erase a user.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--redis-url", help="target server (default: $REDIS_URL)")
    common.add_argument(
        "--prefix", default=DEFAULT_PREFIX, help="target key prefix (default: %(default)s)"
    )
    common.add_argument("--no-progress", action="store_true", help="no progress bar")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    imports = commands.add_parser("import", help="import conversations into AgentSession")
    sources = imports.add_subparsers(dest="source", required=True, metavar="SOURCE")
    owner = argparse.ArgumentParser(add_help=False, parents=[common])
    owner.add_argument(
        "--ttl", type=float, help="sliding expiry of imported conversations, seconds"
    )

    sqlite = sources.add_parser(
        "sqlite", parents=[owner], help="an SDK SQLiteSession database file"
    )
    sqlite.add_argument("path", help="the .db file")
    sqlite.add_argument("--user", required=True, help="owner of the imported conversations")
    sqlite.add_argument("--sessions-table", default="agent_sessions")
    sqlite.add_argument("--messages-table", default="agent_messages")

    redis_session = sources.add_parser(
        "redis-session", parents=[owner], help="the SDK's RedisSession data under a key prefix"
    )
    redis_session.add_argument("--from-url", required=True, help="server holding the data")
    redis_session.add_argument("--key-prefix", default="agents:session")
    redis_session.add_argument("--user", required=True, help="owner of the imported conversations")

    legacy = sources.add_parser(
        "v0.1", parents=[owner], help="redis-openai-agents 0.1.0 conversations (MessageHistory)"
    )
    legacy.add_argument("--from-url", required=True, help="server holding the data")
    legacy.add_argument("--index", default="agent_sessions", help="MessageHistory index name")
    legacy.add_argument("--user", required=True, help="owner of the imported conversations")

    jsonl = sources.add_parser("jsonl", parents=[owner], help="a JSON Lines file from `export`")
    jsonl.add_argument("path", help="the .jsonl file, or - for standard input")
    jsonl.add_argument("--user", help="import as this user instead of the exported one")

    export = commands.add_parser(
        "export", parents=[common], help="write a user's conversations as JSON Lines"
    )
    export.add_argument("--user", required=True)
    export.add_argument("-o", "--output", default="-", help="file to write (default: stdout)")

    erase = commands.add_parser(
        "erase", parents=[common], help="delete every conversation of a user"
    )
    erase.add_argument("--user", required=True)
    erase.add_argument("--yes", action="store_true", help="do it (without it, nothing is deleted)")
    return parser


def _progress_bar(disabled: bool, unit: str) -> Any:
    try:
        from tqdm import tqdm
    except ImportError:
        if disabled:
            return None
        raise RedisOpenAIAgentsError(
            "progress bars need tqdm: pip install 'redis-openai-agents[cli]'"
            " (or pass --no-progress)"
        ) from None
    return tqdm(
        unit=unit, unit_scale=True, disable=disabled or not sys.stderr.isatty(), file=sys.stderr
    )


async def _run(args: argparse.Namespace) -> int:
    from . import transfer
    from .erase import aerase_user

    target: dict[str, Any] = {"redis_url": args.redis_url, "prefix": args.prefix}
    if args.command == "erase":
        if not args.yes:
            print(f"would erase every conversation of {args.user!r}; pass --yes to do it")
            return 1
        erased = await aerase_user(args.user, **target)
        print(
            f"erased {erased.conversations} conversations, {erased.items} items,"
            f" {erased.json_sessions} JSON sessions and {erased.other_keys} other keys"
            f" of {args.user!r}"
        )
        return 0
    bar = _progress_bar(args.no_progress, "item")
    update: Callable[[int], object] | None = bar.update if bar is not None else None
    try:
        if args.command == "export":
            if args.output == "-":
                count = await transfer.aexport_user(
                    args.user, sys.stdout, progress=update, **target
                )
            else:
                count = await transfer.aexport_user(
                    args.user, args.output, progress=update, **target
                )
            print(f"exported {count} conversations of {args.user!r}", file=sys.stderr)
            return 0
        source: Any
        if args.source == "sqlite":
            source = transfer.read_sqlite(
                args.path, sessions_table=args.sessions_table, messages_table=args.messages_table
            )
        elif args.source == "redis-session":
            source = transfer.read_redis_sessions(args.key_prefix, redis_url=args.from_url)
        elif args.source == "v0.1":
            source = transfer.read_message_history(args.index, redis_url=args.from_url)
        else:
            source = transfer.read_jsonl(sys.stdin if args.path == "-" else args.path)
        report = await transfer.aimport_conversations(
            source, user_id=args.user, ttl=args.ttl, progress=update, **target
        )
    finally:
        if bar is not None:
            bar.close()
    print(
        f"{report.conversations} conversations read: {report.created} created,"
        f" {report.resumed} resumed, {report.unchanged} already complete;"
        f" {report.items_written} items written"
    )
    for conversation_id in report.conflicts:
        print(f"conflict: {conversation_id!r} holds other items; left as it is", file=sys.stderr)
    for conversation_id, reason in report.skipped:
        print(f"skipped: {conversation_id!r}: {reason}", file=sys.stderr)
    return 1 if report.conflicts or report.skipped else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        return asyncio.run(_run(args))
    except (RedisOpenAIAgentsError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; run the same command again to continue", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
