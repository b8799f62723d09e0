"""The chat's question handler: one turn of a conversation, streaming, checked, audited.

No conversation lives on the server: each question arrives with the conversation
the browser holds (the chatbot's value, with each turn's "Searching for: …" note)
and the sources column's current content, so any replica can answer the next
question. The handler runs the answer engine in a worker thread and streams its
events: reasoning into a collapsible "Reasoning" message (collapsed once the
answer begins), then the answer token by token, then the checked answer with its
findings marked, the sources, and the Markdown export.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import replace
from html import escape
from typing import TYPE_CHECKING, Any

from legalrag.app.audit import audit_record, searched_matters
from legalrag.app.chat.files import Uploads
from legalrag.app.chat.options import check_history, check_options, check_question
from legalrag.app.chat.pages import page_views
from legalrag.app.chat.reasoning_view import reasoning_message
from legalrag.app.chat.shown import SourcesView, no_sources
from legalrag.app.chat.states import (
    OFFERED,
    WITHHELD,
    TurnOutput,
    describe_error,
    error_message,
    incomplete,
    message_text,
    next_turn,
    stacked,
    stopped,
    unaudited,
)
from legalrag.app.chat.streaming import StreamedMessages, coalesced
from legalrag.app.chat.view import render_answer
from legalrag.app.citations import strip_markers
from legalrag.app.conversations import SavedTurn
from legalrag.app.followups import EDITED, EarlierTurn, Rewrite
from legalrag.app.retrieval import Filters
from legalrag.errors import GenerationError

if TYPE_CHECKING:
    from legalrag.app.answers import Answer
    from legalrag.app.chat.backend import ChatBackend

log = logging.getLogger(__name__)

SEARCHING_FOR = "Searching for: "
STOPPED = "stopped by the user before the answer was checked"
EDITED_NOTE = "edited by you: the question above, searched again"


def earlier_turns(history: list[dict[str, Any]]) -> list[EarlierTurn]:
    """The questions asked so far and what was searched for, from the browser's history."""
    turns: list[EarlierTurn] = []
    for message in history:
        if message.get("role") == "user":
            question = message_text(message).strip()
            turns.append(EarlierTurn(question, question))
            continue
        title = (message.get("metadata") or {}).get("title") or ""
        if turns and title.startswith(SEARCHING_FOR):
            turns[-1] = EarlierTurn(turns[-1].question, title[len(SEARCHING_FOR) :].strip())
    return turns


class ChatTurns:
    """Answers one question of a conversation, streaming (the Gradio event handler)."""

    def __init__(self, backend: ChatBackend) -> None:
        self.backend = backend
        self.settings = backend.settings
        pages = page_views(Uploads.of(backend.settings.data_dir))
        self.shown = SourcesView(self.settings.chat_source_max_age_years, pages)

    def run(
        self,
        question: object,
        history: object,
        sources_html: str | None,
        jurisdiction: object,
        topic: object,
        k: object,
        show_reasoning: bool,
        user: str | None,
        *,
        matter: str = "",
        search: str | None = None,
    ) -> Iterator[TurnOutput]:
        """The steps of one turn (``None`` in a field: leave that output as it is).

        The question, the conversation and the options arrive as sent and are checked
        first (:mod:`.options`). The audit line (with ``user`` and ``matter``) is written
        before the last step; when it cannot be, the answer is withheld
        (``LEGALRAG_AUDIT_REQUIRED``) or marked, and not offered for saving.
        ``search``: the search text the user edited (:mod:`.search_edit`), searched for
        verbatim in place of the rewrite, once checked as a question is.
        """
        from legalrag.app.questions import clean_question

        started = time.perf_counter()
        chat: list[dict[str, Any]] = []
        audit = self.backend.audit
        record_filters: dict[str, str | None] = {}
        accepted = False  # a question refused as it came (empty, too long): not audited
        asked = 0  # where this turn's answer starts, once asked
        answer: Answer | None = None
        error: str | None = None
        timings: dict[str, float] = {}
        searched: list[str] | None = ["none"]  # no search yet (refused before it)
        method: str | None = None  # how the search text was found, once it was

        def line(answer: Answer | None, error: str | None) -> dict[str, Any]:
            """This turn's audit line, as far as it went."""
            total_ms = round(1000 * (time.perf_counter() - started), 1)
            return audit_record(
                user=user,
                question=question,  # a str once accepted
                standalone_question=standalone,
                filters=record_filters,
                k=k or self.settings.retrieve_k,
                answer=answer,
                error=error,
                timings={**timings, "total_ms": total_ms},
                matter=matter,
                matters=searched,
                rewrite=method,
            )

        try:
            conversation = check_history(history)
            chat = list(conversation)
            jurisdiction, topic, k = check_options(self.backend, jurisdiction, topic, k)
            record_filters = {"jurisdiction": jurisdiction, "topic": topic}
            question = clean_question(
                check_question(question), max_chars=self.settings.max_question_chars
            )
            if search is not None:
                limit = self.settings.max_question_chars
                search = clean_question(check_question(search), max_chars=limit, what="search text")
            accepted, standalone = True, question
            earlier = earlier_turns(conversation)
            chat.append({"role": "user", "content": question})
            yield TurnOutput(chat, None, None, "")
            problem = audit.problem() if audit.required else None
            if problem is not None:  # known before answering: do not answer at all
                chat.append(error_message(WITHHELD.format(reason=problem)))
                yield TurnOutput(chat, None, None, None)
                return

            # The signed-in user's wall, looked up per question: a revoke counts at once.
            filters = self.backend.filters_for(user, jurisdiction, topic)
            searched = searched_matters(filters.readable_matters())
            rewrite_started = time.perf_counter()
            rewritten = (
                Rewrite(search, EDITED)  # the user's own words: no model asked to rewrite
                if search is not None
                else self.backend.rewriter().rewrite(
                    question,
                    earlier[-self.settings.chat_history_turns :]
                    if self.settings.chat_history_turns
                    else [],
                )
            )
            standalone, method = rewritten.question, rewritten.method
            rewrite_ms = round(1000 * (time.perf_counter() - rewrite_started), 1)
            chat.append(self._searching(filters, k, rewritten.method, standalone))
            asked = len(chat)
            yield TurnOutput(chat, None, None, None)
            final, answer, error = yield from self._answer(
                chat,
                question=question,
                standalone=standalone,
                turn=next_turn(sources_html, len(earlier)),
                filters=filters,
                k=k,
                show_reasoning=show_reasoning,
                sources_html=sources_html,
            )
            timings = {"rewrite_ms": rewrite_ms}
        except GeneratorExit:  # Stop (the page cancelled the turn): audited all the same
            if accepted and audit.enabled and audit.write(line(None, STOPPED)) is not None:
                log.error("a stopped question could not be written to the audit log")
            raise
        except Exception as exc:  # the chat's one catch: shown as a message, the page goes on
            error = describe_error(exc)
            if accepted:
                for earlier_message in chat:  # a stream cut short: no spinner left turning
                    metadata = earlier_message.get("metadata") or {}
                    if metadata.get("status") == "pending":
                        metadata["status"] = "done"
            chat.append(error_message(error))
            final = TurnOutput(chat, None, None, None)
            if accepted:  # no earlier sources left on top as if they were this answer's
                why = f"This question failed: {error}"
                final = TurnOutput(chat, no_sources(sources_html, question, why), "", None)
        if accepted and audit.enabled:  # written before the last step is shown
            failure = audit.write(line(answer, error))
            if failure is not None:
                answered = answer is not None
                final = unaudited(
                    final,
                    failure,
                    withhold=audit.required and answered,
                    answered=answered,
                    asked=asked,
                )
                if audit.required and answered:  # this answer's sources go with it
                    final.sources = no_sources(sources_html, question, "The answer was withheld.")
        if final.saved is not None:
            final.saved = replace(final.saved, k=k or self.settings.retrieve_k)
        yield final

    def _searching(
        self, filters: Filters, k: int | None, method: str, standalone: str
    ) -> dict[str, Any]:
        """The "Searching for: …" note: what was searched for, with which filters and k."""
        how = {"none": "", EDITED: EDITED_NOTE}.get(method, f"rewritten ({method})")
        parts = (filters.describe() or "no filters", f"k = {k or self.settings.retrieve_k}", how)
        return {
            "role": "assistant",
            "content": escape(" · ".join(part for part in parts if part)),
            "metadata": {"title": SEARCHING_FOR + standalone, "status": "done"},
        }

    def _answer(
        self,
        chat: list[dict[str, Any]],
        *,
        question: str,
        standalone: str,
        turn: int,
        filters: Filters,
        k: int | None,
        show_reasoning: bool,
        sources_html: str | None,
    ) -> Generator[TurnOutput, None, tuple[TurnOutput, Answer, str | None]]:
        """Stream the answer into ``chat``; return the last step, the answer shown and
        the model's failure when the answer shown is the extractive one instead."""
        events: queue.Queue[tuple[str, Any]] = queue.Queue()

        def work() -> None:
            try:  # the engine too: no model to build (its server down) is a model failure
                result = self.backend.engine().answer(
                    standalone,
                    filters=filters,
                    k=k,
                    on_event=lambda e: events.put(("event", e)),
                    on_sources=lambda found: events.put(("sources", found)),
                )
                events.put(("done", result))
            except Exception as exc:  # handed to the page's thread, which shows it
                events.put(("error", exc))

        threading.Thread(target=work, name="legalrag-answer", daemon=True).start()
        streamed = StreamedMessages(chat, show_reasoning)
        answer: Answer | None = None
        for batch in coalesced(events, self.settings.chat_update_interval_s):
            changed = False
            for kind, item in batch:
                if kind == "error" and isinstance(item, GenerationError):
                    final, offline = yield from self._model_failed(
                        chat,
                        item,
                        streamed.answer,
                        streamed.raw,
                        question=question,
                        standalone=standalone,
                        turn=turn,
                        filters=filters,
                        k=k,
                        sources_html=sources_html,
                    )
                    return final, offline, str(item)
                if kind == "error":
                    raise item
                if kind == "done":
                    answer = item
                elif kind == "sources":  # shown before the model writes a word (issue 16)
                    turn_of = {"question": question, "standalone": standalone, "turn": turn}
                    early = self.shown.early(item, sources_html, **turn_of)
                    yield TurnOutput(chat, early, None, None)
                else:
                    changed = streamed.add(item) or changed
            if changed and answer is None:  # one page update per batch of tokens
                yield TurnOutput(chat, None, None, None)
        assert answer is not None  # coalesced() ends with "done" when nothing failed
        raw = streamed.raw.strip()
        streamed.close()
        if streamed.reasoning is not None and answer.reasoning:  # its path, now it is checked
            duration = streamed.reasoning["metadata"].get("duration")
            at = next(i for i, m in enumerate(chat) if m is streamed.reasoning)
            chat[at] = reasoning_message(answer, turn=turn, duration=duration)
        final = {"role": "assistant", "content": render_answer(raw, answer, turn=turn)}
        if streamed.answer is None:
            chat.append(final)
        else:
            chat[chat.index(streamed.answer)] = final
        mode = "model" if self.backend.generator_kind != "extractive" else "extractive"
        shown = self._shown(
            chat, answer, raw, question=question, standalone=standalone, turn=turn, mode=mode
        )
        return stacked(shown, sources_html), answer, None

    def _shown(
        self,
        chat: list[dict[str, Any]],
        answer: Answer,
        raw: str,
        *,
        question: str,
        standalone: str,
        turn: int,
        mode: str,
    ) -> TurnOutput:
        """The turn's last step: ``chat`` as it is, this answer's sources and export, and
        the turn to save (made in ``mode``: model, extractive, extractive_fallback)."""
        shown = self.shown.final(
            chat, answer, raw, question=question, standalone=standalone, turn=turn
        )
        shown.saved = SavedTurn(question, standalone, raw, answer, mode=mode)  # type: ignore[arg-type]
        return shown

    def _model_failed(
        self,
        chat: list[dict[str, Any]],
        failure: GenerationError,
        answer_message: dict[str, Any] | None,
        partial: str,
        *,
        question: str,
        standalone: str,
        turn: int,
        filters: Filters,
        k: int | None,
        sources_html: str | None,
    ) -> Generator[TurnOutput, None, tuple[TurnOutput, Answer]]:
        """The model failed (down, or its stream cut): say so, keep what it wrote labelled
        as incomplete and unchecked, and offer the extractive answer over this question's
        own sources, so no earlier question's sources are left on screen."""
        if answer_message is not None:  # cut mid-answer: the text stays, its markers do not
            answer_message["content"] = incomplete(
                escape(strip_markers(partial), quote=False),
                f"the model's answer was cut off ({escape(str(failure))})",
            )
        else:
            chat.append(error_message(str(failure)))
        yield TurnOutput(chat, None, None, None)
        try:
            offline = self.backend.offline_engine().answer(standalone, filters=filters, k=k)
        except Exception:  # the model's failure is what the user must see
            log.exception("the extractive answer after a model failure failed too")
            raise failure from None
        chat.append(
            {
                "role": "assistant",
                "content": f'<p class="notice">{escape(OFFERED)}</p>\n\n'
                + render_answer(offline.answer, offline, turn=turn),
            }
        )
        shown = self._shown(
            chat,
            offline,
            offline.answer,
            question=question,
            standalone=standalone,
            turn=turn,
            mode="extractive_fallback",
        )
        return stacked(shown, sources_html), offline


__all__ = [
    "ChatTurns",
    "TurnOutput",
    "earlier_turns",
    "message_text",
    "next_turn",
    "stopped",
]
