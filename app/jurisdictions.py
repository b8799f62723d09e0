"""Jurisdictions a question names, so sources from them can be preferred.

A question about "a California landlord" must not be answered from Texas posts
that merely repeat its words. Only full state names are matched: two-letter codes
("IN", "OR", "OK") are ordinary words too often.
"""

from __future__ import annotations

import re

STATES = {
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "District of Columbia": "DC",
    "Florida": "FL", "Georgia": "GA", "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL",
    "Indiana": "IN", "Iowa": "IA", "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA",
    "Maine": "ME", "Maryland": "MD", "Massachusetts": "MA", "Michigan": "MI",
    "Minnesota": "MN", "Mississippi": "MS", "Missouri": "MO", "Montana": "MT",
    "Nebraska": "NE", "Nevada": "NV", "New Hampshire": "NH", "New Jersey": "NJ",
    "New Mexico": "NM", "New York": "NY", "North Carolina": "NC", "North Dakota": "ND",
    "Ohio": "OH", "Oklahoma": "OK", "Oregon": "OR", "Pennsylvania": "PA",
    "Rhode Island": "RI", "South Carolina": "SC", "South Dakota": "SD", "Tennessee": "TN",
    "Texas": "TX", "Utah": "UT", "Vermont": "VT", "Virginia": "VA", "Washington": "WA",
    "West Virginia": "WV", "Wisconsin": "WI", "Wyoming": "WY",
}  # fmt: skip
# Longest names first, so "West Virginia" is not read as "Virginia".
_NAMES = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, STATES), key=len, reverse=True)) + r")\b",
    re.IGNORECASE,
)
_BY_LOWER = {name.lower(): code for name, code in STATES.items()}


def named_jurisdictions(question: str) -> set[str]:
    """The two-letter codes of the US states ``question`` names in full."""
    return {_BY_LOWER[match.lower()] for match in _NAMES.findall(question)}
