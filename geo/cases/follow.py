"""Follow codes: how an anonymous reporter follows and evaluates their own case.

An anonymous report is answered, once, with a private code (geo.cases.reporting); the case
number and that code then read the case as its reporter sees it and evaluate it, acting as
:meth:`geo.accounts.actor.Actor.follower` of that one case.

The code is 128 bits from the OS generator, written in RFC 4648 base32 (26 letters and
digits, grouped by four with hyphens; case, spaces and hyphens are ignored when it comes
back). Guessing it is hopeless whatever the rate (2^127 tries on average for one known
number), so there is no rate limit on it; and, as for API tokens (geo.accounts.tokens), a
fast SHA-256 of it is stored, never the code, and compared in constant time. A wrong code
and an unknown number answer the same :class:`FollowedCaseNotFound`, after the same work.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from datetime import datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from geo.accounts.actor import Actor
from geo.cases.models import Case
from geo.cases.transitions import Transitioned, act
from geo.cases.workflow import Action, Satisfaction
from geo.errors import DomainError

CODE_BITS: Final = 128
#: Longer input is not a code: refused before hashing (and answered as not found).
CODE_MAX_CHARS: Final = 64
_DUMMY_HASH: Final = hashlib.sha256(b"no such case").hexdigest()


class FollowedCaseNotFound(DomainError):
    """No case has this number, or the code is not its code (the two look the same)."""

    def __init__(self, number: str) -> None:
        super().__init__(f"case {number[:20]} was not found")
        self.number = number[:20]


def new_follow_code() -> str:
    """A fresh code, e.g. ``K7QF-2MZB-...-XQ`` (26 base32 characters, 128 bits)."""
    raw = base64.b32encode(secrets.token_bytes(CODE_BITS // 8)).decode().rstrip("=")
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


#: What a case number looks like (geo.cases.numbers): "<year>-<serial>".
_NUMBER = re.compile(r"[0-9]{4}-[0-9]{1,15}")


def _normalized(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


def follow_code_hash(code: str) -> str:
    """What is stored of a code: SHA-256 of its normalized form, hex."""
    return hashlib.sha256(_normalized(code).encode()).hexdigest()


async def followed_case(session: AsyncSession, number: str, code: str) -> Case:
    """The case with ``number`` whose follow code is ``code``; else FollowedCaseNotFound."""
    case = None
    # Only what can be a number is looked up: anything else (a NUL byte, say, which no
    # text column can hold) is simply not found.
    if _NUMBER.fullmatch(number) and len(code) <= CODE_MAX_CHARS:
        case = await session.scalar(select(Case).where(Case.number == number))
    stored = case.follow_code_hash if case is not None and case.follow_code_hash else None
    matches = hmac.compare_digest(stored or _DUMMY_HASH, follow_code_hash(code))
    if case is None or stored is None or not matches:
        raise FollowedCaseNotFound(number)
    return case


async def evaluate_followed(
    session: AsyncSession,
    *,
    number: str,
    code: str,
    satisfaction: Satisfaction,
    expected_version: int,
    note: str | None = None,
    now: datetime | None = None,
) -> Transitioned:
    """EVALUATE, as the anonymous reporter proven by ``code`` (geo.cases.transitions.act)."""
    case = await followed_case(session, number, code)
    return await act(
        session,
        case_id=case.id,
        action=Action.EVALUATE,
        actor=Actor.follower(case.id),
        expected_version=expected_version,
        note=note,
        satisfaction=satisfaction,
        now=now,
    )
