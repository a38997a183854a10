"""Chinese substring search on names: normalisation and the character bigrams we index.

A name and a query are compared after NFKC normalisation and lower-casing, so full-width
letters and digits typed on a Chinese keyboard (ＫＦＣ, １号店) match their ASCII forms. A
name stores the set of its two-character windows (``name_grams``, GIN-indexed); a query of
two or more characters can only match names holding every bigram of the query, which the
index finds, and ``strpos`` on the normalised name then confirms the exact substring (the
bigrams of 超市场 are also in 超市市场). A one-character query has no bigram: it is checked
by ``strpos`` alone, on the rows the rest of the query selects.

PostgreSQL's ``lower(normalize(name, NFKC))`` is the SQL twin of :func:`normalize_text`.
"""

from __future__ import annotations

import unicodedata
from typing import Final

#: Longest search text accepted; names are at most 200 characters.
MAX_QUERY_CHARS: Final = 50


def normalize_text(text: str) -> str:
    """NFKC, lower-cased, surrounding space removed: the form names are searched in."""
    return unicodedata.normalize("NFKC", text).lower().strip()


def name_grams(name: str, *, normalized: bool = False) -> list[str]:
    """The distinct two-character windows of the normalised name (one character: itself).

    ``normalized=True`` says the name is NFKC and stripped already (``fields.clean_name``).
    """
    norm = name.lower() if normalized else normalize_text(name)
    if len(norm) < 2:
        return [norm] if norm else []
    return sorted(set(map(str.__add__, norm, norm[1:])))


def query_grams(query: str) -> list[str]:
    """Bigrams every matching name must hold; empty for a one-character query."""
    norm = normalize_text(query)
    return sorted({norm[i : i + 2] for i in range(len(norm) - 1)})
