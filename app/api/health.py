"""``GET /healthz``: cheap, true, and quiet.

The probes (the store holds chunks, the embedder embeds a word, the model endpoint
answers its own listing) come from the factory, which knows the backends; their result
is kept ``LEGALRAG_HEALTH_CACHE_S`` seconds, so a load balancer calling every few
seconds costs one probe per period and each call answers in microseconds from the
kept result. The body says only which part failed, never why, nor model or index
names (``/healthz`` needs no token); the reason goes to the log.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger(__name__)

Probe = Callable[[], None]
"""Returns when the part is ready; raises when not."""

PROBE_WAIT_S = 5.0
"""How long a call waits for a probe another call started before saying 503."""


class CachedHealth:
    """The probes' verdict, kept ``cache_s`` seconds; one probe run at a time."""

    def __init__(
        self,
        probes: Mapping[str, Probe],
        *,
        cache_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.probes = dict(probes)
        self.cache_s = cache_s
        self._clock = clock
        self._lock = threading.Lock()
        self._kept: tuple[float, int, dict[str, Any]] | None = None
        self.runs = 0

    def check(self) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body): 200 when every part answered, else 503."""
        if not self._lock.acquire(timeout=PROBE_WAIT_S):
            return 503, {"status": "unavailable", "checks": {}}
        try:
            now = self._clock()
            if self._kept is None or now - self._kept[0] >= self.cache_s:
                status, body = self._run()
                self._kept = (self._clock(), status, body)
                self.runs += 1
            _, status, body = self._kept
        finally:
            self._lock.release()
        return status, body

    def part_ok(self, name: str) -> bool:
        """Whether ``name`` passed its last probe (probing if none is kept)."""
        _, body = self.check()
        return body["checks"].get(name, "ok") == "ok"

    def _run(self) -> tuple[int, dict[str, Any]]:
        checks: dict[str, str] = {}
        for name, probe in self.probes.items():
            try:
                probe()
            except Exception as exc:  # any failure means "not ready"; the log says why
                log.warning("health: %s failing: %s: %s", name, type(exc).__name__, exc)
                checks[name] = "failing"
            else:
                checks[name] = "ok"
        ok = all(state == "ok" for state in checks.values())
        return (200 if ok else 503), {"status": "ok" if ok else "unavailable", "checks": checks}
