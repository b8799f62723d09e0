"""Quotes are evidence: words the answer quotes, or repeats verbatim, from its source.

A sentence that is a source's own sentence (or a run of its text), up to markers,
spacing, punctuation and case, is supported by that source whatever a similarity
score makes of it; so is a sentence whose quoted words are all in the source, for
what it quotes. The claim checks still read the rest of such a sentence.
"""

from __future__ import annotations

import re
from functools import lru_cache

from legalrag.app.claims.text import content_words, normalised, source_sentences

QUOTE = re.compile(r"[\"“]([^\"“”]{4,}?)[\"”]")
MIN_VERBATIM_WORDS = 4
MIN_QUOTED_WORDS = 2


def quotes_of(sentence: str) -> list[str]:
    """The quoted passages of ``sentence`` (four characters or more)."""
    return QUOTE.findall(sentence)


def verbatim(sentence: str, source_text: str) -> str | None:
    """``"sentence"`` when the sentence is one of the source's sentences,
    ``"run"`` when it is a run of its text (four words or more), else None."""
    needle = normalised(sentence)
    if len(needle.split()) < MIN_VERBATIM_WORDS:
        return None
    if needle in _sentences(source_text):
        return "sentence"
    return "run" if f" {needle} " in _padded(source_text) else None


@lru_cache(maxsize=512)
def _padded(source_text: str) -> str:
    # Cached: every sentence citing a source is looked for in it.
    return f" {normalised(source_text)} "


def quoted_evidence(quotes: list[str], found: list[bool]) -> bool:
    """True when every quote was found and together they quote enough to stand for
    the sentence's claim (two content words: not a lone "reasonable")."""
    if not quotes or not all(found):
        return False
    return len(content_words(" ".join(quotes))) >= MIN_QUOTED_WORDS


@lru_cache(maxsize=512)
def _sentences(source_text: str) -> frozenset[str]:
    return frozenset(normalised(s.text) for s in source_sentences(source_text))
