"""Token usage per turn and branch of an AgentSession, with `AdvancedSQLiteSession`'s methods.

A run's usage is stored against the newest user turn of the branch it ran on, in the
conversation's branches hash, so it expires and is deleted with the conversation.
"""

from __future__ import annotations

from typing import Any

from . import items as item_codec
from . import scripts
from .branching import BranchingMixin, _branch_name
from .errors import BranchNotFoundError

_COUNTS = ("requests", "input_tokens", "output_tokens", "total_tokens")


def _details(value: Any) -> dict[str, Any] | None:
    """Token details as the SDK stores them: the model's fields as a dict."""
    if not value:
        return None
    return dict(vars(value))


class UsageMixin(BranchingMixin):
    """Usage analytics for `AgentSession`; the methods and results of the SDK's."""

    async def store_run_usage(self, result: Any) -> None:
        """Store a run's usage (`result.context_wrapper.usage`) for the current turn.

        Call it after `Runner.run`: the usage goes to the newest user turn of the current
        branch, replacing what that turn had, so storing one result twice changes
        nothing. A branch without a user turn yet stores nothing.

        Raises:
            BranchNotFoundError: The current branch was deleted meanwhile.
        """
        usage = getattr(getattr(result, "context_wrapper", None), "usage", None)
        if usage is None:
            return
        record: dict[str, Any] = {name: getattr(usage, name, 0) or 0 for name in _COUNTS}
        record["input_tokens_details"] = _details(getattr(usage, "input_tokens_details", None))
        record["output_tokens_details"] = _details(getattr(usage, "output_tokens_details", None))
        branch = self._branch
        keys = [self._keys.meta, self._keys.branches, self._keys.order]
        args = [branch, item_codec.dumps(record), self._keys.message_prefix]
        reply = await self._write(scripts.USAGE_STORE, keys, args)
        if int(reply) == -2:
            raise BranchNotFoundError(branch)

    async def get_session_usage(self, branch_id: str | None = None) -> dict[str, int] | None:
        """Usage summed over every branch, or over one.

        Returns:
            `requests`, `input_tokens`, `output_tokens`, `total_tokens` and `total_turns`
                (turns with usage stored); None when no usage was stored.
        """
        rows = await self._usage_rows(_branch_name(branch_id) if branch_id else "")
        if not rows:
            return None
        totals = {name: sum(int(row[name] or 0) for _, row in rows) for name in _COUNTS}
        totals["total_turns"] = len(rows)
        return totals

    async def get_turn_usage(
        self, user_turn_number: int | None = None, branch_id: str | None = None
    ) -> list[dict[str, Any]] | dict[str, Any]:
        """Usage per turn of a branch (the current one by default), token details included.

        Args:
            user_turn_number: One turn: its usage as a dict, `{}` when none was stored.
                None: a list over every turn with usage, each with `user_turn_number`.
            branch_id: The branch; None for the current one.
        """
        branch = self._branch if branch_id is None else _branch_name(branch_id)
        rows = await self._usage_rows(branch)
        if user_turn_number is not None:
            for turn, row in rows:
                if turn == user_turn_number:
                    return row
            return {}
        return [{"user_turn_number": turn, **row} for turn, row in rows]

    async def _usage_rows(self, branch_id: str) -> list[tuple[int, dict[str, Any]]]:
        """(turn, usage) per stored turn of a branch, or of all when `branch_id` is ''."""
        keys = [self._keys.branches]
        raw = await self._connection.call(
            lambda client: scripts.USAGE_READ(client, keys, [branch_id])
        )
        out = []
        for _, turn, record in item_codec.decode(raw):
            usage = item_codec.decode(record)
            row = {name: usage.get(name, 0) for name in _COUNTS}
            row["input_tokens_details"] = usage.get("input_tokens_details")
            row["output_tokens_details"] = usage.get("output_tokens_details")
            out.append((int(turn), row))
        return out
