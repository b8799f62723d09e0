"""Polarity: a "not" in the answer that its source sentence does not have, or the reverse.

A negation is tied to the words it governs (up to three content words after it,
within its clause), so "Unless otherwise agreed, the Recipient shall return…" does
not make every sentence about returning copies a contradiction: only a negation
whose words the other sentence has, none of them negated there, is one.
"""

from __future__ import annotations

from dataclasses import dataclass

from legalrag.app.claims.text import STOPWORDS, Finding, clip, stem, tokens

NEGATIONS = frozenset(
    (
        *("not", "n't", "no", "never", "without", "unless", "except", "neither", "nor", "none"),
        *("prohibited", "forbidden", "barred"),  # "is prohibited from" = "shall not"
    )
)
# Bounds, not negations: "no later than 30 days" is a deadline (the quantity check's).
_BOUND_AFTER = frozenset(("later", "more", "less", "fewer", "earlier", "sooner", "greater"))
_CLAUSE_BREAK = frozenset(
    (",", ";", ":", "(", ")", ".", "!", "?", "but", "and", "or", "if", "which")
)
SCOPE = 3
# A source's "unless", "except" or "without" that the answer leaves out is a
# condition not stated, not the opposite claim: only the answer's own count.
_CONDITIONS = frozenset(("unless", "except", "without"))


@dataclass(frozen=True)
class Negation:
    """One negation: its word, the stems it governs, and how it reads ("not disclose")."""

    cue: str
    governed: frozenset[str]
    phrase: str


def negations(text: str) -> list[Negation]:
    """Each negation in ``text`` with the content words it governs."""
    words = tokens(text)
    found: list[Negation] = []
    for index, word in enumerate(words):
        if word not in NEGATIONS:
            continue
        following = words[index + 1 : index + 2]
        if word in ("no", "not") and following and following[0] in _BOUND_AFTER:
            continue
        taken: list[str] = []
        for after in words[index + 1 :]:
            if after in _CLAUSE_BREAK or len(taken) == SCOPE:
                break
            if after not in NEGATIONS and after not in STOPWORDS:
                taken.append(after)
        if taken:
            phrase = f"{word} {taken[0]}".replace(" n't", "n't")
            found.append(Negation(word, frozenset(map(stem, taken)), phrase))
    return found


def _stems(text: str) -> set[str]:
    return {stem(w) for w in tokens(text) if w not in STOPWORDS}


def _unmatched(ours: list[Negation], other: str, theirs: list[Negation]) -> Negation | None:
    """A negation of ``ours`` whose words ``other`` has, none negated in ``theirs``."""
    words = _stems(other)
    negated = set().union(*(n.governed for n in theirs)) if theirs else set()
    for negation in ours:
        if negation.governed & words and not negation.governed & negated:
            return negation
    return None


def check_polarity(sentence: str, source_sentence: str) -> Finding | None:
    """A finding when a negation on one side governs words the other side has unnegated."""
    answer, source = negations(sentence), negations(source_sentence)
    added = _unmatched(answer, source_sentence, source)
    if added is not None:
        return Finding(
            "polarity",
            f'the answer says "{added.phrase}", the source sentence does not negate it '
            f'("{clip(source_sentence)}")',
            source_sentence,
        )
    dropped = _unmatched([n for n in source if n.cue not in _CONDITIONS], sentence, answer)
    if dropped is not None:
        return Finding(
            "polarity",
            f'the source says "{dropped.phrase}", the answer leaves out the negation '
            f'("{clip(source_sentence)}")',
            source_sentence,
        )
    return None
