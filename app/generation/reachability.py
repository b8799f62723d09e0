"""Which model servers this process last found down, so the next question is told at once.

A server that refuses connections is retried with backoff (``llm_retries``): a blip
(a connection reset, a proxy restarting) is over within that. But a question asked while
the server stays down would wait those seconds every time before the lawyer is told and
offered the extractive answer. So a server found unreachable on every attempt is
remembered; calls within ``down_recheck_s`` of that try once, without retries, and
the first call that reaches it clears the mark. Per process and per base URL: it is
a fact about a server as this process sees it, shared by every generator built for
it (the chat rebuilds one per question while the server is down).
"""

from __future__ import annotations

import threading
import time


class Reachability:
    """When each base URL was last found unreachable (on every attempt of a call)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._down_at: dict[str, float] = {}

    def recently_down(self, base_url: str, within_s: float) -> bool:
        """True when ``base_url`` was found down less than ``within_s`` seconds ago."""
        with self._lock:
            down_at = self._down_at.get(base_url)
        return down_at is not None and time.monotonic() - down_at < within_s

    def down(self, base_url: str) -> None:
        """Remember that no attempt of a call reached ``base_url``."""
        with self._lock:
            self._down_at[base_url] = time.monotonic()

    def up(self, base_url: str) -> None:
        """``base_url`` answered: its calls are retried in full again."""
        with self._lock:
            self._down_at.pop(base_url, None)


SERVERS = Reachability()
"""The process's one memory of down servers."""
