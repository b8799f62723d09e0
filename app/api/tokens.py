"""The API's Bearer tokens: issued per user, kept as hashes, good while the user is.

``legalrag auth token USER`` prints a new random token once and appends
``user:sha256(token)`` to the tokens file (``api_tokens``, else ``<data_dir>/api_tokens``).
Tokens are 256 random bits, so a plain SHA-256 is enough to keep a stolen file useless
(bcrypt's slowness protects guessable passwords, which these are not) and lets every
request be checked in microseconds. A token counts only while its user is among the
chat's users (``LEGALRAG_AUTH``): removing a user there revokes their tokens too.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

from legalrag.errors import SettingsError

if TYPE_CHECKING:
    from legalrag.app.chat.auth import Users
    from legalrag.settings import Settings

TOKEN_PREFIX = "lrg_"


def tokens_path(settings: Settings) -> Path:
    """Where the token hashes are kept."""
    return settings.api_tokens or settings.data_dir / "api_tokens"


def token_hash(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(path: Path, user: str, users: Users) -> str:
    """A new token for ``user`` (one of ``users``), its hash appended to ``path``."""
    if user not in users:
        raise SettingsError(f"no user {user!r} in LEGALRAG_AUTH ({users.source})")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(descriptor, "a", encoding="utf-8") as out:
        out.write(f"{user}:{token_hash(token)}\n")
    return token


class TokenCheck:
    """Who a Bearer token belongs to; the file is re-read when it changes (no restart
    to add or revoke a token)."""

    def __init__(self, path: Path, users: Users) -> None:
        self.path = path
        self.users = users
        self._seen: tuple[float, int] | None = None
        self._owners: dict[str, str] = {}

    def user_for(self, token: str) -> str | None:
        """The token's user while they are a user, else None."""
        digest = token_hash(token)
        for stored, user in self._load().items():
            if hmac.compare_digest(stored, digest):
                return user if user in self.users else None
        return None

    def _load(self) -> dict[str, str]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return {}
        if self._seen != (stat.st_mtime, stat.st_size):
            owners = {}
            for line in self.path.read_text(encoding="utf-8").splitlines():
                user, sep, digest = line.strip().partition(":")
                if sep and user and len(digest) == 64:
                    owners[digest] = user
            self._owners, self._seen = owners, (stat.st_mtime, stat.st_size)
        return self._owners
