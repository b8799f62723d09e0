"""The adversarial set for the citation verifier, built from real retrieved sources.

For each question the real retriever gives the sources; sentences of those sources,
cited ``[n]`` to their own source, make a correct answer (verbatim, and lightly
paraphrased by :func:`~legalrag.eval.adversarial_paraphrase.paraphrase`). Then one error of
each kind (:data:`~legalrag.eval.adversarial.KINDS`) is planted into one sentence of
such an answer, and the production verifier (``verify_citations`` with the
factory's support check) either flags that sentence or does not. The figures: the
share of planted errors caught, per kind, and the share of correct sentences
wrongly flagged. Every choice is drawn from a generator seeded by the run's seed
and the question's id, so a run is the same on every machine with the same index.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from legalrag.app.citations import (
    content_words,
    split_passage,
    split_sentences,
    strip_markers,
    verify_citations,
    word_coverage,
)
from legalrag.eval.adversarial import (
    CLAIMS_FROM_NO_SOURCE,
    KINDS,
    TEXT_KINDS,
    Mutator,
    cite_source,
    claim_from_no_source,
)
from legalrag.eval.adversarial_paraphrase import paraphrase

if TYPE_CHECKING:
    from legalrag.app.retrieval import RetrievedPassage, Retriever
    from legalrag.app.support_check import SupportChecker
    from legalrag.eval.question_sets import EvalQuestion
    from legalrag.settings import Settings

ANSWER_SENTENCES = 3
"""Sentences in a correct answer: the planted one sits among real neighbours."""

FOREIGN = 0.5
"""A source "does not contain" a claim when it covers less than this share of the
claim's content words (the wrong-source and no-source kinds need such sources)."""

CORRECT_KINDS = ("correct_verbatim", "correct_paraphrase")
# The verifier's own quote pattern (app/citations.py), to find a sentence's quotes.
_QUOTE = re.compile(r"[\"“]([^\"“”]{4,}?)[\"”]")
# Sentences a source holds that an answer could quote: whole, plain, long enough to
# state something, and one sentence to the verifier too.
_MIN_CHARS, _MAX_CHARS, _MIN_WORDS = 40, 320, 5


@dataclass(frozen=True)
class Row:
    """One sentence checked: a correct one or a planted error, and what was found."""

    question_id: str
    kind: str
    original: str
    sentence: str  # as it stands in the answer (== original for a verbatim correct one)
    caught: bool  # for a correct sentence: flagged (wrongly)
    findings: list[str] = field(default_factory=list)
    answer: str = ""


def cited(sentence: str, number: int) -> str:
    """``sentence`` (ending in a stop) citing source ``number`` before its stop."""
    return f"{sentence[:-1].rstrip()} [{number}]{sentence[-1]}"


def source_sentences(passages: Sequence[RetrievedPassage]) -> list[tuple[int, str]]:
    """(source number, sentence) for every sentence of the sources an answer may cite."""
    found: list[tuple[int, str]] = []
    for number, passage in enumerate(passages, start=1):
        for line in passage.text.splitlines():
            for piece in split_passage(line.strip()):
                text = piece.strip()
                if _quotable(text) and len(split_sentences(cited(text, number))) == 1:
                    found.append((number, text))
    return found


def _quotable(text: str) -> bool:
    return (
        _MIN_CHARS <= len(text) <= _MAX_CHARS
        and text[0].isupper()
        and text[-1] == "."  # the verifier checks no question
        and not re.search(r"[\"“”\[\]]", text)
        and ":" not in text[:24]  # "Title: ...", "Answer #2: ..." headers
        and len(content_words(text)) >= _MIN_WORDS
    )


def _foreign(claim: str, passage: RetrievedPassage) -> bool:
    return word_coverage(claim, passage.text) < FOREIGN


def _wrong_source(
    number: int, sentence: str, passages: Sequence[RetrievedPassage], rng: random.Random
) -> Mutator | None:
    others = [n for n in range(1, len(passages) + 1) if n != number]
    rng.shuffle(others)
    for other in others:
        if _foreign(sentence, passages[other - 1]):
            return cite_source(other)
    return None


def _no_source_claim(passages: Sequence[RetrievedPassage], rng: random.Random) -> Mutator | None:
    claims = list(CLAIMS_FROM_NO_SOURCE)
    rng.shuffle(claims)
    for claim in claims:
        if all(_foreign(claim, p) for p in passages):
            return claim_from_no_source(claim)
    return None


def _mutator(
    kind: str, number: int, sentence: str, passages: Sequence[RetrievedPassage], rng: random.Random
) -> Mutator | None:
    if kind in TEXT_KINDS:
        return TEXT_KINDS[kind]
    if kind == "wrong_source":
        return _wrong_source(number, sentence, passages, rng)
    return _no_source_claim(passages, rng)


def sentence_findings(verification: Any, answer: str, index: int) -> list[str]:
    """Which of the verifier's findings name sentence ``index`` of ``answer``."""
    sentence = split_sentences(answer)[index].text
    bare = strip_markers(sentence)
    found: list[str] = []
    if bare in verification.misgrounded_sentences:
        found.append("misgrounded")
    if bare in verification.unsupported_sentences:
        found.append("unsupported")
    if any(q in verification.quotes_not_found for q in _QUOTE.findall(sentence)):
        found.append("quote_not_found")
    for citation in verification.citations:
        if citation.sentence != index:
            continue
        if not citation.valid:
            found.append("invalid_marker")
        # Read so that this works before and after the verifier gains verdicts.
        verdict = getattr(citation, "verdict", None)
        if verdict in {"contradicted", "not_found"}:
            found.append(f"verdict_{verdict}")
    return list(dict.fromkeys(found))


class _Batch:
    """A question's answers, verified together: their sentences are embedded in one
    batch first (one call instead of one per answer, which cost 0.45 s each on CPU)."""

    def __init__(
        self,
        passages: Sequence[RetrievedPassage],
        check: SupportChecker,
        prime: Callable[[list[str]], None],
    ) -> None:
        self._passages = passages
        self._check = check
        self._prime = prime
        self._answers: list[list[str]] = []

    def add(self, parts: Sequence[str]) -> int | None:
        """Queue the answer made of ``parts``; None when they do not split back into
        themselves (a mutation that made two sentences of one)."""
        answer = " ".join(parts)
        counts = [len(split_sentences(part)) for part in parts]
        if not parts or counts != [1] * len(parts) or len(split_sentences(answer)) != len(parts):
            return None
        self._answers.append(list(parts))
        return len(self._answers) - 1

    def run(self) -> list[tuple[str, list[list[str]]]]:
        """Each queued answer and each of its parts' findings."""
        answers = [" ".join(parts) for parts in self._answers]
        self._prime([strip_markers(s.text) for a in answers for s in split_sentences(a)])
        checked = []
        for answer, parts in zip(answers, self._answers, strict=True):
            scorer = self._check(answer, self._passages)
            verification = verify_citations(answer, self._passages, scorer)
            findings = [sentence_findings(verification, answer, i) for i in range(len(parts))]
            checked.append((answer, findings))
        return checked


@dataclass(frozen=True)
class _Case:
    kind: str
    originals: list[str]
    parts: list[str]
    handle: int
    planted: int | None = None  # the planted part's index; None: every part is correct


def question_rows(
    question_id: str,
    passages: Sequence[RetrievedPassage],
    check: SupportChecker,
    seed: int,
    prime: Callable[[list[str]], None] = lambda texts: None,
) -> list[Row]:
    """Every correct and planted sentence for one question's sources."""
    rng = random.Random(f"{seed}:{question_id}")
    candidates = source_sentences(passages)
    rng.shuffle(candidates)
    batch = _Batch(passages, check, prime)
    answer_parts: list[tuple[int, str]] = []
    for number, text in candidates:  # distinct sources, as an answer would cite them
        if len(answer_parts) < ANSWER_SENTENCES and number not in {n for n, _ in answer_parts}:
            answer_parts.append((number, text))
    verbatim = [cited(text, n) for n, text in answer_parts]
    reworded = [(cited(t, n), p) for n, t in candidates if (p := paraphrase(cited(t, n)))]
    originals = [o for o, _ in reworded[:ANSWER_SENTENCES]]
    paraphrased = [p for _, p in reworded[:ANSWER_SENTENCES]]
    cases: list[_Case] = []
    for kind, before, parts in (
        ("correct_verbatim", verbatim, verbatim),
        ("correct_paraphrase", originals, paraphrased),
    ):
        if (handle := batch.add(parts)) is not None:
            cases.append(_Case(kind, before, parts, handle))
    for kind in KINDS:
        case = _planted_case(kind, candidates, verbatim, passages, batch, rng)
        if case is not None:
            cases.append(case)
    checked = batch.run()
    rows: list[Row] = []
    for case in cases:
        answer, findings = checked[case.handle]
        indices = range(len(case.parts)) if case.planted is None else [case.planted]
        for i in indices:
            original = case.originals[0 if case.planted is not None else i]
            found = findings[i]
            rows.append(
                Row(question_id, case.kind, original, case.parts[i], bool(found), found, answer)
            )
    return rows


def _planted_case(
    kind: str,
    candidates: list[tuple[int, str]],
    context: list[str],
    passages: Sequence[RetrievedPassage],
    batch: _Batch,
    rng: random.Random,
) -> _Case | None:
    """The first candidate sentence the kind applies to, planted among the correct
    answer's other sentences."""
    for number, text in candidates:
        original = cited(text, number)
        mutate = _mutator(kind, number, text, passages, rng)
        mutated = mutate(original) if mutate else None
        if mutated is None:
            continue
        neighbours = [s for s in context if s != original][: ANSWER_SENTENCES - 1]
        where = rng.randint(0, len(neighbours))
        parts = [*neighbours[:where], mutated, *neighbours[where:]]
        handle = batch.add(parts)
        if handle is not None:
            return _Case(kind, [original], parts, handle, where)
    return None


# --- a whole run ----------------------------------------------------------------------


class CachingEmbedder:
    """An embedder that remembers the vectors of the texts it embedded, so that the
    sentences of a question's answers can be embedded in one batch (:meth:`prime`)
    before the production check embeds them one answer at a time. The vectors are
    the wrapped model's own: what the check scores is unchanged."""

    def __init__(self, embedder: Any) -> None:
        self._embedder = embedder
        self._vectors: dict[str, list[float]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._embedder, name)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """Vectors of ``texts``, each embedded once."""
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            self._vectors.update(zip(missing, self._embedder.embed_documents(missing), strict=True))
        return [self._vectors[t] for t in texts]

    def prime(self, texts: list[str]) -> None:
        """Forget the last question's texts; embed these in one batch."""
        self._vectors.clear()
        self.embed_documents(texts)


@dataclass
class AdversarialContext:
    """What a run needs, opened once: the retriever and the production support check."""

    retriever: Retriever
    check: SupportChecker
    support_check: str
    prime: Callable[[list[str]], None] = lambda texts: None


def open_adversarial(settings: Settings) -> AdversarialContext:
    """The configured index's retriever and the support check the answer engine uses
    (the factory's, over the index's embedder)."""
    from legalrag.factory import open_retriever

    return verifier_context(settings, open_retriever(settings))


def verifier_context(settings: Settings, retriever: Retriever) -> AdversarialContext:
    """The support check the answer engine uses, over ``retriever``'s embedder."""
    from legalrag.factory import make_generator, make_support_checker

    if retriever.embedder is None:
        check = make_support_checker(settings, None, make_generator(settings))
        return AdversarialContext(retriever, check, settings.support_check)
    embedder = CachingEmbedder(retriever.embedder)
    check = make_support_checker(settings, embedder, make_generator(settings))
    return AdversarialContext(retriever, check, settings.support_check, embedder.prime)


def select_questions(
    questions: Sequence[EvalQuestion], limit: int | None, seed: int
) -> list[EvalQuestion]:
    """``limit`` questions drawn with ``seed`` (all of them without a limit), in the
    set's order: a set is often grouped by document, so its first N would be few."""
    if limit is None or limit >= len(questions):
        return list(questions)
    chosen = set(random.Random(seed).sample(range(len(questions)), limit))
    return [q for i, q in enumerate(questions) if i in chosen]


def run_adversarial(
    questions: Iterable[EvalQuestion],
    context: AdversarialContext,
    seed: int,
    on_progress: Callable[[int], None] = lambda done: None,
) -> tuple[list[Row], int]:
    """Every row of the set over ``questions``, and how many got no sources."""
    rows: list[Row] = []
    without_sources = 0
    for done, question in enumerate(questions, start=1):
        passages = context.retriever.retrieve(question.question).passages
        if passages:
            rows += question_rows(question.id, passages, context.check, seed, context.prime)
        else:
            without_sources += 1
        on_progress(done)
    return rows, without_sources
