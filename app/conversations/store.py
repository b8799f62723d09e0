"""Saved conversations, per user, in the firm's database (:mod:`legalrag.database`).

Two tables: ``conversations`` (owner, title, matter, when) and ``conversation_turns``
(one row per answered turn, its scalar facts in columns and its citations, sources and
findings in JSON columns). Every operation takes the user it acts for: a conversation
of another user is never listed, and loading, renaming or deleting it answers exactly
as for one that does not exist (:class:`~legalrag.errors.ConversationNotFound`), so
nobody can tell another's conversation from none.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, sessionmaker

from legalrag.app.conversations.records import (
    MODES,
    Conversation,
    ConversationSummary,
    SavedTurn,
    answer_data,
    answer_from_data,
    default_title,
)
from legalrag.database import Base, database
from legalrag.errors import ConversationNotFound, UsageError

if TYPE_CHECKING:
    from legalrag.settings import Settings

LOCAL_USER = "local"
"""The owner of every conversation when the chat has no login: one local user."""
MAX_TITLE = 200
MAX_MATTER = 200


def owner_of(username: str | None) -> str:
    """The owner a request acts for: its signed-in user, else the one local user."""
    return (username or "").strip() or LOCAL_USER


def _now() -> datetime:
    # Stored naive in UTC: SQLite keeps no offset, and every row is UTC.
    return datetime.now(UTC).replace(tzinfo=None)


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class ConversationRow(Base):
    """One saved conversation: whose it is, what it is called, which matter."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200), index=True)
    title: Mapped[str] = mapped_column(String(MAX_TITLE))
    matter: Mapped[str] = mapped_column(String(MAX_MATTER), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    turns: Mapped[list[TurnRow]] = relationship(
        back_populates="conversation",
        cascade="all, delete-orphan",
        order_by="TurnRow.position",
    )


class TurnRow(Base):
    """One answered turn of a conversation (``position`` 0 is the first)."""

    __tablename__ = "conversation_turns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    asked_at: Mapped[datetime] = mapped_column(DateTime)
    question: Mapped[str] = mapped_column(Text)
    standalone: Mapped[str] = mapped_column(Text)
    raw_answer: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    mode: Mapped[str] = mapped_column(String(32))
    k: Mapped[int | None] = mapped_column(Integer, nullable=True)
    model: Mapped[str] = mapped_column(String(200), default="")
    prompt_version: Mapped[str] = mapped_column(String(100), default="")
    citations: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    sources: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    findings: Mapped[dict[str, Any]] = mapped_column(JSON)
    conversation: Mapped[ConversationRow] = relationship(back_populates="turns")

    @classmethod
    def of(cls, turn: SavedTurn, position: int, asked_at: datetime) -> TurnRow:
        """The row for ``turn``, the ``position``-th of its conversation."""
        if turn.mode not in MODES:
            raise UsageError(f"unknown answer mode {turn.mode!r}")
        return cls(
            position=position,
            asked_at=asked_at,
            question=turn.question,
            standalone=turn.standalone,
            raw_answer=turn.raw_answer,
            answer=turn.answer.answer,
            mode=turn.mode,
            k=turn.k,
            model=turn.answer.model,
            prompt_version=turn.answer.prompt_version,
            **answer_data(turn.answer),
        )

    def saved(self) -> SavedTurn:
        """The typed turn this row holds."""
        answer = answer_from_data(
            question=self.standalone,
            text=self.answer,
            model=self.model,
            prompt_version=self.prompt_version,
            citations=self.citations,
            sources=self.sources,
            findings=self.findings,
        )
        return SavedTurn(
            question=self.question,
            standalone=self.standalone,
            raw_answer=self.raw_answer,
            answer=answer,
            mode=self.mode if self.mode in MODES else "model",  # type: ignore[arg-type]
            k=self.k,
            asked_at=_utc(self.asked_at),
        )


def _clean(value: str, *, what: str, limit: int, empty_ok: bool) -> str:
    """One line of text for a title or a matter, or a usage error saying why not."""
    text = " ".join(str(value or "").split())
    if not text and not empty_ok:
        raise UsageError(f"a conversation's {what} must not be empty")
    if len(text) > limit:
        raise UsageError(f"a conversation's {what} is at most {limit} characters")
    return text


class ConversationStore:
    """Save, list, load, rename and delete one user's conversations."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    @classmethod
    def open(cls, settings: Settings) -> ConversationStore:
        """The store on the configured database (its tables created where missing)."""
        return cls(database(settings))

    def _owned(self, session: Session, owner: str, conversation_id: str) -> ConversationRow:
        """The owner's conversation; another's or none both raise the same error."""
        row = session.get(ConversationRow, str(conversation_id or ""))
        if row is None or row.owner != owner:
            raise ConversationNotFound(f"no saved conversation {conversation_id!r}")
        return row

    def save_turn(
        self,
        owner: str,
        conversation_id: str | None,
        turn: SavedTurn,
        *,
        matter: str | None = None,
    ) -> str:
        """Append ``turn`` to the owner's conversation (a new one when ``conversation_id``
        is None, titled after its question); returns the conversation's id. ``matter``
        (None: leave it) becomes the conversation's matter."""
        now = _now()
        with self._sessions.begin() as session:
            if conversation_id is None:
                row = ConversationRow(
                    id=uuid.uuid4().hex,
                    owner=owner,
                    title=_clean(
                        default_title(turn.question), what="title", limit=MAX_TITLE, empty_ok=False
                    ),
                    matter=_clean(matter or "", what="matter", limit=MAX_MATTER, empty_ok=True),
                    created_at=now,
                    updated_at=now,
                )
                session.add(row)
                position = 0
            else:
                row = self._owned(session, owner, conversation_id)
                # Counted, not loaded: a long conversation's turns stay in the database.
                position = session.scalar(
                    select(func.count()).where(TurnRow.conversation_id == row.id)
                )
                row.updated_at = now
                if matter is not None:
                    row.matter = _clean(matter, what="matter", limit=MAX_MATTER, empty_ok=True)
            added = TurnRow.of(turn, position or 0, now)
            added.conversation_id = row.id
            session.add(added)
            return row.id

    def list(self, owner: str) -> list[ConversationSummary]:
        """The owner's conversations, the most recently answered first."""
        with self._sessions() as session:
            counts = (
                select(TurnRow.conversation_id, func.count().label("turns"))
                .group_by(TurnRow.conversation_id)
                .subquery()
            )
            rows = session.execute(
                select(ConversationRow, func.coalesce(counts.c.turns, 0))
                .outerjoin(counts, counts.c.conversation_id == ConversationRow.id)
                .where(ConversationRow.owner == owner)
                .order_by(ConversationRow.updated_at.desc(), ConversationRow.created_at.desc())
            ).all()
            return [_summary(row, turns) for row, turns in rows]

    def summary(self, owner: str, conversation_id: str) -> ConversationSummary:
        """The owner's conversation as the list shows it (its turns counted, not loaded)."""
        with self._sessions() as session:
            row = self._owned(session, owner, conversation_id)
            turns = session.scalar(select(func.count()).where(TurnRow.conversation_id == row.id))
            return _summary(row, turns or 0)

    def load(self, owner: str, conversation_id: str) -> Conversation:
        """The owner's whole conversation, its turns oldest first."""
        with self._sessions() as session:
            row = self._owned(session, owner, conversation_id)
            return Conversation(
                id=row.id,
                owner=row.owner,
                title=row.title,
                matter=row.matter,
                created_at=_utc(row.created_at),
                updated_at=_utc(row.updated_at),
                turns=[turn.saved() for turn in row.turns],
            )

    def rename(self, owner: str, conversation_id: str, title: str) -> ConversationSummary:
        """Give the owner's conversation a new title (one line, not empty)."""
        cleaned = _clean(title, what="title", limit=MAX_TITLE, empty_ok=False)
        with self._sessions.begin() as session:
            row = self._owned(session, owner, conversation_id)
            row.title = cleaned
            return _summary(row, len(row.turns))

    def delete(self, owner: str, conversation_id: str) -> None:
        """Delete the owner's conversation and all its turns."""
        with self._sessions.begin() as session:
            session.delete(self._owned(session, owner, conversation_id))


def _summary(row: ConversationRow, turns: int) -> ConversationSummary:
    return ConversationSummary(
        id=row.id,
        title=row.title,
        matter=row.matter,
        created_at=_utc(row.created_at),
        updated_at=_utc(row.updated_at),
        turns=int(turns),
    )
