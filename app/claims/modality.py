"""Modality: "may" where the source says "must", "shall" where it says "shall not".

Each modal phrase falls in one class (obligation, permission, prohibition) and
governs the next content words after it. A verb that both sentences put under a
modal of different classes, and under none of the same class, is a contradiction;
a sentence with no modal at all ("the landlord returns the deposit") is not
compared, so a plain paraphrase of an obligation stands.
"""

from __future__ import annotations

import re

from legalrag.app.claims.text import (
    RIGHT_QUOTE,
    STOPWORDS,
    Finding,
    clip,
    stem,
    strip_marker_text,
)

# Longest first: "may not" before "may", "is not required" before "is required".
_PHRASES = {
    "prohibition": (
        "must not", "shall not", "may not", "can not", "cannot", "can't", "mustn't", "shan't",
        "is not permitted to", "are not permitted to", "is not allowed to",
        "are not allowed to", "is prohibited from", "are prohibited from", "is forbidden to",
        "are forbidden to", "is barred from", "are barred from",
    ),
    "no obligation": (
        "is not required to", "are not required to", "need not", "does not have to",
        "do not have to", "is not obligated to", "are not obligated to",
        # A prohibition's words in the passive release the one it is done to.
        "cannot be made to", "can not be made to", "cannot be required to",
        "can not be required to", "may not be required to", "shall not be required to",
    ),
    "obligation": (
        "must", "shall", "is required to", "are required to", "has to", "have to",
        "is obligated to", "are obligated to", "is obliged to", "are obliged to",
    ),
    "permission": (
        "may", "can", "is entitled to", "are entitled to", "is permitted to",
        "are permitted to", "is allowed to", "are allowed to", "has the right to",
        "have the right to",
    ),
}  # fmt: skip
_CLASS = {phrase: kind for kind, phrases in _PHRASES.items() for phrase in phrases}
_MODAL = re.compile(
    r"\b(" + "|".join(sorted(map(re.escape, _CLASS), key=len, reverse=True)) + r")\b"
    r"((?:\s+[a-z']+){0,4})",
    re.IGNORECASE,
)
_SCOPE = 2


def modals(text: str) -> list[tuple[str, str, set[str]]]:
    """(class, phrase as written, stems of the next content words) for each modal."""
    found = []
    for match in _MODAL.finditer(strip_marker_text(text).replace(RIGHT_QUOTE, "'")):
        phrase = " ".join(match.group(1).lower().split())
        after = [w for w in match.group(2).lower().split() if w not in STOPWORDS]
        found.append((_CLASS[phrase], phrase, {stem(w) for w in after[:_SCOPE]}))
    return found


def check_modality(sentence: str, source_sentence: str) -> Finding | None:
    """A finding when a verb both govern by a modal is under different classes."""
    theirs = modals(source_sentence)
    if not theirs:
        return None
    for kind, phrase, governed in modals(sentence):
        same = [p for k, p, g in theirs if g & governed and k == kind]
        other = [p for k, p, g in theirs if g & governed and k != kind]
        if other and not same:
            return Finding(
                "modality",
                f'the source says "{other[0]}", the answer says "{phrase}" '
                f'("{clip(source_sentence)}")',
                source_sentence,
            )
    return None
