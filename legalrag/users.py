"""The firm's users and groups, from ``LEGALRAG_AUTH``: who may sign in, and who is who.

Kept here, beside the settings, rather than in the chat: the chat's login, the API's
tokens and the matters' ethical walls (:mod:`legalrag.matters`) all read the same
users, and ingest and the store may not import the edges.

``LEGALRAG_AUTH`` names either a file or, for local use, inline pairs separated by
commas. The file holds one entry a line (``#`` starts a comment):

- ``user:bcrypt-hash`` (as ``legalrag auth hash USER`` prints it), optionally followed
  by ``:group1,group2`` (the groups the user belongs to);
- ``@group: user1 user2 ...`` (a group and its members, by spaces or commas).

Inline, ``user:password`` pairs, and ``@group:user1 user2`` entries the same way. A
file or value without groups reads as before: groups are optional.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from legalrag.errors import SettingsError

_BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
GROUP_PREFIX = "@"
"""What names a group where a user could stand (``@partners``)."""
_NAME = re.compile(r"^[\w.+@-]+$")


@dataclass(frozen=True)
class Users:
    """The users allowed in, each with a password check, and the groups they are in."""

    checks: dict[str, Callable[[str], bool]]
    source: str  # "file <path>" or "inline", for the start-up message
    groups: dict[str, frozenset[str]] = field(default_factory=dict)
    """Each group's members (group names without the ``@``)."""

    def verify(self, user: str, password: str) -> bool:
        """True when ``user`` exists and ``password`` is theirs (same time either way)."""
        check = self.checks.get(user)
        if check is None:
            hmac.compare_digest(password, password)  # keep the timing of a real check
            return False
        return check(password)

    def __contains__(self, user: object) -> bool:
        return user in self.checks

    def groups_of(self, user: str) -> frozenset[str]:
        """The groups ``user`` is a member of (none for an unknown user)."""
        if user not in self.checks:
            return frozenset()
        return frozenset(name for name, members in self.groups.items() if user in members)


def _bcrypt_check(hashed: str) -> Callable[[str], bool]:
    import bcrypt

    encoded = hashed.encode()

    def check(password: str) -> bool:
        try:
            return bcrypt.checkpw(password.encode(), encoded)
        except ValueError:
            return False

    return check


def _plain_check(expected: str) -> Callable[[str], bool]:
    def check(password: str) -> bool:
        return hmac.compare_digest(password.encode(), expected.encode())

    return check


def hash_password(password: str) -> str:
    """A bcrypt hash for a users file."""
    import bcrypt

    return bcrypt.hashpw(password.encode(), bcrypt.gensalt()).decode()


def load_users(value: str | None) -> Users | None:
    """The users ``LEGALRAG_AUTH`` names; None when it is unset (no login)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    path = Path(value).expanduser()
    if path.is_file():
        return _users_from_file(path)
    if value.startswith(("/", "~", ".")):  # a path; inline passwords may hold a "/"
        raise SettingsError(f"LEGALRAG_AUTH names a users file that does not exist: {value}")
    checks: dict[str, Callable[[str], bool]] = {}
    groups: dict[str, set[str]] = {}
    for pair in value.split(","):
        name, sep, rest = pair.strip().partition(":")
        name = name.strip()
        if name.startswith(GROUP_PREFIX) and sep:
            _add_group(groups, name, rest.split(), "LEGALRAG_AUTH")
            continue
        if not sep or not name or not rest:
            raise SettingsError(
                "LEGALRAG_AUTH must be a users file or user:password pairs separated by commas"
            )
        checks[name] = _plain_check(rest)
    return _finish(checks, groups, "inline user:password pairs")


def _add_group(groups: dict[str, set[str]], name: str, members: Iterable[str], where: str) -> None:
    group = name.removeprefix(GROUP_PREFIX).strip()
    if not _NAME.match(group):
        raise SettingsError(f"{where}: {name!r} is not a group name (@ then letters, digits)")
    groups.setdefault(group, set()).update(m for m in members if m)


def _users_from_file(path: Path) -> Users:
    checks: dict[str, Callable[[str], bool]] = {}
    groups: dict[str, set[str]] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read the users file {path}: {exc}") from None
    for number, line in enumerate(lines, start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        user, sep, rest = line.partition(":")
        user = user.strip()
        if user.startswith(GROUP_PREFIX) and sep:
            _add_group(groups, user, rest.replace(",", " ").split(), f"{path}:{number}")
            continue
        # A bcrypt hash holds no ":", so a third field can only be the user's groups.
        hashed, _, member_of = rest.partition(":")
        if not sep or not user or not hashed.startswith(_BCRYPT_PREFIXES):
            raise SettingsError(
                f"{path}:{number}: expected user:bcrypt-hash[:group1,group2] "
                "(make one with `legalrag auth hash USER`) or @group: user1 user2"
            )
        checks[user] = _bcrypt_check(hashed.strip())
        for group in member_of.split(","):
            if group.strip():
                _add_group(groups, group.strip(), [user], f"{path}:{number}")
    if not checks:
        raise SettingsError(f"the users file {path} names no users")
    return _finish(checks, groups, f"file {path}")


def _finish(
    checks: dict[str, Callable[[str], bool]], groups: dict[str, set[str]], source: str
) -> Users:
    """The users, each group keeping only members who are users (a name removed from
    the users leaves its groups too, as its tokens stop counting)."""
    kept = {name: frozenset(m for m in members if m in checks) for name, members in groups.items()}
    return Users(checks, source, kept)
