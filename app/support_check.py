"""The support check: does a cited source support an answer's sentence?

Two checks, chosen by :func:`legalrag.factory.make_support_checker`:

- :class:`ModelSupportCheck`: the reasoning model judges each (sentence, source)
  pair (prompts/support.j2), for a generator that can answer a plain prompt;
- :func:`embedding_support_check`: the offline score, word coverage averaged with
  the embedder's cosine, the sources' vectors taken from the index.

A :data:`SupportChecker` gives the engine the scorer for one answer; the scorer
(:class:`~legalrag.app.citations.SupportScorer`) rates one sentence against one
source. ("Judge" is kept for eval's RAGAS judge.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from legalrag.app.citations import (
    EmbeddingSupport,
    SupportScorer,
    numbers_in,
    split_sentences,
    strip_markers,
    support_text,
    word_coverage,
)
from legalrag.app.prompting import load_template
from legalrag.app.reranking import verdict_probability

if TYPE_CHECKING:
    from legalrag.app.generation import Generator
    from legalrag.app.retrieval import RetrievedPassage

SupportChecker = Callable[[str, Sequence["RetrievedPassage"]], SupportScorer]
"""The support scorer for verifying one answer against the passages it was given."""


class ModelSupportCheck:
    """A support scorer that asks the reasoning model (prompts/support.j2).

    The number rule of the offline scorer still applies first: a claim whose
    numbers are not in the passage is unsupported whatever the model says. A
    judgement that names neither word falls back to the offline score.
    """

    def __init__(self, generator: Generator, max_tokens: int = 1024) -> None:
        if not generator.capabilities.complete:
            raise ValueError(f"{generator.model_name} cannot check support: no plain prompts")
        self._generator = generator
        self._max_tokens = max_tokens
        # Logprobs make the verdict a probability; without them the word decides.
        self._logprobs = 5 if generator.capabilities.logprobs else 0

    def __call__(self, sentence: str, passage: str) -> float:
        """P(supported) from the model's final true/false."""
        claim = strip_markers(sentence)
        if not numbers_in(claim) <= numbers_in(passage):
            return 0.0
        prompt = load_template("support.j2").render(claim=claim, passage=passage)
        reply = self._generator.complete(
            prompt, max_tokens=self._max_tokens, logprobs=self._logprobs
        )
        probability = verdict_probability(reply.text, reply.logprobs)
        return word_coverage(claim, passage) if probability is None else probability


def every_answer(scorer: SupportScorer) -> SupportChecker:
    """A checker that scores every answer with ``scorer`` (nothing to prepare per answer)."""
    return lambda answer, passages: scorer


def embedding_support_check(embed: Callable[[list[str]], list[list[float]]]) -> SupportChecker:
    """The offline check over ``embed`` (the index's embedder's ``embed_documents``)."""

    def check(answer: str, passages: Sequence[RetrievedPassage]) -> SupportScorer:
        # The sources' vectors are the index's own, not embedded again, and the
        # answer's sentences are embedded in one batch: embedding each (sentence,
        # source) pair cost about 1 s an answer on CPU (docs/benchmarks.md).
        scorer = EmbeddingSupport(embed)
        for passage in passages:
            text = support_text(passage.text)
            if passage.vectors and text is not None:
                scorer.remember(text, passage.vectors)
        scorer.prime([strip_markers(s.text) for s in split_sentences(answer)])
        return scorer

    return check
