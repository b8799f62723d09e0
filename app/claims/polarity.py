"""Polarity: a "not" in the answer that its source sentence does not have, or the reverse.

A negation is tied to the words it governs (up to three content words after it,
within its clause), so "Unless otherwise agreed, the Recipient shall return…" does
not make every sentence about returning copies a contradiction: only a word the
answer and the source share, negated on one side and not the other, is.
"""

from __future__ import annotations

from legalrag.app.claims.text import STOPWORDS, Finding, clip, stem, tokens

NEGATIONS = frozenset(
    (
        *("not", "n't", "no", "never", "without", "unless", "except", "neither", "nor", "none"),
        *("prohibited", "forbidden", "barred"),  # "is prohibited from" = "shall not"
    )
)
# Bounds, not negations: "no later than 30 days" is a deadline (the quantity check's).
_BOUND_AFTER = frozenset(("later", "more", "less", "fewer", "earlier", "sooner", "greater"))
_CLAUSE_BREAK = frozenset((",", ";", ":", "(", ")", "but", "and", "or", "if", "which"))
SCOPE = 3
# A source's "unless", "except" or "without" that the answer leaves out is a
# condition not stated, not the opposite claim: only the answer's own count.
_CONDITIONS = frozenset(("unless", "except", "without"))


def negated_words(text: str) -> dict[str, str]:
    """Stem of each word a negation governs -> the negation as written ("not disclose")."""
    words = tokens(text)
    governed: dict[str, str] = {}
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
            if after in NEGATIONS or after in STOPWORDS:
                continue
            taken.append(after)
            governed.setdefault(stem(after), f"{word} {after}".replace(" n't", "n't"))
    return governed


def _stems(text: str) -> set[str]:
    return {stem(w) for w in tokens(text) if w not in STOPWORDS}


def check_polarity(sentence: str, source_sentence: str) -> Finding | None:
    """A finding when a word both share is negated in one and not in the other."""
    answer_negated = negated_words(sentence)
    source_negated = negated_words(source_sentence)
    if answer_negated.keys() & source_negated.keys():
        return None  # both negate something they share: "No tenant may" = "a tenant may not"
    source_stems = _stems(source_sentence)
    for word, phrase in answer_negated.items():
        if word in source_stems and word not in source_negated:
            return Finding(
                "polarity",
                f'the answer says "{phrase}", the source sentence does not negate it '
                f'("{clip(source_sentence)}")',
                source_sentence,
            )
    answer_stems = _stems(sentence)
    for word, phrase in source_negated.items():
        if phrase.split()[0] in _CONDITIONS:
            continue  # an answer may leave out a source's condition; it is then brief
        if word in answer_stems and word not in answer_negated:
            return Finding(
                "polarity",
                f'the source says "{phrase}", the answer leaves out the negation '
                f'("{clip(source_sentence)}")',
                source_sentence,
            )
    return None
