"""Who may read what: a user's scope of matters, the wall every search is put behind.

The edges ask here once per question (a revoke counts from the next question on, in
every process, since the registry is the shared database) and hand the answer to
retrieval as :attr:`legalrag.store.Filters.scope`; the retriever, not the page,
enforces it. Without users configured (``LEGALRAG_AUTH`` unset: one lawyer on their
own machine) nothing is walled off, as before matters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from legalrag.errors import AccessDeniedError

if TYPE_CHECKING:
    from legalrag.matters import MatterRegistry
    from legalrag.settings import Settings
    from legalrag.users import Users


@dataclass(frozen=True)
class Access:
    """The users and the matters' registry: enough to say what one user may read."""

    users: Users | None
    registry: MatterRegistry | None
    """None without users: nothing is walled off, and no database is opened."""

    def scope(self, user: str | None) -> frozenset[str] | None:
        """The matters ``user`` may read (beside the public corpus); None: everything.

        No user (a process without ``LEGALRAG_AUTH``, or the operator's own CLI): None.
        A user not among the users: :class:`AccessDeniedError`.
        """
        if user is None:
            return None
        if self.users is None:
            raise AccessDeniedError(
                f"cannot act as {user!r}: no users are configured (LEGALRAG_AUTH)"
            )
        if user not in self.users or self.registry is None:
            raise AccessDeniedError(f"unknown user {user!r} (not in LEGALRAG_AUTH)")
        return self.registry.readable(user, self.users.groups_of(user))

    def choose(self, user: str | None, matter: str | None) -> frozenset[str] | None:
        """:meth:`scope`, after checking that a ``matter`` asked for is in it. The one
        refusal is worded the same whether the matter exists or not."""
        scope = self.scope(user)
        if matter and scope is not None and matter not in scope:
            raise AccessDeniedError(f"no matter {matter!r} that {user!r} may read")
        return scope


def open_access(settings: Settings, users: Users | None = None) -> Access:
    """The access check on the configured users (``users`` when already loaded) and
    the matters' database."""
    from legalrag.matters import open_registry
    from legalrag.users import load_users

    if users is None:
        users = load_users(settings.auth.get_secret_value() if settings.auth else None)
    return Access(users, None if users is None else open_registry(settings))
