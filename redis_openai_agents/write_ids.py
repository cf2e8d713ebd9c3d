"""Write ids: what makes a re-sent write apply once and answer with its first outcome.

Every logical write gets one id, generated when the call starts and reused by every
retry of it, whoever re-sends it (this package, redis-py's own `Retry`, a proxy). The
writing scripts record the id and the outcome in a hash in the conversation's own slot,
each record expiring on its own (hash-field expiry, Redis 7.4+), and answer a repeat
from it.

A call that ends without a known outcome (no reply, or too few replicas) keeps its id
here, keyed by what it sends: repeating the same call with the same arguments re-sends
it under that id, so the caller's own retry is deduplicated too.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

RECORD_TTL_MS = 300_000
"""How long a write's record lasts: a repeat within five minutes is recognised."""
_MAX_PENDING = 1024


def new_write_id() -> str:
    """128 random bits: unique without coordination."""
    return os.urandom(16).hex()


def fingerprint(script_sha: str, keys: Sequence[str], args: Sequence[Any]) -> str:
    """What identifies one call: the script, its keys and its arguments."""
    digest = hashlib.sha1(script_sha.encode())
    for part in (*keys, "\x00", *args):
        value = part if isinstance(part, bytes) else str(part).encode("utf-8", "surrogatepass")
        digest.update(len(value).to_bytes(8, "little"))
        digest.update(value)
    return digest.hexdigest()


Scope = tuple[str, ...] | None
"""The script and keys of an unsettled call; None when not known (matches every call)."""


class PendingWrites:
    """Ids of writes whose outcome the caller never learnt, for their repeats to reuse.

    Beside each id it counts the scripts and keys they were for, so that a write to any
    other script or key set is told at once it repeats nothing, without hashing its
    arguments.
    """

    def __init__(self) -> None:
        self._ids: OrderedDict[str, tuple[str, float, Scope]] = OrderedDict()
        self._scopes: dict[Scope, int] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def may_hold(self, script_sha: str, keys: Sequence[str]) -> bool:
        """Whether an unsettled call to this script with these keys may be held here."""
        if not self._ids:
            return False
        return None in self._scopes or (script_sha, *keys) in self._scopes

    def id_for(self, call: str) -> str:
        """The id of an unsettled identical call, or a fresh one."""
        found = self._ids.get(call)
        if found is not None and time.monotonic() < found[1]:
            return found[0]
        return new_write_id()

    def unsettled(
        self,
        call: str,
        write_id: str,
        script_sha: str | None = None,
        keys: Sequence[str] = (),
    ) -> None:
        scope: Scope = None if script_sha is None else (script_sha, *keys)
        self._forget(call)
        self._ids[call] = (write_id, time.monotonic() + RECORD_TTL_MS / 1000 * 0.9, scope)
        self._scopes[scope] = self._scopes.get(scope, 0) + 1
        while len(self._ids) > _MAX_PENDING:
            self._forget(next(iter(self._ids)))

    def settled(self, call: str) -> None:
        self._forget(call)

    def _forget(self, call: str) -> None:
        found = self._ids.pop(call, None)
        if found is None:
            return
        scope = found[2]
        remaining = self._scopes[scope] - 1
        if remaining:
            self._scopes[scope] = remaining
        else:
            del self._scopes[scope]
