"""All wiring in one place: which store, embedder, reranker, generator and support
checker the settings name, built and handed to the parts that use them.

Only the edges (the CLI, the chat process, eval, ingest's entry point, bench)
call this module; the parts themselves receive what they need and never read
the settings to build a backend. A new backend is one new module plus one branch
here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from legalrag.app.engine import AnswerEngine
    from legalrag.app.generation import Generator
    from legalrag.app.retrieval import Retriever
    from legalrag.embedding import Embedder
    from legalrag.settings import Settings


def make_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name."""
    from legalrag.embedding import make_embedder as build

    return build(settings)


def open_retriever(settings: Settings, embedder: Embedder | None = None) -> Retriever:
    """A retriever over the configured index, with the configured stages.

    ``embedder``: one already loaded (a process shares one), else loaded here.
    """
    from legalrag.app.retrieval import open_retriever as build

    return build(settings, embedder)


def make_generator(settings: Settings) -> Generator:
    """The configured endpoint, or the offline extractive answerer without one."""
    from legalrag.app.engine import make_generator as build

    return build(settings)


def make_engine(
    settings: Settings, retriever: Retriever | None = None, generator: Generator | None = None
) -> AnswerEngine:
    """The answer engine over ``retriever`` and ``generator`` (each built here when None)."""
    from legalrag.app.engine import AnswerEngine

    return AnswerEngine(
        settings,
        retriever if retriever is not None else open_retriever(settings),
        generator if generator is not None else make_generator(settings),
    )
