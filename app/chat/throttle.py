"""Login throttling: wrong passwords lock a user name and a client address for a while.

Each user name and each client address has its own count of wrong passwords over
the last ``window_s`` seconds. When one reaches its limit, that key is locked for
``lockout_s``; each further lockout of the same key doubles it (up to
``lockout_max_s``), so a guesser gets a handful of tries per lockout and the
lockouts grow exponentially. While a key is locked every sign-in through it is
refused before the password is looked at, the right password included: the
answer must not tell a guesser that a guess was right. A key is forgotten after a
quiet window (no failure, no lockout in force) or, for a user name, at a
successful sign-in.

The counts live in this process's memory: each replica behind a load balancer
counts on its own, so N replicas allow at most N times the attempts.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from legalrag.settings import Settings

MAX_KEYS = 10_000
"""Keys kept at most; beyond, the quiet ones go first (a flood of invented names)."""
MAX_NAME_CHARS = 200


@dataclass
class _Key:
    """One user name's or one address's recent failures and lockouts."""

    failures: deque[float] = field(default_factory=deque)
    lockouts: int = 0
    locked_until: float = 0.0
    last_seen: float = 0.0


class LoginThrottle:
    """Counts wrong passwords per user name and per client address; locks them out."""

    def __init__(
        self,
        *,
        max_failures: int,
        max_failures_per_address: int,
        window_s: float,
        lockout_s: float,
        lockout_max_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.max_failures_per_address = max_failures_per_address
        self.window_s = window_s
        self.lockout_s = lockout_s
        self.lockout_max_s = max(lockout_max_s, lockout_s)
        self._clock = clock
        self._keys: dict[str, _Key] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginThrottle:
        """The throttle the ``LEGALRAG_LOGIN_*`` settings describe."""
        return cls(
            max_failures=settings.login_max_failures,
            max_failures_per_address=settings.login_max_failures_per_address,
            window_s=settings.login_window_s,
            lockout_s=settings.login_lockout_s,
            lockout_max_s=settings.login_lockout_max_s,
        )

    def locked_for(self, user: str, address: str) -> float:
        """Seconds until a sign-in as ``user`` from ``address`` is allowed (0: now)."""
        now = self._clock()
        with self._lock:
            waits = [key.locked_until - now for key in self._find(user, address)]
        return max([0.0, *waits])

    def failed(self, user: str, address: str) -> float:
        """Count one wrong password; the lockout now in force, in seconds (0: none)."""
        now = self._clock()
        with self._lock:
            self._prune(now)
            for name, limit in (
                (_user_key(user), self.max_failures),
                (_address_key(address), self.max_failures_per_address),
            ):
                key = self._keys.setdefault(name, _Key())
                if max(key.last_seen, key.locked_until) <= now - self.window_s:
                    key.lockouts = 0  # quiet for a whole window: the doubling starts again
                key.last_seen = now
                while key.failures and key.failures[0] <= now - self.window_s:
                    key.failures.popleft()
                key.failures.append(now)
                if len(key.failures) >= limit and key.locked_until <= now:
                    key.lockouts += 1
                    doubling = self.lockout_s * 2 ** min(key.lockouts - 1, 40)
                    key.locked_until = now + min(doubling, self.lockout_max_s)
                    key.failures.clear()
            waits = [key.locked_until - now for key in self._find(user, address)]
        return max([0.0, *waits])

    def succeeded(self, user: str) -> None:
        """A right password (while not locked): the user name's count starts again."""
        with self._lock:
            self._keys.pop(_user_key(user), None)

    def _find(self, user: str, address: str) -> list[_Key]:
        keys = (self._keys.get(_user_key(user)), self._keys.get(_address_key(address)))
        return [key for key in keys if key is not None]

    def _prune(self, now: float) -> None:
        """Forget quiet keys; keep the table bounded whatever names are sent."""
        if len(self._keys) < MAX_KEYS:
            return
        for name, key in list(self._keys.items()):
            if key.locked_until <= now and key.last_seen <= now - self.window_s:
                del self._keys[name]
        if len(self._keys) >= MAX_KEYS:  # all recent: drop the oldest unlocked ones
            unlocked = sorted(
                (key.last_seen, name) for name, key in self._keys.items() if key.locked_until <= now
            )
            for _, name in unlocked[: len(self._keys) - MAX_KEYS + 1]:
                del self._keys[name]


def _user_key(user: str) -> str:
    return "user:" + user[:MAX_NAME_CHARS]


def _address_key(address: str) -> str:
    return "address:" + address[:MAX_NAME_CHARS]


def lockout_message(seconds: float) -> str:
    """What a locked-out sign-in is told (the same for a right or a wrong password)."""
    whole = max(1, math.ceil(seconds))
    unit = "second" if whole == 1 else "seconds"
    return (
        "Too many failed sign-ins for this user name or from this address: signing in "
        f"is locked for {whole} more {unit}. Wait, then try again, or ask your "
        "administrator."
    )
