"""What the sources column shows at each point of a turn (issue 16): this question's
sources as soon as retrieval has them (before the model writes a word), the checked
sources once the answer is done, and, when the turn fails or its answer is withheld,
a box saying so in place of any sources, so no earlier question's sources (nor this
one's early ones) stay on top as if they were this answer's.

Earlier turns' sources stay below, folded (:func:`.view.stack_turns`): the earlier
answers' citation markers still open them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import TYPE_CHECKING, Any

from legalrag.app.answers import Answer, AnswerSource
from legalrag.app.chat.export import answer_markdown
from legalrag.app.chat.states import TurnOutput, next_turn
from legalrag.app.chat.view import render_sources, stack_turns
from legalrag.app.citations import split_sentences, strip_markers

if TYPE_CHECKING:
    from legalrag.app.chat.pages import PageView

EARLY_NOTE = (
    "The answer is being written from these sources; what cites each one is shown once "
    "the answer is checked."
)


@dataclass(frozen=True)
class SourcesView:
    """How this chat renders a turn's sources: the age warning, the cited pages."""

    max_age_years: int
    page_view: PageView | None = None

    def final(
        self,
        chat: list[dict[str, Any]],
        answer: Answer,
        raw: str,
        *,
        question: str,
        standalone: str,
        turn: int,
    ) -> TurnOutput:
        """The turn's last step: ``chat`` as it is, this answer's sources and export."""
        sentences = [strip_markers(s.text) for s in split_sentences(raw)] if raw else []
        sources = render_sources(
            answer,
            turn=turn,
            question=question,
            standalone=standalone,
            sentences=sentences,
            max_age_years=self.max_age_years,
            page_view=self.page_view,
        )
        export = answer_markdown(
            answer,
            question=question,
            standalone=standalone,
            when=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        )
        return TurnOutput(chat, sources, export, None)

    def early(self, sources: list[AnswerSource], earlier_html: str | None, **turn: Any) -> str:
        """This question's sources as retrieval handed them over, over the earlier
        turns' (``turn``: its ``question``, ``standalone`` and ``turn`` number)."""
        unchecked = Answer(answer="", question=turn["standalone"], sources=sources)
        html = render_sources(
            unchecked,
            sentences=[],
            max_age_years=self.max_age_years,
            page_view=self.page_view,
            **turn,
        )
        if sources:
            html = html.replace("</summary>", f'</summary><p class="notice">{EARLY_NOTE}</p>', 1)
        return stack_turns(html, earlier_html)


def no_sources(earlier_html: str | None, question: str, why: str) -> str:
    """A box for this question saying why it shows no sources, over the earlier turns'."""
    turn = next_turn(earlier_html, 0)
    box = (
        f'<details class="turn turn-failed" id="turn-{turn}" open><summary><b>Question '
        f"{turn}</b>: {escape(question, quote=False)} · no sources</summary>"
        f'<p class="notice">{escape(why, quote=False)}</p></details>'
    )
    return stack_turns(box, earlier_html)
