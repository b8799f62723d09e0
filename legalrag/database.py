"""The firm's own records (matters, saved conversations): one SQLAlchemy engine.

SQLAlchemy rather than hand-written SQLite: the same tables run on Postgres when several
replicas must share them (``LEGALRAG_DATABASE_URL``), and its schema objects create what
is missing on first use. Each feature declares its tables on :class:`Base` in its own
module; :func:`database` creates them all.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

if TYPE_CHECKING:
    from legalrag.settings import Settings


class Base(DeclarativeBase):
    """The declarative base of every table legalrag keeps in its database."""


def database_url(settings: Settings) -> str:
    """The configured URL, else a SQLite file under the data dir."""
    if settings.database_url:
        return settings.database_url
    return f"sqlite:///{settings.data_dir / 'legalrag.db'}"


@cache
def _engine(url: str) -> Engine:
    if url.startswith("sqlite:///"):
        from pathlib import Path

        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _pragmas(connection, _record) -> None:  # type: ignore[no-untyped-def]
            # Foreign keys are off by default in SQLite; WAL lets the chat read while the
            # CLI writes.
            cursor = connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

    return engine


def database(settings: Settings) -> sessionmaker[Session]:
    """Sessions on the configured database, its tables created where missing.

    Import the module that declares a table before asking: each call creates the tables
    :class:`Base` knows of by then (a few cheap look-ups where they exist).
    """
    engine = _engine(database_url(settings))
    Base.metadata.create_all(engine)
    return sessionmaker(engine, expire_on_commit=False)
