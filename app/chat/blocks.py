"""The chat page's layout: banner, chat column, sources column, controls, footer.

Each part of the page is built by its own function inside the ``gr.Blocks``
context; :func:`build_blocks` puts them together and wires the one question
handler (:func:`legalrag.app.chat.turns.handler`) to the textbox and the button.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

import gradio as gr

from legalrag.app.chat.handler import handler
from legalrag.app.chat.options import k_limit
from legalrag.app.chat.saved import SavedChats, SavedColumn, saved_column, wire_saved
from legalrag.app.chat.search_edit import (
    SearchEdit,
    refill_after,
    search_edit_row,
    wire_search_edit,
)
from legalrag.app.chat.turns import ChatTurns, stopped
from legalrag.app.chat.upload import upload_panel
from legalrag.app.chat.view import LEGEND, NOT_LEGAL_ADVICE, SAMPLE_BANNER

if TYPE_CHECKING:
    from legalrag.app.chat.backend import ChatBackend

SOURCES_PLACEHOLDER = (
    '<p class="notice sources-placeholder">The sources of each answer appear here: every '
    "retrieved passage, what cites it, and the cited span when you click a citation.</p>"
)


@dataclass(frozen=True)
class ChatColumn:
    """The left column's components the handler reads or writes."""

    chatbot: gr.Chatbot
    question: gr.Textbox
    ask: gr.Button
    stop: gr.Button
    clear: gr.Button
    export: gr.Code
    edit: SearchEdit
    """The last turn's search text, editable, and its "Search again with this"."""


@dataclass(frozen=True)
class SearchColumn:
    """The right column's components: the search settings and the sources."""

    jurisdiction: gr.Dropdown
    topic: gr.Dropdown
    k: gr.Slider
    show_reasoning: gr.Checkbox
    sources: gr.HTML


def banner_html(backend: ChatBackend) -> str:
    """The sample-corpus warning (when it is the sample) and the not-legal-advice notice."""
    banner = ""
    if backend.sample_corpus:
        banner += f'<div class="banner" id="sample-banner">⚠ {escape(SAMPLE_BANNER)}</div>'
    return banner + f'<p class="notice" id="not-advice">{escape(NOT_LEGAL_ADVICE)}</p>'


def footer_html(backend: ChatBackend, *, signed_in: bool) -> str:
    """The model, the prompt version and the index's size (and a sign-out link)."""
    facts = backend.index
    model_note = backend.model_label
    if backend.generator_error:
        model_note += f" (not reachable at start: {backend.generator_error})"
    return (
        f"Model: <b>{escape(model_note)}</b> ({backend.generator_kind}) · prompt "
        f"<b>{escape(backend.prompt_version)}</b> · index <b>{escape(facts.collection)}</b>: "
        f"{facts.documents:,} documents, {facts.chunks:,} chunks"
        + (' · <a href="logout">Sign out</a>' if signed_in else "")
    )


def choices(counts: dict[str, int], anything: str) -> list[tuple[str, str]]:
    """Dropdown choices: ``anything`` (no filter) first, then each value with its count."""
    return [(anything, "")] + [(f"{name} ({count})", name) for name, count in counts.items()]


def chat_column(backend: ChatBackend) -> ChatColumn:
    """The answers, the question box with its button, the legend and the export."""
    chatbot = gr.Chatbot(
        label="Answers, every claim cited",
        elem_id="chat",
        height=560,
        buttons=["copy"],
        feedback_options=None,
        layout="panel",
        placeholder="Ask a legal question. Answers come only from the indexed "
        "sources, each claim cited and checked.",
    )
    with gr.Row():
        question = gr.Textbox(
            placeholder="e.g. How long may a California landlord keep a deposit?",
            label="Your legal question",
            show_label=False,
            scale=6,
            elem_id="question",
            max_length=backend.settings.max_question_chars,
        )
        ask = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask")
        stop = gr.Button("Stop", variant="secondary", scale=1, min_width=80, elem_id="stop")
        clear = gr.Button("Clear", variant="secondary", scale=1, min_width=80, elem_id="clear")
    edit = search_edit_row(backend.settings)
    gr.HTML(upload_panel(backend.settings), elem_id="upload")  # static/upload.js sends it
    gr.HTML(LEGEND, elem_id="legend")
    # Read by static/chat.js (a class on the page), never sent to the server.
    gr.Checkbox(value=False, label="Hide flagged sentences", elem_id="hide-flagged")
    with gr.Accordion("Export this answer (Markdown)", open=False):
        export = gr.Code(
            language="markdown",
            label="Answer, citations and sources",
            buttons=["copy", "download"],
            interactive=False,
            elem_id="export",
        )
    return ChatColumn(chatbot, question, ask, stop, clear, export, edit)


def search_column(backend: ChatBackend) -> SearchColumn:
    """The search settings (filters, number of sources, reasoning) and the sources."""
    facts, retrieve_k = backend.index, backend.settings.retrieve_k
    with gr.Accordion("Search settings", open=True):
        jurisdiction = gr.Dropdown(
            choices=choices(facts.jurisdictions, "Any jurisdiction"),
            value="",
            label="Jurisdiction",
            elem_id="jurisdiction",
        )
        topic = gr.Dropdown(
            choices=choices(facts.topics, "Any topic"),
            value="",
            label="Topic",
            elem_id="topic",
        )
        k = gr.Slider(
            1,
            k_limit(backend.settings),
            value=retrieve_k,
            step=1,
            label="Number of sources",
            elem_id="k",
        )
        show_reasoning = gr.Checkbox(
            value=True, label="Show the model's reasoning", elem_id="show-reasoning"
        )
    sources = gr.HTML(SOURCES_PLACEHOLDER, label="Sources", elem_id="sources")
    return SearchColumn(jurisdiction, topic, k, show_reasoning, sources)


def wire_questions(
    turns: ChatTurns, chat: ChatColumn, search: SearchColumn, saved: SavedChats, kept: SavedColumn
) -> None:
    """The textbox's Enter and the button both ask, through the one handler, which saves
    each answered turn (:mod:`.saved`); the search text's box and button search the last
    question again (:mod:`.search_edit`), and the box follows the conversation."""
    ask_question = handler(turns, saved)
    # Inputs in the order of the handler's parameters, outputs in that of TurnOutput's fields.
    inputs = [
        chat.question,
        chat.chatbot,
        search.sources,
        search.jurisdiction,
        search.topic,
        search.k,
        search.show_reasoning,
        kept.conversation,
        kept.matter,
    ]
    outputs = [chat.chatbot, search.sources, chat.export, chat.question]
    saving = [kept.conversation, kept.listing, kept.title, kept.status]
    # The values arrive as sent and the turn checks them (options.py): Gradio's own
    # checks answer a bad value from its API with a traceback in the server log.
    # A question sent while an answer streams waits for it (always_last; Gradio's "once"
    # dropped it without a word); chat.js says so on the page. Enter and Ask are one
    # event: Gradio queues per event, so two would let a second turn start at once.
    asked = [
        gr.on(
            [chat.question.submit, chat.ask.click],
            ask_question,
            inputs,
            outputs + saving,
            api_name="ask",
            preprocess=False,
            trigger_mode="always_last",
        )
    ]
    searched_again = wire_search_edit(turns, saved, chat.edit, inputs, outputs + saving)
    refill_after(asked, chat.edit, chat.chatbot)  # (not after a search again: it holds it)
    asked += searched_again
    # Stop ends the stream where it is; the answer shown so far stays, labelled unchecked.
    # The label goes on once the stream is cancelled: labelled in the same event, a
    # streamed update still on its way could land after it and take the label off.
    stop = chat.stop.click(None, None, None, cancels=asked, api_name=False).then(
        stopped, [chat.chatbot], [chat.chatbot], api_name=False, preprocess=False
    )

    def clear() -> tuple[list, str, str, str]:
        """A fresh page: no answers, sources, export or question (numbering restarts)."""
        return [], SOURCES_PLACEHOLDER, "", ""

    cleared = [
        event(clear, None, outputs, api_name=False, cancels=asked)
        for event in (chat.clear.click, chat.chatbot.clear)
    ]
    page = [chat.chatbot, search.sources, chat.export]
    loaded = wire_saved(
        saved, kept, page, clear()[:3], clears=[chat.clear.click, chat.chatbot.clear], asked=asked
    )
    # The box follows whatever changed the conversation: it never offers another's search.
    refill_after([stop, *cleared, *loaded], chat.edit, chat.chatbot)


def build_blocks(backend: ChatBackend, *, signed_in: bool = False) -> gr.Blocks:
    """The page: banner, chat column, sources column, controls, footer."""
    with gr.Blocks(title="legalrag") as blocks:
        gr.HTML('<h1 class="page-title">legalrag: answers cited from your sources</h1>')
        gr.HTML(banner_html(backend), elem_id="banner")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chat = chat_column(backend)
            with gr.Column(scale=2):
                kept = saved_column()
                search = search_column(backend)
        footer = footer_html(backend, signed_in=signed_in)
        gr.HTML(f'<div class="notice" id="footer">{footer}</div>')
        saved = SavedChats(backend)
        wire_questions(ChatTurns(backend), chat, search, saved, kept)
        blocks.load(saved.refresh, None, [kept.listing], api_name=False)
    blocks.queue(default_concurrency_limit=backend.settings.chat_concurrency)
    return blocks
