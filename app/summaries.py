"""Document summaries for summary-augmented chunking (arXiv 2510.06999).

A chunk of a long document often reads the same as a chunk of another ("the
Receiving Party shall return all copies"); a short summary of its whole document
before it, when it is embedded, tells them apart. Off unless ``ingest_summaries``:
one model call per document ingested.

The factory builds :class:`ModelSummariser` from the answer model and hands ingest
the plain callable (ingest does not import the app).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from legalrag.app.generation import Generator

MAX_WORDS = 60
"""A summary is cut to this many words (the prompt asks for no more)."""
OPENING_CHARS = 12_000
"""How much of a document the model reads: its opening (parties, recitals, scope)."""
SUMMARY_MAX_TOKENS = 2048
"""The reply's budget: room for a reasoning model's thinking before the summary."""


class ModelSummariser:
    """``(title, text) -> summary`` by the answer model (``prompts/summary.j2``)."""

    def __init__(self, generator: Generator, *, max_tokens: int) -> None:
        if not generator.capabilities.complete:
            raise ValueError(f"{generator.model_name} cannot summarise: no plain prompts")
        self.generator = generator
        self.max_tokens = max_tokens

    def __call__(self, title: str, text: str) -> str:
        """The document's summary, one line of at most :data:`MAX_WORDS` words.

        A failing model raises (:class:`~legalrag.errors.GenerationError`, a backend
        error): a run that would embed some chunks with and some without a summary
        stops instead, and resumes where it stopped.
        """
        from legalrag.app.prompting import load_template

        prompt = load_template("summary.j2").render(
            title=title, text=text[:OPENING_CHARS], max_words=MAX_WORDS
        )
        reply = self.generator.complete(prompt, max_tokens=self.max_tokens).text
        return clean_summary(reply)


def clean_summary(reply: str) -> str:
    """A model's reply as a summary: one line, no "Summary:" label, :data:`MAX_WORDS` words."""
    words = reply.split()
    if words and words[0].rstrip(":").lower() == "summary":
        words = words[1:]
    return " ".join(words[:MAX_WORDS]).strip("\"'“”*` ")
