"""Jurisdiction: an answer sentence about a state its cited source is not about.

Sources carry a two-letter ``jurisdiction``. A sentence that names states, none of
them the source's and none named in the source's own text, rests on law from
elsewhere: a Texas deadline is not California's. A sentence comparing two states
("unlike California, Texas …") is left alone when the source's state is among them.
"""

from __future__ import annotations

from legalrag.app.claims.text import Finding
from legalrag.app.jurisdictions import STATES, named_jurisdictions

_NAMES = {code: name for name, code in STATES.items()}


def check_jurisdiction(sentence: str, source_text: str, jurisdiction: str) -> Finding | None:
    """A finding when ``sentence`` names only states the source is not about."""
    code = (jurisdiction or "").upper()
    if code not in _NAMES:
        return None  # federal, EU or unknown: no state to hold the sentence to
    named = named_jurisdictions(sentence)
    if not named or code in named or named & named_jurisdictions(source_text):
        return None
    states = " and ".join(sorted(_NAMES[c] for c in named))
    return Finding(
        "jurisdiction",
        f"the answer speaks of {states}, the source is about {_NAMES[code]}",
        "",
    )
