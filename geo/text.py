"""Text that PostgreSQL can hold: `text` and `jsonb` refuse the NUL character (U+0000)."""

from __future__ import annotations


def contains_nul(value: object) -> bool:
    """True when `value` (a string, or decoded JSON) holds a NUL character anywhere."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(contains_nul(k) or contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(contains_nul(v) for v in value)
    return False
