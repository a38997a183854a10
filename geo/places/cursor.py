"""Opaque paging cursors: ``(distance, id)`` for nearest-first lists, ``id`` for id order.

The distance is written with ``float.hex``, so it comes back bit for bit and the keyset
comparison in SQL sees exactly the value it produced.
"""

from __future__ import annotations

import base64
import binascii
import math

from geo.places.errors import InvalidCursor


def encode_distance_cursor(distance_m: float, row_id: int) -> str:
    """The cursor after a row ``distance_m`` metres away with id ``row_id``."""
    return _encode(f"d:{float(distance_m).hex()}:{row_id}")


def decode_distance_cursor(cursor: str) -> tuple[float, int]:
    """Inverse of :func:`encode_distance_cursor`; raises InvalidCursor on anything else."""
    kind, distance, row_id = _parts(cursor, 3)
    try:
        value, key = float.fromhex(distance), int(row_id)
    except ValueError:
        raise InvalidCursor() from None
    if kind != "d" or not math.isfinite(value) or value < 0 or key < 0:
        raise InvalidCursor()
    return value, key


def encode_id_cursor(row_id: int) -> str:
    return _encode(f"i:{row_id}")


def decode_id_cursor(cursor: str) -> int:
    """Inverse of :func:`encode_id_cursor`; raises InvalidCursor on anything else."""
    kind, row_id = _parts(cursor, 2)
    if kind != "i" or not row_id.isdigit():
        raise InvalidCursor()
    return int(row_id)


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _parts(cursor: str, count: int) -> list[str]:
    if not isinstance(cursor, str) or not cursor.isascii() or len(cursor) > 100:
        raise InvalidCursor()
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidCursor() from None
    parts = text.split(":")
    if len(parts) != count:
        raise InvalidCursor()
    return parts
