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


class PendingWrites:
    """Ids of writes whose outcome the caller never learnt, for their repeats to reuse."""

    def __init__(self) -> None:
        self._ids: OrderedDict[str, tuple[str, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._ids)

    def id_for(self, call: str) -> str:
        """The id of an unsettled identical call, or a fresh one."""
        found = self._ids.get(call)
        if found is not None and time.monotonic() < found[1]:
            return found[0]
        return new_write_id()

    def unsettled(self, call: str, write_id: str) -> None:
        self._ids[call] = (write_id, time.monotonic() + RECORD_TTL_MS / 1000 * 0.9)
        self._ids.move_to_end(call)
        while len(self._ids) > _MAX_PENDING:
            self._ids.popitem(last=False)

    def settled(self, call: str) -> None:
        self._ids.pop(call, None)
