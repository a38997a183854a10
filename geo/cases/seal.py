"""Keyed seals of case trails: what the database alone cannot forge.

The hash chain (geo.cases.chain) shows an event changed, removed or reordered, but anyone who
can write the tables can also recompute every hash and the case's head: the chain is public
arithmetic. The seal is not. Each case row carries

    trail_seal = "<key id>:" + hex(HMAC-SHA256(key, "<case id>:<version>:<head>"))

written in the same transaction as every event, under a key the server reads from its
environment or a key file (api.settings: TRAIL_KEYS, TRAIL_KEY_FILE) and the database never
holds. The head commits to every event before it, so the seal commits to the whole trail:
rewriting a case's events, hashes and head (as a superuser may, triggers bypassed) leaves a
seal that does not match, unless the rewriter also holds a key. caseTrail checks it.

Keys rotate: a key ring lists keys by id, the first signs, the others only verify. After
adding a key, ``circle trail seal --all`` re-seals every case whose trail verifies under
its old key, and the old key may then be dropped from the ring.

What a seal does not show (README, threat model): a case put back, whole, to an earlier
state that was sealed then (its later events removed and the earlier seal restored), by
someone who kept that earlier seal; and anything done by someone who holds a key.

Where the keys reach the domain: the session's ``info["trail_keys"]``, set by the session
factory (geo.db.make_sessionmaker), so that every writer of events seals with the same ring
and none can forget to.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy.ext.asyncio import AsyncSession

from geo.db import TRAIL_KEYS_INFO
from geo.errors import DomainError

#: A key is at least this many random bytes (written as hex).
MIN_KEY_BYTES: Final = 32
_KEY_ID: Final = re.compile(r"[A-Za-z0-9_-]{1,16}")


class TrailKeysMissing(DomainError):
    """No key ring where a seal was to be written or checked (a configuration error)."""

    def __init__(self, detail: str = "no trail key: set TRAIL_KEYS or TRAIL_KEY_FILE") -> None:
        super().__init__(detail)


@dataclass(frozen=True, slots=True)
class TrailKeys:
    """A key ring: ``current`` signs, every key of ``secrets`` verifies."""

    current: str
    secrets: Mapping[str, bytes]

    @classmethod
    def parse(cls, text: str) -> TrailKeys:
        """Reads ``<id> <hex secret>`` entries, one a line or comma-separated; ``#`` starts
        a comment. The first entry signs. Raises ValueError, naming the bad entry."""
        entries = [
            part.strip()
            for line in text.splitlines()
            for part in line.split("#", 1)[0].split(",")
            if part.strip()
        ]
        ring: dict[str, bytes] = {}
        for number, entry in enumerate(entries, 1):
            kid, _, secret = entry.replace(":", " ", 1).partition(" ")
            secret = secret.strip()
            if not _KEY_ID.fullmatch(kid):
                raise ValueError(f"trail key {number}: an id is 1-16 of A-Z a-z 0-9 _ -")
            try:
                raw = bytes.fromhex(secret)
            except ValueError:
                raise ValueError(f"trail key {kid}: the secret must be hexadecimal") from None
            if len(raw) < MIN_KEY_BYTES:
                raise ValueError(f"trail key {kid}: at least {MIN_KEY_BYTES} bytes, please")
            if kid in ring:
                raise ValueError(f"trail key {kid} is listed twice")
            ring[kid] = raw
        if not ring:
            raise ValueError("no trail key in the ring")
        return cls(next(iter(ring)), ring)

    @classmethod
    def from_file(cls, path: Path) -> TrailKeys:
        try:
            text = path.read_text()
        except FileNotFoundError:
            raise TrailKeysMissing(
                f"no trail key file at {path}: create one with 'circle trail keygen'"
            ) from None
        return cls.parse(text)

    def seal(self, case_id: int, version: int, head: str) -> str:
        """The seal of a case at ``version`` whose chain ends in ``head``."""
        return f"{self.current}:{_mac(self.secrets[self.current], case_id, version, head)}"

    def fault(self, case_id: int, version: int, head: str, seal: str | None) -> str | None:
        """Why ``seal`` is not this case's at ``version`` and ``head``; None when it is."""
        if not seal:
            return "the trail is not sealed"
        kid, _, mac = seal.partition(":")
        secret = self.secrets.get(kid)
        if secret is None:
            return f"the trail is sealed with key {kid!r}, which this server does not hold"
        if not hmac.compare_digest(mac, _mac(secret, case_id, version, head)):
            return "the seal does not match the trail: it was rewritten without the key"
        return None


def _mac(secret: bytes, case_id: int, version: int, head: str) -> str:
    message = f"{case_id}:{version}:{head}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def new_key_line(kid: str) -> str:
    """A fresh ring entry, ``<id> <64 hex digits>``."""
    if not _KEY_ID.fullmatch(kid):
        raise ValueError("a key id is 1-16 of A-Z a-z 0-9 _ -")
    return f"{kid} {secrets.token_hex(MIN_KEY_BYTES)}"


def keys_of(session: AsyncSession) -> TrailKeys:
    """The ring the session's factory carries; raises TrailKeysMissing without one."""
    keys = session.info.get(TRAIL_KEYS_INFO)
    if not isinstance(keys, TrailKeys):
        raise TrailKeysMissing
    return keys
