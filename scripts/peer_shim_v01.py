"""Pytest plugin: redis-openai-agents 0.1.0's own tests, run against this package.

Loaded by `scripts/peer_suites.py` with `-p peer_shim_v01`; the tests import
`redis_openai_agents`, which is this package (0.1.0's sources are not on the path).
Agents answer with the offline model, and 0.1.0's `.env` loading is a no-op.
"""

from __future__ import annotations

import sys
import types

from redis_openai_agents.offline import use_offline_model

_dotenv = types.ModuleType("dotenv")
_dotenv.load_dotenv = lambda *args, **kwargs: False  # type: ignore[attr-defined]
sys.modules.setdefault("dotenv", _dotenv)
use_offline_model()
