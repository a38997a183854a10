"""Demo data: what `circle seed` loads."""

from __future__ import annotations


def run_seed(url: str, *, only_if_empty: bool) -> list[str]:
    return ["nothing to seed yet"]
