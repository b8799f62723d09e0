"""Attribution: a sentence cited to one source whose words are another's.

The support score asks whether the cited source is about what the sentence says,
and chunks of one contract share so much boilerplate ("Confidential Information",
"this Agreement", "the Receiving Party") that a sentence taken from one clause
scores well against any other. The other sources given with the answer settle it:
when one of them holds nearly all of the sentence's content words and the cited one
holds under half, the citation points at the wrong source.
"""

from __future__ import annotations

from collections.abc import Sequence

from legalrag.app.claims.text import content_words

# Under half of the sentence's content words in the cited source, and nearly all of
# them in another: what tells a wrong pointer from a source that says it in its own
# words (which holds more than half) or two sources that both say it.
CITED_AT_MOST = 0.5
OTHER_AT_LEAST = 0.9
_MIN_WORDS = 5


def _coverage(words: set[str], text: str) -> float:
    return len(words & content_words(text)) / len(words)


def better_source(sentence: str, cited: int, sources: Sequence[str]) -> tuple[int, float] | None:
    """(n, share) when source ``n`` (1-based) of ``sources`` holds ``sentence``'s words and
    the cited source ``cited`` holds under half of them; None otherwise."""
    words = content_words(sentence)
    if len(words) < _MIN_WORDS or not 1 <= cited <= len(sources):
        return None
    if _coverage(words, sources[cited - 1]) >= CITED_AT_MOST:
        return None
    shares = [(_coverage(words, text), n) for n, text in enumerate(sources, start=1) if n != cited]
    share, n = max(shares, default=(0.0, 0))
    return (n, share) if share >= OTHER_AT_LEAST else None
