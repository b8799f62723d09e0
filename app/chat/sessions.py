"""Revocable logins: each signed cookie names a session id; signing out revokes it.

The cookie stays the whole session (signed, so any replica with the secret reads
it without asking anyone); what a cookie cannot say by itself is that its owner
signed out. So sign-out writes the session's id as an empty file in a folder that
every replica reads (``LEGALRAG_SESSION_DIR``, default ``<data_dir>/sessions``),
and each request checks that its id is not there: one ``stat``, no cache, so a
sign-out holds at once on every replica sharing the folder. A per-user epoch
would need no folder scan but would sign a user out of every browser at once;
a list of ids revokes just the one that signed out.

A revoked id matters only while its cookie could still be valid
(``LEGALRAG_SESSION_MAX_AGE_S``); older files are removed at later sign-outs.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from legalrag.errors import SettingsError

if TYPE_CHECKING:
    from legalrag.settings import Settings

log = logging.getLogger(__name__)

_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{22,64}$")
_PRUNE_EVERY_S = 3600.0


def session_folder(settings: Settings) -> Path:
    """Where sign-outs are recorded: ``LEGALRAG_SESSION_DIR`` or ``<data_dir>/sessions``."""
    return settings.session_dir or settings.data_dir / "sessions"


class SessionStore:
    """Issues session ids and records the ones revoked, in a folder replicas share."""

    def __init__(self, folder: Path, *, max_age_s: float) -> None:
        self.folder = folder / "revoked"
        self.max_age_s = max_age_s
        self._pruned_at = 0.0
        self._lock = threading.Lock()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SettingsError(
                f"cannot use {folder} to record sign-outs ({exc.strerror or exc}); "
                "set LEGALRAG_SESSION_DIR to a folder this process can write"
            ) from None

    @staticmethod
    def new_id() -> str:
        """A fresh, unguessable session id (it names a file once revoked)."""
        return secrets.token_urlsafe(24)

    def is_valid(self, session_id: object) -> bool:
        """True for a well-formed id that has not been revoked.

        Anything but "no such file" (the folder unreadable, a file in its place)
        counts as revoked: a login check that cannot tell must say no.
        """
        if not isinstance(session_id, str) or not _SESSION_ID.match(session_id):
            return False
        try:
            os.stat(self.folder / session_id)
        except FileNotFoundError:
            return True
        except OSError as exc:
            log.error("cannot read the sign-outs in %s: %s", self.folder, exc)
            return False
        return False

    def revoke(self, session_id: object) -> None:
        """Record that ``session_id`` signed out (OSError when it cannot be recorded)."""
        if not isinstance(session_id, str) or not _SESSION_ID.match(session_id):
            return
        (self.folder / session_id).touch()
        self._prune()

    def _prune(self) -> None:
        """Remove sign-outs older than a cookie's lifetime (at most once an hour)."""
        now = time.time()
        with self._lock:
            if now - self._pruned_at < _PRUNE_EVERY_S:
                return
            self._pruned_at = now
        cutoff = now - self.max_age_s - 60  # a minute's grace for clocks between replicas
        try:
            with os.scandir(self.folder) as entries:
                for entry in entries:
                    try:
                        if entry.stat().st_mtime < cutoff:
                            os.unlink(entry.path)
                    except FileNotFoundError:
                        pass  # another replica pruned it first
        except OSError as exc:
            log.warning("could not prune old sign-outs in %s: %s", self.folder, exc)
