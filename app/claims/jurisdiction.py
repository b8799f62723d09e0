"""Jurisdiction: an answer sentence about a state its cited source is not about.

A source may carry a two-letter ``jurisdiction``. A sentence that names states, none
of them the source's and none named in the source's own text, rests on law from
elsewhere: a Texas deadline is not California's. A sentence comparing two states
("unlike California, Texas …") is left alone when the source's state is among them.

A source without one (a contract, a policy) is held to the states its own text
names: "the laws of the State of Texas" against a contract governed by Delaware law
is a contradiction; a source that names no state at all says nothing either way.
"""

from __future__ import annotations

from legalrag.app.claims.text import Finding
from legalrag.app.jurisdictions import STATES, named_jurisdictions

_NAMES = {code: name for name, code in STATES.items()}


def check_jurisdiction(sentence: str, source_text: str, jurisdiction: str) -> Finding | None:
    """A finding when ``sentence`` names only states the source is not about."""
    named = named_jurisdictions(sentence)
    if not named:
        return None
    in_text = named_jurisdictions(source_text)
    code = (jurisdiction or "").upper()
    if code in _NAMES:
        if code in named or named & in_text:
            return None
        about = _NAMES[code]
    elif code:
        return None  # federal, EU or another code: no state to hold the sentence to
    else:
        if not in_text or named & in_text:
            return None
        about = " and ".join(sorted(_NAMES[c] for c in in_text))
    states = " and ".join(sorted(_NAMES[c] for c in named))
    return Finding(
        "jurisdiction", f"the answer speaks of {states}, the source is about {about}", ""
    )
