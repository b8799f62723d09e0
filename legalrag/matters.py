"""Matters: a named set of client documents and who may read them (issue 19).

A matter has members (users, or ``@groups`` of the users file, see
:mod:`legalrag.users`), each with a role: ``owner``, ``member`` or ``read-only``. All
three may read the matter's documents; the roles say who runs it (kept for the
firm's records and for a later edge that lets owners grant). A document belongs to
one matter (its chunks' ``matter`` metadata, written by ``legalrag ingest --matter``);
a chunk without one is the public corpus, readable by anyone.

The registry lives in the firm's database (:mod:`legalrag.database`); what a user may
read is :func:`legalrag.access.scope_for`, applied in retrieval as
:attr:`legalrag.store.Filters.scope`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import DateTime, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from legalrag.database import Base, database
from legalrag.errors import MatterError
from legalrag.users import GROUP_PREFIX

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from legalrag.settings import Settings

ROLES = ("owner", "member", "read-only")
"""The roles a member may have; every one of them reads the matter's documents."""
DEFAULT_ROLE = "member"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_PRINCIPAL = re.compile(r"^@?[\w.+@-]{1,200}$")


class MatterRow(Base):
    """One matter."""

    __tablename__ = "matters"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    members: Mapped[list[MembershipRow]] = relationship(
        back_populates="matter", cascade="all, delete-orphan"
    )


class MembershipRow(Base):
    """One user's or group's role in one matter."""

    __tablename__ = "matter_members"
    __table_args__ = (UniqueConstraint("matter_id", "principal"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matters.id", ondelete="CASCADE"))
    principal: Mapped[str] = mapped_column(String(200))
    """A user name, or ``@group``."""
    role: Mapped[str] = mapped_column(String(20))
    matter: Mapped[MatterRow] = relationship(back_populates="members")


@dataclass(frozen=True)
class Matter:
    """A matter as the CLI shows it: its name and its members' roles."""

    name: str
    created: str
    members: dict[str, str]
    """Each member (user or ``@group``) and its role."""

    def as_dict(self) -> dict[str, object]:
        """Plain data, for --json."""
        return {"name": self.name, "created": self.created, "members": self.members}


def check_name(name: str) -> str:
    """A matter's name as given, or a :class:`MatterError` (letters, digits, ``.-_``)."""
    if not _NAME.match(name):
        raise MatterError(
            f"{name!r} is not a matter name: up to 100 letters, digits, '.', '-' or '_', "
            "starting with a letter or digit"
        )
    return name


def check_role(role: str) -> str:
    """One of :data:`ROLES`, or a :class:`MatterError`."""
    if role not in ROLES:
        raise MatterError(f"unknown role {role!r}: use {', '.join(ROLES)}")
    return role


class MatterRegistry:
    """The matters and their members, in the firm's database."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def create(self, name: str) -> Matter:
        """A new matter without members (grant some). A name taken is an error."""
        check_name(name)
        with self._sessions.begin() as session:
            if self._row(session, name) is not None:
                raise MatterError(f"a matter named {name!r} exists already")
            row = MatterRow(name=name, created=datetime.now(UTC))
            session.add(row)
            session.flush()
            return _matter(row)

    def list(self) -> list[Matter]:
        """Every matter, by name."""
        with self._sessions() as session:
            rows = session.scalars(select(MatterRow).order_by(MatterRow.name))
            return [_matter(row) for row in rows]

    def exists(self, name: str) -> bool:
        """True when a matter of this name exists."""
        with self._sessions() as session:
            return self._row(session, name) is not None

    def require(self, name: str) -> None:
        """A :class:`MatterError` unless the matter exists (ingest checks before reading)."""
        if not self.exists(name):
            raise MatterError(
                f"no matter named {name!r}: create it first with `legalrag matter create {name}`"
            )

    def grant(self, name: str, principal: str, role: str = DEFAULT_ROLE) -> None:
        """Give a user or ``@group`` a role in the matter (replacing the one it had)."""
        check_role(role)
        if not _PRINCIPAL.match(principal) or principal == GROUP_PREFIX:
            raise MatterError(f"{principal!r} is not a user name or @group")
        with self._sessions.begin() as session:
            row = self._existing(session, name)
            for member in row.members:
                if member.principal == principal:
                    member.role = role
                    return
            row.members.append(MembershipRow(principal=principal, role=role))

    def revoke(self, name: str, principal: str) -> bool:
        """Take a user's or ``@group``'s membership away; False when it had none. A user
        still reads the matter through a group that remains a member."""
        with self._sessions.begin() as session:
            row = self._existing(session, name)
            for member in list(row.members):
                if member.principal == principal:
                    row.members.remove(member)
                    return True
            return False

    def readable(self, user: str, groups: Iterable[str]) -> frozenset[str]:
        """The matters ``user`` (a member of ``groups``) may read, in any role."""
        principals = [user, *(GROUP_PREFIX + group for group in groups)]
        with self._sessions() as session:
            names = session.scalars(
                select(MatterRow.name)
                .join(MembershipRow)
                .where(MembershipRow.principal.in_(principals))
            )
            return frozenset(names)

    @staticmethod
    def _row(session: Session, name: str) -> MatterRow | None:
        return session.scalars(select(MatterRow).where(MatterRow.name == name)).one_or_none()

    def _existing(self, session: Session, name: str) -> MatterRow:
        row = self._row(session, name)
        if row is None:
            raise MatterError(f"no matter named {name!r} (see `legalrag matter list`)")
        return row


def _matter(row: MatterRow) -> Matter:
    members = {member.principal: member.role for member in row.members}
    created = row.created.isoformat(timespec="seconds") if row.created else ""
    return Matter(row.name, created, dict(sorted(members.items())))


def open_registry(settings: Settings) -> MatterRegistry:
    """The registry in the configured database (its tables made on first use)."""
    return MatterRegistry(database(settings))
