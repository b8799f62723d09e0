"""Jurisdictions a question names, so sources from them can be preferred.

A question about "a California landlord" must not be answered from Texas posts
that merely repeat its words. Only full state names are matched: two-letter codes
("IN", "OR", "OK") are ordinary words too often.
"""

from __future__ import annotations

import re

from legalrag.us_states import STATES

# Longest names first, so "West Virginia" is not read as "Virginia".
_NAMES = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, STATES), key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)
_BY_LOWER = {name.lower(): code for name, code in STATES.items()}


def named_jurisdictions(question: str) -> set[str]:
    """The two-letter codes of the US states ``question`` names in full."""
    return {_BY_LOWER[match.lower()] for match in _NAMES.findall(question)}
