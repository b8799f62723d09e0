"""The offline answerer: quotes the sources' most relevant sentences, each cited.

Deterministic and honest about what it is: no language model, just the sentences
of the retrieved passages that share the most content words with the question,
quoted verbatim with their source number, in the same output format as a
model's answer, so that the verifier and the UI treat both alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from legalrag.app.citations import content_words, split_passage
from legalrag.app.generation.events import (
    AnswerText,
    Completion,
    Event,
    Finished,
    GenerationRequest,
)
from legalrag.app.generation.protocol import Capabilities
from legalrag.app.refusal import REFUSAL
from legalrag.errors import GenerationError
from legalrag.us_states import STATES

EXTRACTIVE_NOTE = (
    "Extractive answer (no language model is configured): the most relevant sentences "
    "of the retrieved sources, quoted:"
)


def _answer_part(text: str) -> str:
    """The replies of a post, not the asker's own account of the facts."""
    if "Question:" not in text:
        return text
    start = text.find("Answer #")
    return "" if start < 0 else text[start:]


_NAMES = {code: name for name, code in STATES.items()}


def _place(code: str | None) -> str:
    """ "From a Texas source: " (federal for US; nothing for a source without one)."""
    if not code:
        return ""
    name = "federal" if code.upper() == "US" else _NAMES.get(code.upper(), code)
    return f"From a {name} source: "


class ExtractiveGenerator:
    """A :class:`~legalrag.app.generation.Generator` that needs no model."""

    model_name = "extractive"
    # No model: nothing to ask a plain prompt, so the reranker, the support check and
    # the follow-up rewriter are given their offline forms (legalrag.factory).
    capabilities = Capabilities()

    def __init__(self, sentences_per_source: int = 2, max_sentences: int = 8) -> None:
        self.sentences_per_source = sentences_per_source
        # The sources now fill a token budget (several passages of a contract, up to
        # retrieve_k of them): two sentences from each would quote dozens.
        self.max_sentences = max_sentences

    def generate(self, request: GenerationRequest) -> Iterator[Event]:
        """The best-matching sentences of all sources, quoted in the sources' order."""
        question_words = content_words(request.question)
        scored = []
        for number, source in enumerate(request.sources, start=1):
            merit = source.rank if source.rank is not None else number
            for position, sentence in enumerate(split_passage(_answer_part(source.text))):
                sentence = " ".join(sentence.split())
                # Skip the post's header lines and fragments that say nothing.
                if sentence.startswith(("Title:", "Question:")) or len(sentence.split()) < 5:
                    continue
                sentence = re.sub(r"^Answer #\d+:\s*", "", sentence).replace('"', "'")
                overlap = len(question_words & content_words(sentence))
                scored.append((-overlap, merit, position, number, sentence))
        chosen, per_source = [], {}
        for item in sorted(scored):
            number = item[3]
            if per_source.get(number, 0) < self.sentences_per_source:
                per_source[number] = per_source.get(number, 0) + 1
                chosen.append(item)
            if len(chosen) == self.max_sentences:
                break
        if not chosen:
            # Nothing to quote (the one source was the asker's own account): a refusal,
            # never a note introducing quotes that do not follow.
            yield AnswerText(REFUSAL)
            yield Finished(truncated=False, finish_reason="stop")
            return
        lines = [EXTRACTIVE_NOTE]
        places = {request.sources[item[3] - 1].jurisdiction or "" for item in chosen}
        for _, _, _, number, sentence in sorted(chosen, key=lambda item: (item[3], item[2])):
            # Quotes from several jurisdictions say whose rule each is: a California
            # question must not read a New York rule as California's.
            place = _place(request.sources[number - 1].jurisdiction) if len(places) > 1 else ""
            lines.append(f'- {place}"{sentence}" [{number}]')
        lines.append("This is not legal advice.")
        yield AnswerText("\n".join(lines))
        yield Finished(truncated=False, finish_reason="stop")

    def complete(self, prompt: str, *, max_tokens: int, logprobs: int = 0) -> Completion:
        """Not supported (``capabilities.complete`` is false): there is no model to ask."""
        raise GenerationError(
            "the extractive answerer cannot answer a plain prompt: no language model is "
            "configured (LEGALRAG_LLM_BASE_URL)"
        )
