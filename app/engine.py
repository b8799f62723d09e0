"""The answer engine: retrieve, gate, prompt, generate, verify.

The relevance gate answers "The retrieved sources do not address this question."
without calling the model; everything the model says is verified against the
sources it was given before it is shown as an answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from legalrag.app.citations import (
    EmbeddingSupport,
    SupportScorer,
    lexical_support,
    split_sentences,
    strip_markers,
    support_text,
    verify_citations,
)
from legalrag.app.generation import (
    AnswerText,
    Event,
    Finished,
    GenerationRequest,
    Generator,
    Reasoning,
)
from legalrag.app.prompting import render_answer_prompt, template_version
from legalrag.app.retrieval import NOT_ADDRESSED, Filters, RetrievedPassage

if TYPE_CHECKING:
    from legalrag.app.retrieval import Retriever
    from legalrag.settings import Settings

TRUNCATED_BEFORE_ANSWER = (
    "The model ran out of tokens before it began the answer (LEGALRAG_LLM_MAX_TOKENS)."
)


@dataclass
class Answer:
    """Everything `legalrag ask --json` prints."""

    question: str
    answer: str
    reasoning: str = ""
    refused: bool = False
    truncated: bool = False
    citations: list[dict[str, Any]] = field(default_factory=list)
    unsupported_sentences: list[str] = field(default_factory=list)
    misgrounded_sentences: list[str] = field(default_factory=list)
    quotes_not_found: list[str] = field(default_factory=list)
    invalid_markers: list[int] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)
    model: str = ""
    prompt_version: str = ""
    filters: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for --json and the audit log."""
        return asdict(self)


def _sources(passages: list[RetrievedPassage]) -> list[dict[str, Any]]:
    return [
        {
            "marker": n,
            "id": p.id,
            "document_id": p.document_id,
            "title": p.title,
            "url": p.url,
            "jurisdiction": p.jurisdiction,
            "created": p.created,
            "text": p.text,
            "score": p.score,
            "start": p.start,
            "end": p.end,
            "stages": None if p.stages is None else asdict(p.stages),
        }
        for n, p in enumerate(passages, start=1)
    ]


def _ms(since: float) -> float:
    return round(1000 * (time.perf_counter() - since), 1)


class AnswerEngine:
    """Answers questions from one index with one generator."""

    def __init__(self, settings: Settings, retriever: Retriever, generator: Generator) -> None:
        self.settings = settings
        self.retriever = retriever
        self.generator = generator
        self._support = _support_scorer(settings, retriever, generator)

    def answer(
        self,
        question: str,
        *,
        filters: Filters | None = None,
        k: int | None = None,
        on_event: Callable[[Event], None] | None = None,
    ) -> Answer:
        """Answer ``question``; ``on_event`` sees reasoning and answer as they stream."""
        started = time.perf_counter()
        retrieved = self.retriever.retrieve(question, k=k, filters=filters)
        result = Answer(
            question=question,
            answer="",
            model=self.generator.model_name,
            prompt_version=template_version("answer.j2"),
            filters=retrieved.filters.describe(),
            sources=_sources(retrieved.passages),
            timings={"retrieve_ms": _ms(started)},
        )
        if not retrieved.passages:  # the gate, or filters that match nothing: no model call
            result.refused = True
            result.answer = retrieved.reason or NOT_ADDRESSED
            return result

        prompt = render_answer_prompt(question, retrieved.passages)
        started = time.perf_counter()
        answer_parts: list[str] = []
        reasoning_parts: list[str] = []
        request = GenerationRequest(
            question=question, sources=retrieved.passages, prompt=prompt.text
        )
        for event in self.generator.generate(request):
            if on_event is not None:
                on_event(event)
            if isinstance(event, Reasoning):
                reasoning_parts.append(event.text)
            elif isinstance(event, AnswerText):
                answer_parts.append(event.text)
            elif isinstance(event, Finished):
                result.truncated = event.truncated
        result.timings["generate_ms"] = _ms(started)
        result.reasoning = "".join(reasoning_parts).strip()
        raw_answer = "".join(answer_parts).strip()

        started = time.perf_counter()
        checked = verify_citations(
            raw_answer, retrieved.passages, self.support_for(raw_answer, retrieved.passages)
        )
        result.timings["verify_ms"] = _ms(started)
        result.answer = checked.answer or (TRUNCATED_BEFORE_ANSWER if result.truncated else "")
        result.refused = NOT_ADDRESSED.lower() in raw_answer.lower()
        result.citations = [asdict(c) for c in checked.citations]
        result.unsupported_sentences = checked.unsupported_sentences
        result.misgrounded_sentences = checked.misgrounded_sentences
        result.quotes_not_found = checked.quotes_not_found
        result.invalid_markers = checked.invalid_markers
        return result

    def support_for(self, answer: str, passages: list[RetrievedPassage]) -> SupportScorer:
        """The support scorer for verifying ``answer`` against ``passages``."""
        return self._support(answer, passages)


SupportFactory = Callable[[str, list[RetrievedPassage]], SupportScorer]


def _support_scorer(
    settings: Settings, retriever: Retriever, generator: Generator
) -> SupportFactory:
    """The judge model when asked for (and available), else the offline score."""
    from legalrag.app.generation import OpenAICompatibleGenerator

    if settings.support_check == "llm" and isinstance(generator, OpenAICompatibleGenerator):
        from legalrag.app.support_judge import JudgeSupport

        judge = JudgeSupport(generator)
        return lambda answer, passages: judge
    embedder = retriever.embedder
    if embedder is None:
        return lambda answer, passages: lexical_support

    def offline(answer: str, passages: list[RetrievedPassage]) -> SupportScorer:
        # The sources' vectors are the index's own, not embedded again, and the
        # answer's sentences are embedded in one batch: embedding each (sentence,
        # source) pair cost about 1 s an answer on CPU (docs/benchmarks.md).
        scorer = EmbeddingSupport(embedder.embed_documents)
        for passage in passages:
            text = support_text(passage.text)
            if passage.vectors and text is not None:
                scorer.remember(text, passage.vectors)
        scorer.prime([strip_markers(s.text) for s in split_sentences(answer)])
        return scorer

    return offline


def make_generator(settings: Settings) -> Generator:
    """The configured endpoint, or the offline extractive answerer without one."""
    if settings.llm_base_url:
        from legalrag.app.generation import OpenAICompatibleGenerator

        return OpenAICompatibleGenerator(settings)
    from legalrag.app.extractive import ExtractiveGenerator

    return ExtractiveGenerator()
