"""Values RedisJSON stores natively only when it gives them back unchanged.

RedisJSON keeps integers in 64 bits and does not round-trip every double: floats with 16
or 17 significant digits (common in logprobs) or extreme exponents can come back one unit
off in the last place. Values holding such numbers, or strings UTF-8 cannot carry, are
stored as their exact JSON text inside a one-key wrapper object instead; everything else
stays native JSON that RedisJSON paths and tools can read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import items as item_codec

WRAPPER_KEY = "__exact_json__"
_INT64 = (-(2**63), 2**63 - 1)
_SAFE_RANGE = (1e-7, 1e15)


def _digits(value: float) -> int:
    """Significant digits of the shortest repr that reads back as `value`."""
    mantissa = repr(abs(value)).lower().split("e")[0].replace(".", "")
    return len(mantissa.strip("0")) or 1


def _survives(value: Any) -> bool:
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int):
        return _INT64[0] <= value <= _INT64[1]
    if isinstance(value, float):
        return value == 0 or (
            _SAFE_RANGE[0] <= abs(value) < _SAFE_RANGE[1] and _digits(value) <= 15
        )
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, Mapping):
        if len(value) == 1 and WRAPPER_KEY in value:
            return False
        return all(isinstance(k, str) and _survives(k) and _survives(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return all(_survives(v) for v in value)
    return True


def encode(value: Any) -> str:
    """JSON text to store: the value itself, or its exact text in a wrapper object.

    Raises:
        TypeError: The value is not JSON, or has a key that is not a string.
        ValueError: The value nests deeper than `items.MAX_DEPTH`, holds NaN or infinity,
            or a string that would not read back unchanged.
    """
    text = item_codec.dumps_bytes(value).decode("utf-8")
    if _survives(item_codec.decode(text)):
        return text
    return item_codec.dumps({WRAPPER_KEY: text})


def restore(value: Any) -> Any:
    """The original value from what RedisJSON returned."""
    if isinstance(value, dict) and len(value) == 1 and WRAPPER_KEY in value:
        return item_codec.decode(value[WRAPPER_KEY])
    return value
