"""Saved conversations on the chat page: the list, resume, rename, delete, new, export.

Each answered (and audited) turn is saved into the page's conversation as it ends
(:meth:`SavedChats.after`); the first one makes the conversation, titled after its
question. The conversation's id travels with the page in a hidden textbox, as the
chat's history does, so any replica can save the next turn; every operation is done
for the signed-in user (without a login: the one local user) and another user's
conversation answers as one that does not exist. A conversation is exported whole as
Word or PDF (:mod:`.documents`).
"""

from __future__ import annotations

import logging
import tempfile
import threading
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from legalrag.app.chat.documents import file_name, render_document
from legalrag.app.chat.resume import resumed
from legalrag.app.conversations import ConversationStore, owner_of
from legalrag.errors import ConversationNotFound, LegalragError

if TYPE_CHECKING:
    from legalrag.app.chat.backend import ChatBackend
    from legalrag.app.chat.states import TurnOutput

log = logging.getLogger(__name__)

NOTHING_YET = "Ask a question: the conversation is saved once it is answered."
GONE = "That conversation no longer exists (deleted in another window?): start a new one."


@dataclass(frozen=True)
class SavedColumn:
    """The saved conversations' components."""

    conversation: gr.Textbox
    """The page's conversation id (hidden; "" for a new conversation)."""
    listing: gr.Dropdown
    title: gr.Textbox
    matter: gr.Textbox
    new: gr.Button
    rename: gr.Button
    delete: gr.Button
    word: gr.Button
    pdf: gr.Button
    document: gr.File
    status: gr.HTML


def _status(message: str, *, problem: bool = False) -> str:
    css = "chat-error" if problem else "notice"
    return f'<p class="{css}" role="status">{escape(message)}</p>'


def _user(request: gr.Request | None) -> str:
    return owner_of(getattr(request, "username", None) if request is not None else None)


def _id(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


class SavedChats:
    """The saved conversations of one chat process: the store and the page's handlers."""

    def __init__(self, backend: ChatBackend) -> None:
        self.settings = backend.settings
        self._store: ConversationStore | None = None
        self._lock = threading.Lock()
        self.cleared: tuple[Any, ...] = ([], "", "")
        """The page's chat, sources and export when fresh (:func:`wire_saved` sets the
        page's own, its sources placeholder)."""

    @property
    def store(self) -> ConversationStore:
        """The store, opened on first use (the database made where it is missing)."""
        with self._lock:
            if self._store is None:
                self._store = ConversationStore.open(self.settings)
            return self._store

    def choices(self, owner: str) -> list[tuple[str, str]]:
        """The dropdown's choices: the owner's conversations, newest first."""
        return [(summary.label(), summary.id) for summary in self.store.list(owner)]

    # --- saving each turn -------------------------------------------------------------

    def after(
        self, step: TurnOutput, conversation: object, matter: str, user: str | None
    ) -> tuple[Any, Any, Any, Any]:
        """(conversation id, list, title, status) after one step of a turn: left as they
        are until the turn's answered last step, which is saved."""
        if step.saved is None:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        owner = owner_of(user)
        try:
            try:
                saved_id = self.store.save_turn(owner, _id(conversation), step.saved, matter=matter)
            except ConversationNotFound:  # deleted meanwhile: the answer starts a new one
                saved_id = self.store.save_turn(owner, None, step.saved, matter=matter)
            title = self.store.summary(owner, saved_id).title
            choices = self.choices(owner)
        except Exception as exc:  # the answer stays on the page; saving it failed
            log.exception("could not save the conversation's turn")
            reason = str(exc) if isinstance(exc, LegalragError) else type(exc).__name__
            return (
                gr.skip(),
                gr.skip(),
                gr.skip(),
                _status(f"This answer could not be saved ({reason}).", problem=True),
            )
        return (
            saved_id,
            gr.update(choices=choices, value=saved_id),
            title,
            _status(f"Saved in \u201c{title}\u201d."),
        )

    # --- the list's buttons -----------------------------------------------------------

    def refresh(self, request: gr.Request) -> Any:
        """The list as the page opens: the signed-in user's conversations."""
        return gr.update(choices=self.choices(_user(request)), value=None)

    def resume(self, conversation_id: object, request: gr.Request) -> tuple[Any, ...]:
        """Load the chosen conversation onto the page (chat, sources, export, id, title,
        matter, status)."""
        owner = _user(request)
        try:
            conversation = self.store.load(owner, str(conversation_id or ""))
        except ConversationNotFound:
            return (*(gr.skip(),) * 6, _status(GONE, problem=True))
        chat, sources, export = resumed(
            conversation, max_age_years=self.settings.chat_source_max_age_years
        )
        count = len(conversation.turns)
        return (
            chat,
            sources,
            export,
            conversation.id,
            conversation.title,
            conversation.matter,
            _status(f"Resumed \u201c{conversation.title}\u201d ({count} questions)."),
        )

    def rename(self, conversation: object, title: object, request: gr.Request) -> tuple[Any, Any]:
        """Rename the page's conversation: (list, status)."""
        owner, conversation_id = _user(request), _id(conversation)
        if conversation_id is None:
            return gr.skip(), _status(NOTHING_YET)
        try:
            renamed = self.store.rename(owner, conversation_id, str(title or ""))
        except ConversationNotFound:
            return gr.skip(), _status(GONE, problem=True)
        except LegalragError as exc:
            return gr.skip(), _status(str(exc), problem=True)
        return (
            gr.update(choices=self.choices(owner), value=renamed.id),
            _status(f"Renamed to \u201c{renamed.title}\u201d."),
        )

    def delete(self, conversation: object, request: gr.Request) -> tuple[Any, ...]:
        """Delete the page's conversation and clear the page: (id, list, title, status,
        *the page's chat, sources and export)."""
        owner, conversation_id = _user(request), _id(conversation)
        unchanged = (gr.skip(),) * len(self.cleared)
        if conversation_id is None:
            return gr.skip(), gr.skip(), gr.skip(), _status(NOTHING_YET), *unchanged
        try:
            self.store.delete(owner, conversation_id)
        except ConversationNotFound:
            return gr.skip(), gr.skip(), gr.skip(), _status(GONE, problem=True), *unchanged
        choices = gr.update(choices=self.choices(owner), value=None)
        return "", choices, "", _status("Conversation deleted."), *self.cleared

    def export(self, conversation: object, fmt: str, request: gr.Request) -> tuple[Any, Any]:
        """The page's whole conversation as a Word or PDF file: (the file, shown; status).
        With none to export, the file is hidden (an earlier one too)."""
        owner, conversation_id = _user(request), _id(conversation)
        hidden = gr.update(value=None, visible=False)
        if conversation_id is None:
            return hidden, _status(NOTHING_YET)
        try:
            saved = self.store.load(owner, conversation_id)
        except ConversationNotFound:
            return hidden, _status(GONE, problem=True)
        content = render_document(saved, fmt, exported_by=owner, font=self.settings.export_font)
        # A folder of its own: two exports on the same day keep their names.
        path = Path(tempfile.mkdtemp(prefix="legalrag-export-")) / file_name(saved.matter, fmt)
        path.write_bytes(content)
        return (
            gr.update(value=str(path), visible=True),
            _status(f"Exported \u201c{saved.title}\u201d as {path.name}."),
        )


def wire_saved(
    saved: SavedChats,
    column: SavedColumn,
    page: list[Any],
    cleared: tuple[Any, ...],
    *,
    clears: list[Any],
    asked: list[Any],
) -> list[Any]:
    """Wire the list and its buttons. ``page``: the chat, sources and export components
    a resumed conversation fills; ``cleared``: their values on a fresh page; ``clears``:
    the page's Clear events, after which the next question starts a new conversation.
    Returns the events that may change the page's conversation (resume, new, delete)."""
    saved.cleared = cleared
    resume = column.listing.input(
        saved.resume,
        [column.listing],
        [*page, column.conversation, column.title, column.matter, column.status],
        api_name=False,
        cancels=asked,
    )
    column.rename.click(
        saved.rename,
        [column.conversation, column.title],
        [column.listing, column.status],
        api_name=False,
    )

    def fresh() -> tuple[Any, ...]:
        """A new conversation: a fresh page, no id, no title (the matter stays)."""
        return (*cleared, "", "", gr.update(value=None), "")

    fresh_outputs = [*page, column.conversation, column.title, column.listing, column.status]
    new = column.new.click(fresh, None, fresh_outputs, api_name=False, cancels=asked)
    # Clear empties the page: the next question starts a new conversation too.
    for event in clears:
        event(
            lambda: ("", "", gr.update(value=None)),
            None,
            [column.conversation, column.title, column.listing],
            api_name=False,
        )
    delete = column.delete.click(
        saved.delete,
        [column.conversation],
        [column.conversation, column.listing, column.title, column.status, *page],
        api_name=False,
        cancels=asked,
    )

    def word(conversation: object, request: gr.Request) -> tuple[Any, Any]:
        return saved.export(conversation, "docx", request)

    def pdf(conversation: object, request: gr.Request) -> tuple[Any, Any]:
        return saved.export(conversation, "pdf", request)

    for button, export in ((column.word, word), (column.pdf, pdf)):
        button.click(
            export, [column.conversation], [column.document, column.status], api_name=False
        )
    return [resume, new, delete]


def saved_column() -> SavedColumn:
    """The saved conversations' accordion (inside the page's ``gr.Blocks``)."""
    with gr.Accordion("Saved conversations", open=True, elem_id="saved"):
        listing = gr.Dropdown(
            choices=[], value=None, label="Your conversations", elem_id="saved-list"
        )
        with gr.Row():
            new = gr.Button("New conversation", size="sm", elem_id="saved-new")
            delete = gr.Button("Delete", size="sm", elem_id="saved-delete")
        title = gr.Textbox(label="Title", elem_id="saved-title", max_lines=1)
        matter = gr.Textbox(
            label="Matter (optional)", elem_id="saved-matter", max_lines=1, max_length=200
        )
        with gr.Row():
            rename = gr.Button("Rename", size="sm", elem_id="saved-rename")
            word = gr.Button("Export Word", size="sm", elem_id="saved-word")
            pdf = gr.Button("Export PDF", size="sm", elem_id="saved-pdf")
        # Shown once there is a file: an empty File's drop zone fails accessibility checks.
        document = gr.File(
            label="Exported conversation", interactive=False, visible=False, elem_id="saved-file"
        )
        status = gr.HTML("", elem_id="saved-status")
        conversation = gr.Textbox("", visible=False, elem_id="saved-id")
    return SavedColumn(
        conversation, listing, title, matter, new, rename, delete, word, pdf, document, status
    )
