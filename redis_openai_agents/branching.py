"""Turns and branches of an AgentSession, with `AdvancedSQLiteSession`'s methods.

A branch is an order list of item sequence numbers, like the main conversation's, that
shares the item hashes it copied from its parent: creating one costs the items before
the branch point, and reading one is the same single `SORT_RO` as reading main. The
main branch is the original layout, so MessageHistory and older data are unaffected.
Turn starts, branch records and usage live in one hash per conversation (see
`lua/branches.lua`), in the user's hash tag like every other key of theirs.

The current branch belongs to the session object, as in the SDK: it starts on `main`,
`switch_to_branch` and the `create_branch_*` methods move it, and it is not stored, so
another process (or another object) opening the conversation starts on `main`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from . import items as item_codec
from . import scripts, turns
from .connection import RedisConnection
from .errors import (
    BranchDeletionError,
    BranchExistsError,
    BranchNotFoundError,
    InvalidIdentifierError,
    RedisCommandError,
    TurnNotFoundError,
)
from .keys import MAIN_BRANCH, TAG_SEPARATOR, ConversationKeys, validate_id

if TYPE_CHECKING:
    from .scripts import LuaScript

_STALE = -1
_NO_BRANCH = -2
_NO_TURN = -4
_ID_USED = -5
_ATTEMPTS = 20


def stale_branches(reply: Any) -> str | None:
    """The live branches a script reported when its keys were built for others, else None."""
    if isinstance(reply, list) and len(reply) == 2 and reply[0] == _STALE:
        return _text(reply[1])
    return None


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _branch_name(value: object, what: str = "branch_id") -> str:
    if isinstance(value, str) and not value.strip():
        raise InvalidIdentifierError(f"{what} cannot be empty")
    return validate_id(value, what)


class BranchingMixin:
    """Turns and branches for `AgentSession`; the methods and results of the SDK's."""

    if TYPE_CHECKING:
        _keys: ConversationKeys
        _connection: RedisConnection
        _ttl_ms: int | None

        async def _read(
            self, fields: Sequence[str], limit: int | None, order: str | None = None
        ) -> list[list[Any]]: ...

    _branch: str = MAIN_BRANCH
    _live: str = ""

    @property
    def current_branch_id(self) -> str:
        """The branch this object reads and writes: `main` until switched (not stored)."""
        return self._branch

    def _order_of(self, branch_id: str | None) -> str:
        """The order list of a branch; None for the current one."""
        if branch_id is None:
            return self._keys.branch_order(self._branch)
        return self._keys.branch_order(_branch_name(branch_id))

    def _other_orders(self, branch_id: str) -> list[str]:
        """The order lists of every branch but `branch_id`, as last seen."""
        ids = [MAIN_BRANCH, *(self._live.split(TAG_SEPARATOR) if self._live else ())]
        return [self._keys.branch_order(b) for b in ids if b != branch_id]

    async def _with_branches(self, send: Callable[[], Awaitable[Any]]) -> Any:
        """Run a script built from the live branches last seen, again while they changed.

        Scripts that touch every branch declare every branch's order list; one built for
        an outdated set changes nothing and answers with the current one.
        """
        for _ in range(_ATTEMPTS):
            reply = await send()
            live = stale_branches(reply)
            if live is None:
                return reply
            self._live = live
        raise RedisCommandError(self._connection.display_url, "the branches kept changing")

    async def _write(self, script: LuaScript, keys: list[str], args: list[Any]) -> Any:
        return await self._connection.write(
            script, self._keys.write_records, keys, args, data_ttl_ms=self._ttl_ms
        )

    async def create_branch_from_turn(
        self, turn_number: int, branch_name: str | None = None
    ) -> str:
        """Start a branch at a user turn of the current branch, and switch to it.

        The branch holds the items before that turn; the turn's own message is not
        copied, so the next input on the branch replaces it. Costs O(items copied).

        Args:
            turn_number: The user turn to branch from (1 is the first; see
                [`get_conversation_turns`][redis_openai_agents.AgentSession.get_conversation_turns]).
            branch_name: The new branch's id; by default `branch_from_turn_<n>_<time>`.
                An id used before in this conversation (deleted branches included) is
                refused.

        Returns:
            The new branch's id, now the current branch.

        Raises:
            TurnNotFoundError: The current branch has no such turn.
            BranchExistsError: `branch_name` was used before.
            BranchNotFoundError: The current branch was deleted meanwhile.
            InvalidIdentifierError: `branch_name` is blank or not a valid id.
        """
        name = None if branch_name is None else _branch_name(branch_name, "branch_name")
        if not isinstance(turn_number, int) or isinstance(turn_number, bool):
            raise TypeError(f"turn_number must be an integer, got {type(turn_number).__name__}")
        return await self._create_branch(turn_number, name, "")

    async def create_branch_from_content(
        self, search_term: str, branch_name: str | None = None
    ) -> str:
        """Start a branch at the first user turn of the current branch containing a text.

        Args:
            search_term: Text to find in user messages, ignoring ASCII case.
            branch_name: The new branch's id, as for
                [`create_branch_from_turn`][redis_openai_agents.AgentSession.create_branch_from_turn].

        Returns:
            The new branch's id, now the current branch.

        Raises:
            TurnNotFoundError: No user turn contains `search_term`.
            BranchExistsError: `branch_name` was used before.
        """
        name = None if branch_name is None else _branch_name(branch_name, "branch_name")
        for _ in range(_ATTEMPTS):
            found = [
                (turn, seq)
                for turn, item, _, seq in await self._turn_rows(self._branch)
                if turns.contains(turns.content_of(item), search_term)
            ]
            if not found:
                raise TurnNotFoundError(f"No user turns found containing '{search_term}'")
            try:
                return await self._create_branch(found[0][0], name, found[0][1])
            except TurnNotFoundError:
                continue  # the turn changed between finding it and branching: look again
        raise TurnNotFoundError(f"No user turns found containing '{search_term}'")

    async def _create_branch(self, turn: int, name: str | None, expected_seq: str) -> str:
        source = self._branch
        base = f"branch_from_turn_{turn}_{int(time.time())}"
        candidate, suffix = name or base, 1
        while True:
            keys = [
                self._keys.meta,
                self._keys.branches,
                self._keys.branch_order(source),
                self._keys.branch_order(candidate),
            ]
            reply = await self._write(
                scripts.BRANCH_CREATE,
                keys,
                [source, candidate, turn, expected_seq, self._keys.message_prefix],
            )
            code = int(reply[0])
            if code == _ID_USED and name is None:
                suffix += 1
                candidate = f"{base}_{suffix}"
                continue
            if code == _ID_USED:
                raise BranchExistsError(candidate)
            if code == _NO_BRANCH:
                raise BranchNotFoundError(source)
            if code == _NO_TURN:
                raise TurnNotFoundError(
                    f"Turn {turn} does not contain a user message in branch '{source}'"
                )
            self._live = _text(reply[1])
            self._branch = candidate
            return candidate

    async def switch_to_branch(self, branch_id: str) -> None:
        """Make `branch_id` this object's current branch for reads and writes.

        Raises:
            BranchNotFoundError: The conversation has no such live branch.
        """
        branch_id = _branch_name(branch_id)
        if branch_id != MAIN_BRANCH:
            struct = self._keys.branches
            found = await self._connection.call(
                lambda client: client.hexists(struct, f"b:{branch_id}")
            )
            if not found:
                raise BranchNotFoundError(branch_id)
        self._branch = branch_id

    async def delete_branch(self, branch_id: str, force: bool = False) -> None:
        """Delete a branch: its order list, turns and usage, and the items only it held.

        Its id stays used in this conversation, so it is never given to a new branch.

        Args:
            branch_id: The branch to delete; not `main`.
            force: Allow deleting the current branch; this object then switches to `main`.

        Raises:
            BranchDeletionError: `branch_id` is `main`, or the current branch without
                `force=True`.
            BranchNotFoundError: No such live branch.
        """
        if not isinstance(branch_id, str) or not branch_id.strip():
            raise InvalidIdentifierError("Branch ID cannot be empty")
        if branch_id == MAIN_BRANCH:
            raise BranchDeletionError(branch_id, "Cannot delete the 'main' branch")
        if branch_id == self._branch and not force:
            raise BranchDeletionError(
                branch_id,
                f"Cannot delete current branch '{branch_id}'. "
                "Use force=True or switch branches first",
            )
        keys = [self._keys.branches, self._order_of(branch_id)]
        reply = await self._write(
            scripts.BRANCH_DELETE, keys, [branch_id, self._keys.message_prefix]
        )
        if int(reply[0]) == _NO_BRANCH:
            raise BranchNotFoundError(branch_id)
        self._live = _text(reply[1])
        if self._branch == branch_id:
            self._branch = MAIN_BRANCH

    async def list_branches(self) -> list[dict[str, Any]]:
        """Every branch of the conversation, oldest first.

        Returns:
            Dicts with `branch_id`, `message_count`, `user_turns`, `is_current` and
                `created_at` (UTC, `YYYY-MM-DD HH:MM:SS`); empty when the conversation
                does not exist.
        """

        async def send() -> Any:
            keys = [self._keys.meta, self._keys.branches, self._keys.order]
            keys += self._other_orders(MAIN_BRANCH)
            args = [self._keys.message_prefix, self._live]
            return await self._connection.call(
                lambda client: scripts.BRANCH_LIST(client, keys, args)
            )

        rows = item_codec.decode(await self._with_branches(send))
        rows.sort(key=lambda row: float(row[1] or 0))
        return [
            {
                "branch_id": branch_id,
                "message_count": int(count),
                "user_turns": int(user_turns),
                "is_current": branch_id == self._branch,
                "created_at": turns.sql_timestamp(float(created) if created else None),
            }
            for branch_id, created, count, user_turns in rows
        ]

    async def get_conversation_turns(self, branch_id: str | None = None) -> list[dict[str, Any]]:
        """The user turns of a branch (the current one by default), to pick a branch point.

        Returns:
            Dicts with `turn`, `content` (cut to 100 characters), `full_content`,
                `timestamp` (when the message was stored, UTC text) and `can_branch`.
        """
        rows = await self._turn_rows(self._branch if branch_id is None else branch_id)
        return [turns.turn_view(turn, item, ts, 100) for turn, item, ts, _ in rows]

    async def find_turns_by_content(
        self, search_term: str, branch_id: str | None = None
    ) -> list[dict[str, Any]]:
        """The user turns of a branch whose text contains `search_term` (ASCII case ignored).

        Returns:
            Dicts as
                [`get_conversation_turns`][redis_openai_agents.AgentSession.get_conversation_turns]
                gives, with `content` not cut.
        """
        rows = await self._turn_rows(self._branch if branch_id is None else branch_id)
        return [
            turns.turn_view(turn, item, ts, None)
            for turn, item, ts, _ in rows
            if turns.contains(turns.content_of(item), search_term)
        ]

    async def get_conversation_by_turns(
        self, branch_id: str | None = None
    ) -> dict[int, list[dict[str, str | None]]]:
        """A branch's items grouped by turn: each item's `type` and `tool_name`.

        Turn 0 holds the items before the first user message.
        """
        return turns.by_turns(await self._branch_items(branch_id))

    async def get_tool_usage(self, branch_id: str | None = None) -> list[tuple[str, int, int]]:
        """Tool calls on a branch as `(tool_name, count, turn)`, by turn."""
        return turns.tool_usage(await self._branch_items(branch_id))

    async def _branch_items(self, branch_id: str | None) -> list[Any]:
        rows = await self._read(("metadata",), None, self._order_of(branch_id))
        return item_codec.decode_many([row[0] for row in rows])

    async def _turn_rows(self, branch_id: str) -> list[tuple[int, Any, float | None, str]]:
        """(turn, user message, its timestamp, its sequence number) per turn of a branch."""
        branch_id = _branch_name(branch_id)
        keys = [self._keys.meta, self._keys.branches, self._keys.order]
        args = [branch_id, self._keys.message_prefix]
        raw = await self._connection.call(lambda client: scripts.BRANCH_TURNS(client, keys, args))
        return [
            (int(k), item_codec.decode(item), float(ts) if ts else None, str(seq))
            for k, item, ts, seq in item_codec.decode(raw)
        ]
