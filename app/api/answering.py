"""What one API process loads once and how it answers a request: the engine from the
factory, the follow-up rewriter, the probes, and the answer as typed events.

Nothing here knows which backends run: the factory builds them from the settings.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from legalrag.app.followups import EarlierTurn
from legalrag.app.generation import AnswerText, Reasoning
from legalrag.app.questions import clean_question
from legalrag.app.retrieval import Filters
from legalrag.errors import BackendError

if TYPE_CHECKING:
    from legalrag.access import Access
    from legalrag.app.answers import Answer, AnswerSource
    from legalrag.app.api.schemas import Message, Search
    from legalrag.app.retrieval import Retriever
    from legalrag.settings import Settings

log = logging.getLogger(__name__)


def earlier_turns(history: Sequence[Message], limit: int) -> list[EarlierTurn]:
    """The user's earlier questions (and what each was searched for, when sent)."""
    turns = [
        EarlierTurn(m.content.strip(), (m.standalone or m.content).strip())
        for m in history
        if m.role == "user" and m.content.strip()
    ]
    return turns[-limit:] if limit else []


def source_dict(source: AnswerSource) -> dict[str, Any]:
    """A source as the API sends it (no vectors)."""
    return source.as_dict()


class AnswerService:
    """The engine and its helpers, loaded once per process, shared by every request."""

    def __init__(
        self, settings: Settings, retriever: Retriever | None = None, access: Access | None = None
    ) -> None:
        """``retriever``: one already open (tests and benches share one), else opened here.
        ``access``: who may read which matter (else from the settings' users)."""
        from legalrag.access import open_access
        from legalrag.factory import make_engine, make_probes, make_rewriter, open_retriever

        self.settings = settings
        self.access = access if access is not None else open_access(settings)
        retriever = retriever if retriever is not None else open_retriever(settings)
        # One retrieval now builds what retrieval loads lazily (the BM25 cache, the
        # embedder): the first requests, arriving together, would otherwise each race to
        # build it. A backend down now must not stop the process: /healthz says so.
        try:
            retriever.retrieve(settings.health_query, k=1)
        except BackendError as exc:
            log.warning("warm-up retrieval failed (%s); /healthz reports it", exc)
        self.engine = make_engine(settings, retriever)
        self.rewriter = make_rewriter(settings, self.engine.generator)
        self.probes = make_probes(settings, retriever)

    def question(self, search: Search) -> str:
        """The question cleaned and checked (a :class:`QuestionError` when empty or huge)."""
        return clean_question(search.question, max_chars=self.settings.max_question_chars)

    def filters(self, search: Search, user: str | None) -> Filters:
        """The request's filters behind its user's wall (None: no users, no wall)."""
        scope = self.access.choose(user, search.matter or None)
        return Filters(
            jurisdiction=search.jurisdiction or None,
            topic=search.topic or None,
            matter=search.matter or None,
            scope=scope,
        )

    def retrieve(self, search: Search, user: str | None = None) -> dict[str, Any]:
        """The sources for a question, as the API sends them."""
        question = self.question(search)
        filters = self.filters(search, user)
        result = self.engine.retriever.retrieve(question, k=search.k, filters=filters)
        numbered = _numbered(result.passages)
        return {
            "question": question,
            "filters": result.filters.describe(),
            "refused": not result.passages,
            "reason": result.reason or "",
            "sources": [source_dict(s) for s in numbered],
        }

    def standalone(self, question: str, history: Sequence[Message]) -> tuple[str, str]:
        """(what to search for, how it was found) for a question after ``history``."""
        earlier = earlier_turns(history, self.settings.api_max_history_turns)
        rewritten = self.rewriter.rewrite(question, earlier)
        return rewritten.question, rewritten.method

    def answer(self, search: Search, standalone: str, user: str | None = None) -> Answer:
        """The checked answer, whole."""
        return self.engine.answer(standalone, filters=self.filters(search, user), k=search.k)

    def stream(
        self, search: Search, standalone: str, user: str | None = None
    ) -> Iterator[tuple[str, Any]]:
        """("sources", [AnswerSource]), ("reasoning", text), ("answer", text), then
        ("checked", Answer) or ("error", exception): the engine runs in a thread and
        hands its events over, as the chat does."""
        filters = self.filters(search, user)  # an unknown user or matter: before any event
        events: queue.Queue[tuple[str, Any]] = queue.Queue()

        def on_event(event: object) -> None:
            if isinstance(event, Reasoning):
                events.put(("reasoning", event.text))
            elif isinstance(event, AnswerText):
                events.put(("answer", event.text))

        def work() -> None:
            try:
                result = self.engine.answer(
                    standalone,
                    filters=filters,
                    k=search.k,
                    on_event=on_event,
                    on_sources=lambda sources: events.put(("sources", sources)),
                )
                events.put(("checked", result))
            except Exception as exc:  # handed to the response, which says it as an event
                events.put(("error", exc))

        threading.Thread(target=work, name="legalrag-api-answer", daemon=True).start()
        while True:
            kind, item = events.get()
            yield kind, item
            if kind in ("checked", "error"):
                return


def _numbered(passages: Sequence[Any]) -> list[AnswerSource]:
    from legalrag.app.answers import AnswerSource

    return AnswerSource.numbered(passages)
