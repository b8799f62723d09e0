"""Citation parsing and verification: the product's core promise.

An answer's citations are checked against the sources the model was given:

- a marker naming no provided source is **invalid**: removed from the displayed
  answer and reported;
- a sentence that states something and cites nothing is **unsupported**;
- a verbatim quote must be found in the cited passage (normalised, fuzzy);
- each (sentence, cited passage) pair gets a support score and the claim checks
  (``app/claims/``: polarity, modality, parties, quantities, jurisdiction,
  authorities) against the passage sentence it matches best; each citation gets a
  verdict (supported, contradicted, not_found), a reason and that sentence;
- a sentence that repeats its source verbatim, or whose quotes are all in it, is
  supported whatever the score (quotes are evidence); a contradicting finding
  overrides any score;
- a sentence no cited passage supports is **misgrounded**;
- each valid citation points at the span of its document that best matches the
  sentence, for highlighting.

The offline support score mixes word coverage of the sentence's content words
with the embedder's cosine similarity, and any number in the sentence (a deadline,
an amount, a section) must appear in the passage: "30 days" is not supported by a
passage that says 21 ("thirty days" counts as 30). Its threshold
(:data:`SUPPORT_THRESHOLD`) was set on the sample corpus with all-MiniLM-L6-v2: 60
answer sentences scored 0.76 (10th percentile) to 0.87 (median) against their own
paragraph, and at most 0.39 (90th percentile) against another post on the same
topic. An NLI model or a judge LLM can replace the scorer. The score says whether a
source is about what the sentence says; the claim checks say whether it says the
opposite.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Protocol

import numpy as np

from legalrag.app.claims import (
    CONTRADICTED,
    NOT_FOUND,
    SUPPORTED,
    ClaimCheck,
    better_source,
    check_claim,
)
from legalrag.app.claims.quantities import (
    numbers_in as numbers_in,  # re-exported: the support checks apply the same rule
)
from legalrag.app.claims.quantities import numbers_missing
from legalrag.app.claims.quotes import QUOTE, quoted_evidence
from legalrag.app.claims.text import (
    MARKER,
    WORD,
    best_sentence,
    content_words,
    split_at,
    split_source,
)
from legalrag.app.refusal import REFUSAL

SUPPORT_THRESHOLD = 0.45
QUOTE_MATCH = 0.9

# After . ! ? (or after one of them and a closing quote, which stays with its sentence).
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"”']))\s+(?=[\[\"“(A-Z0-9-])")
# Markers, words, quotes and numbers are read as the claim checks read them.
_MARKER = MARKER
# A forum post's layout labels are not what it says: a cited span starts after them.
_POST = re.compile(r"^(?:Title: .*\n)?Question: |\nAnswer #\d+: ")
_LAYOUT_LABEL = re.compile(r"\s*(?:Title|Question|Answer #\d+|Comment #\d+):[ \t]+")
_QUOTE = QUOTE
_WORD = WORD
# Text inside a source that addresses the model rather than the reader. A sentence
# that only such text "supports" is misgrounded: instructions are not evidence.
_INSTRUCTION = re.compile(
    r"\b(ignore|disregard|forget)\s+(all\s+|any\s+|the\s+|your\s+)*"
    r"(above|previous|prior|earlier|preceding|instructions|rules)\b"
    r"|\b(system prompt|language model|as an ai)\b",
    re.IGNORECASE,
)
# The refusal sentence's predicate ("do not address this question"), in either number:
# a sentence that only says the sources do not answer states nothing to cite.
_REFUSING = REFUSAL.lower().rstrip(".").split(" do not ", 1)[1]
_EXEMPT = ("not legal advice", f"do not {_REFUSING}", f"does not {_REFUSING}")


class SupportScorer(Protocol):
    """How well a passage supports a sentence, from 0 to 1."""

    def __call__(self, sentence: str, passage: str) -> float: ...


class CitedSource(Protocol):
    """What verification needs of a source."""

    id: str
    text: str
    start: int


@dataclass(frozen=True)
class Citation:
    """One citation marker in the answer, and what checking it found."""

    marker: int
    sentence: int
    source_id: str | None
    valid: bool
    quote_ok: bool | None = None
    support: float | None = None
    span: tuple[int, int] | None = None
    # What the claim checks found: "supported", "contradicted" (the source says
    # otherwise), "not_found" (it does not say this); why, in a sentence; and the
    # source sentence the answer's sentence was compared with.
    verdict: str | None = None
    reason: str = ""
    source_sentence: str | None = None


@dataclass
class Verification:
    """The checked answer and every finding."""

    answer: str
    citations: list[Citation] = field(default_factory=list)
    invalid_markers: list[int] = field(default_factory=list)
    unsupported_sentences: list[str] = field(default_factory=list)
    misgrounded_sentences: list[str] = field(default_factory=list)
    quotes_not_found: list[str] = field(default_factory=list)


def _normalise(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def split_passage(text: str) -> list[str]:
    """A source's sentences, as written (markers are not expected in sources)."""
    return split_source(text)


def without_instructions(passage: str) -> str:
    """``passage`` less its sentences that give the model orders."""
    sentences = split_passage(passage)
    return " ".join(s for s in sentences if not _INSTRUCTION.search(s))


def quote_found(quote: str, passage: str) -> bool:
    """True when ``quote`` appears in ``passage``, up to case, spacing, punctuation, typos."""
    needle, haystack = _normalise(quote), _normalise(passage)
    if not needle:
        return True
    if needle in haystack:
        return True
    words = set(needle.split())
    if len(words) >= 3 and len(words - set(haystack.split())) > max(1, len(words) / 3):
        # A third of its words are nowhere in the passage: typos that leave a 90% match
        # do not do that, and the fuzzy match below is quadratic in the passage's length.
        return False
    match = SequenceMatcher(None, haystack, needle, autojunk=False).find_longest_match(
        0, len(haystack), 0, len(needle)
    )
    # Extend the longest exact run to a window of the quote's length and compare it whole.
    start = max(0, match.a - match.b)
    window = haystack[start : start + len(needle)]
    return SequenceMatcher(None, window, needle, autojunk=False).ratio() >= QUOTE_MATCH


def word_coverage(sentence: str, passage: str) -> float:
    """Share of the sentence's content words found in the passage; 0 if a number is not."""
    if numbers_missing(sentence, passage):
        return 0.0
    words = content_words(sentence)
    if not words:
        return 1.0
    return len(words & content_words(passage)) / len(words)


class EmbeddingSupport:
    """Word coverage averaged with embedding similarity (numbers still decisive).

    Vectors are kept by text for the life of the scorer (one answer): a source cited
    by several sentences is embedded once, a source whose chunks' vectors the index
    already holds is not embedded at all (:meth:`remember`), and :meth:`prime` embeds
    an answer's sentences in one batch. A source made of several chunks supports a
    sentence as well as its best chunk does: the model reads no more than its
    ``max_seq_length`` of a long passage, a chunk fits it whole.
    """

    def __init__(self, embed: Callable[[list[str]], list[list[float]]]) -> None:
        self._embed = embed
        self._vectors: dict[str, np.ndarray] = {}

    def remember(self, text: str, vectors: Sequence[Sequence[float]]) -> None:
        """Use ``vectors`` (the same model's, normalised: one per chunk ``text`` is
        made of) for ``text`` instead of embedding it."""
        if len(vectors):
            self._vectors[text] = np.asarray(vectors, dtype=np.float64).reshape(len(vectors), -1)

    def prime(self, texts: Sequence[str]) -> None:
        """Embed the ``texts`` not yet known, in one batch."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            for text, vector in zip(missing, self._embed(missing), strict=True):
                self._vectors[text] = np.asarray([vector], dtype=np.float64)

    def _vectors_of(self, text: str) -> np.ndarray:
        if text not in self._vectors:
            self.prime([text])
        return self._vectors[text]

    def __call__(self, sentence: str, passage: str) -> float:
        """The support score of ``passage`` for ``sentence``, 0 to 1."""
        words = word_coverage(sentence, passage)
        if words == 0.0:
            return 0.0
        (first,) = self._vectors_of(strip_markers(sentence))
        cosine = float((self._vectors_of(passage) @ first).max())
        return 0.5 * words + 0.5 * max(0.0, cosine)


def embedding_support(embed: Callable[[list[str]], list[list[float]]]) -> EmbeddingSupport:
    """An :class:`EmbeddingSupport` scorer over ``embed``."""
    return EmbeddingSupport(embed)


def support_text(passage: str) -> str | None:
    """The text verification scores ``passage`` by, when it is the passage's own text.

    None when the passage holds instructions to the model: those sentences are cut
    before scoring, so a vector of the whole passage would not stand for it.
    """
    sentences = split_passage(passage)
    if any(_INSTRUCTION.search(s) for s in sentences):
        return None
    return " ".join(sentences)


@dataclass(frozen=True)
class Sentence:
    """One sentence of an answer, its markers, and the answer line it starts on."""

    text: str
    markers: list[int]
    line: int = 0


def split_sentences(answer: str) -> list[Sentence]:
    """Sentences with their markers; markers that open a sentence belong to the one before."""
    pieces: list[tuple[int, str]] = []
    for number, line in enumerate(answer.splitlines()):
        pieces.extend((number, p) for p in split_at(line.strip(), _SENTENCE_END) if p.strip())
    sentences: list[Sentence] = []
    for number, piece in pieces:
        leading = re.match(r"^((?:\s*" + _MARKER.pattern + r")+)", piece, re.IGNORECASE)
        if leading and sentences:
            moved = _markers(leading.group(0))
            last = sentences[-1]
            sentences[-1] = Sentence(
                last.text + " " + leading.group(0).strip(), last.markers + moved, last.line
            )
            piece = piece[leading.end() :].strip()
            if not piece:
                continue
        sentences.append(Sentence(piece, _markers(piece), number))
    return sentences


def marker_groups(text: str) -> list[tuple[int, int, list[int]]]:
    """Each citation marker in ``text``: (start, end, source numbers), as the checks read them."""
    return [(m.start(), m.end(), _markers(m.group(0))) for m in _MARKER.finditer(text)]


def strip_markers(text: str) -> str:
    """``text`` without citation markers (and without the space they leave before a stop)."""
    return re.sub(r"\s+([.,;:!?])", r"\1", _MARKER.sub("", text)).strip()


def _markers(text: str) -> list[int]:
    found: list[int] = []
    for group in _MARKER.findall(text):
        found.extend(int(n) for n in re.split(r"\s*,\s*", group))
    return found


def _states_something(sentence: str) -> bool:
    bare = strip_markers(sentence)
    lowered = bare.lower()
    if any(phrase in lowered for phrase in _EXEMPT):
        return False
    if bare.endswith((":", "?")):
        return False
    return len(content_words(bare)) >= 3


def best_span(sentence: str, source: CitedSource) -> tuple[int, int]:
    """Document offsets of the passage sentence that best matches ``sentence``, less a
    post's layout label ("Answer #1: "): the span is what the source says."""
    best = best_sentence(sentence, source.text)
    post = _POST.search(source.text)
    label = post and _LAYOUT_LABEL.match(source.text, best.start, best.end)
    start = label.end() if label and label.end() < best.end else best.start
    return source.start + start, source.start + best.end


def verify_citations(
    answer: str, sources: Sequence[CitedSource], support: SupportScorer = word_coverage
) -> Verification:
    """Check every citation of ``answer`` against ``sources`` (marker n = sources[n-1])."""
    result = Verification(answer=answer)
    evidence_of = [without_instructions(s.text) for s in sources]
    for index, sentence in enumerate(split_sentences(answer)):
        quotes = _QUOTE.findall(sentence.text)
        for quote in quotes:
            if not any(quote_found(quote, s.text) for s in sources):
                result.quotes_not_found.append(quote)
        verdicts: list[str] = []
        for marker in sentence.markers:
            if not 1 <= marker <= len(sources):
                result.invalid_markers.append(marker)
                result.citations.append(
                    Citation(
                        marker,
                        index,
                        None,
                        valid=False,
                        verdict=NOT_FOUND,
                        reason=f"there is no source [{marker}]: the citation was removed",
                    )
                )
                continue
            source = sources[marker - 1]
            evidence = evidence_of[marker - 1]
            score = round(support(sentence.text, evidence), 4)
            found = [quote_found(q, source.text) for q in quotes]
            claim = check_claim(
                sentence.text,
                evidence,
                support=score,
                threshold=SUPPORT_THRESHOLD,
                jurisdiction=getattr(source, "jurisdiction", "") or "",
                quotes_found=all(found) if quotes else None,
                quoted_evidence=quoted_evidence(quotes, found),
            )
            claim = _attributed(claim, sentence.text, marker, evidence_of)
            verdicts.append(claim.verdict)
            result.citations.append(
                Citation(
                    marker,
                    index,
                    source.id,
                    valid=True,
                    quote_ok=all(found) if quotes else None,
                    support=score,
                    span=best_span(sentence.text, source),
                    verdict=claim.verdict,
                    reason=claim.reason,
                    source_sentence=claim.source_sentence,
                )
            )
        bare = strip_markers(sentence.text)
        if not _states_something(sentence.text):
            continue
        if not verdicts:
            result.unsupported_sentences.append(bare)
        elif SUPPORTED not in verdicts:
            # No cited source supports it: each says otherwise or does not say it.
            result.misgrounded_sentences.append(bare)
    if result.invalid_markers:
        result.answer = _remove_markers(answer, len(sources))
    return result


def _attributed(claim: ClaimCheck, sentence: str, marker: int, evidence: list[str]) -> ClaimCheck:
    """``claim``, or not found when another given source holds the sentence's words."""
    better = better_source(sentence, marker, evidence) if claim.verdict != CONTRADICTED else None
    if better is None:
        return claim
    n, share = better
    return ClaimCheck(
        NOT_FOUND,
        f"source [{marker}] holds few of this sentence's words; source [{n}] holds "
        f"{share:.0%} of them: the citation points at the wrong source",
        claim.source_sentence,
    )


def _remove_markers(answer: str, count: int) -> str:
    def keep_valid(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.split(r"\s*,\s*", match.group(1))]
        kept = [n for n in numbers if 1 <= n <= count]
        return "" if not kept else "".join(f"[{n}]" for n in kept)

    cleaned = _MARKER.sub(keep_valid, answer)
    return re.sub(r"[ \t]+([.,;:])", r"\1", cleaned)
