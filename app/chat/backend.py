"""What one chat process loads once and shares: the index, the embedder, the engine.

Every question of every user in the process goes through the same retriever (one
embedding model in memory, one BM25 index) and the same generator. The model
server may be down when the chat starts: the chat starts anyway, says so, and
tries the server again at the next question.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from legalrag.access import open_access
from legalrag.app.audit import AuditLog
from legalrag.app.prompting import template_version
from legalrag.app.retrieval import Retriever
from legalrag.errors import AccessDeniedError, GenerationError
from legalrag.factory import make_engine, make_generator, make_rewriter, open_retriever
from legalrag.store import Filters, StoreInfo, describe_store
from legalrag.store.schema import SAMPLE_SOURCE

if TYPE_CHECKING:
    from legalrag.app.engine import AnswerEngine
    from legalrag.app.followups import QuestionRewriter
    from legalrag.app.generation import Generator
    from legalrag.embedding import Embedder
    from legalrag.settings import Settings

log = logging.getLogger(__name__)


class ChatBackend:
    """The shared retriever and answer engine of one chat process."""

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        generator: Generator | None = None,
    ) -> None:
        self.settings = settings
        self.retriever: Retriever = open_retriever(settings, embedder)
        # Built now, before concurrent questions could race to build it.
        _ = self.retriever.bm25
        self.access = open_access(settings)
        """Who may read which matter: each turn searches within its user's scope."""
        self.public: Filters | None = (
            None if self.access.users is None else Filters().within(frozenset())
        )
        """The public corpus alone, when users are configured: what the page shared by
        every user (the filter dropdowns' counts, the footer, /healthz) may describe."""
        info = describe_store(self.retriever.store, self.public)
        # Sorted for the filter dropdowns.
        info.jurisdictions = dict(sorted(info.jurisdictions.items()))
        info.topics = dict(sorted(info.topics.items()))
        self.index: StoreInfo = info
        self.sample_corpus = SAMPLE_SOURCE in info.sources
        """True when the bundled sample corpus is (part of) the index."""
        self.prompt_version = template_version("answer.j2")
        self.audit = AuditLog(
            settings.audit_log_path, enabled=settings.audit, required=settings.audit_required
        )
        """The audit log every turn of this process writes to, and its last failure."""
        self._lock = threading.Lock()
        self._engine: AnswerEngine | None = None
        self._rewriter: QuestionRewriter | None = None
        self._offline: AnswerEngine | None = None
        self.generator_error: str | None = None
        if generator is not None:
            self._install(generator)
        else:
            try:
                self.engine()
            except Exception as exc:  # reported on the page, retried per question
                self.generator_error = str(exc)
                log.warning("the answer model is not available yet: %s", exc)

    def filters_for(self, user: str | None, jurisdiction: str | None, topic: str | None) -> Filters:
        """A turn's filters, behind its signed-in user's wall (no users: no wall).

        Without users the chat has no login, and a name the page carries is no one's.
        With users, no user (a sign-in revoked mid-request) is refused, never everyone's."""
        if self.access.users is not None and user is None:
            raise AccessDeniedError("sign in again: this request carries no signed-in user")
        signed_in = user if self.access.users is not None else None
        return Filters(jurisdiction=jurisdiction, topic=topic).within(self.access.scope(signed_in))

    def _install(self, generator: Generator) -> None:
        self._engine = make_engine(self.settings, self.retriever, generator)
        self._rewriter = make_rewriter(self.settings, generator)
        self.generator_error = None

    def engine(self) -> AnswerEngine:
        """The answer engine; connects to the model server on first use (GenerationError)."""
        with self._lock:
            if self._engine is None:
                self._install(make_generator(self.settings))
            assert self._engine is not None
            return self._engine

    def offline_engine(self) -> AnswerEngine:
        """The extractive engine over the same index, offered when the model fails.

        Built by the factory from these settings less the model endpoint (so it gets
        the offline generator and support check), on first use.
        """
        with self._lock:
            if self._offline is None:
                offline = self.settings.model_copy(update={"llm_base_url": None})
                self._offline = make_engine(offline, self.retriever)
            return self._offline

    def rewriter(self) -> QuestionRewriter:
        """The follow-up rewriter that goes with the engine's generator; the offline
        rule while the model server cannot be reached (the answer then says why)."""
        try:
            self.engine()
        except GenerationError:
            return make_rewriter(self.settings, None)
        assert self._rewriter is not None
        return self._rewriter

    @property
    def generator_kind(self) -> str:
        """openai-compatible or extractive."""
        return "openai-compatible" if self.settings.llm_base_url else "extractive"

    @property
    def model_label(self) -> str:
        """The model in use, for the footer."""
        if self._engine is not None:
            return self._engine.generator.model_name
        return self.settings.llm_model or "not connected yet"

    def health(self) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body): 200 only when the index answers a real query.

        A real retrieval each call: /healthz keeps its result a while
        (:class:`~legalrag.app.chat.health.Readiness`) and adds the audit log's state.
        """
        started = time.perf_counter()
        try:
            chunks = self.retriever.store.count()
            probe = self.retriever.retrieve(self.settings.health_query, k=1, filters=self.public)
        except Exception as exc:  # any failure means "not ready", said plainly
            return 503, {"status": "unavailable", "reason": f"index: {type(exc).__name__}: {exc}"}
        if chunks == 0:
            return 503, {"status": "unavailable", "reason": "index: the index holds no chunks"}
        return 200, {
            "status": "ok",
            "collection": self.index.collection,
            # Behind a login, a count of every matter's chunks would say how much each
            # client holds: the public corpus's count at start-up instead.
            "chunks": chunks if self.public is None else self.index.chunks,
            "probe": {
                "passages": len(probe.passages),
                "ms": round(1000 * (time.perf_counter() - started), 1),
            },
            "generator": {
                "kind": self.generator_kind,
                "model": self.model_label,
                "ready": self._engine is not None,
            },
            "prompt_version": self.prompt_version,
        }
