"""The readiness probe behind ``GET /healthz``: cheap to call, quick to turn 503.

A probe opens the index, runs one real retrieval (``LEGALRAG_HEALTH_QUERY``) and
checks that the audit log can be written. It costs a query embedding and a search,
and ``/healthz`` needs no login, so its result is kept for
``LEGALRAG_HEALTH_CACHE_S`` seconds: however often the probe is called, at most one
retrieval runs per period (callers arriving while one runs wait for its result
instead of starting their own); the model endpoint, when there is one, must answer its
``/models`` too (vLLM's own cheap listing). When the index or the model goes away, the kept
result expires within that period and the next call reports 503.

The audit log's state: with ``LEGALRAG_AUDIT_REQUIRED`` (the default) a log that
cannot be written makes the probe 503, since every answer would be withheld;
without it the probe stays 200 and says ``"status": "degraded"``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from legalrag.app.chat.backend import ChatBackend

Clock = Callable[[], float]

PROBE_WAIT_S = 10.0
"""How long a call waits for a probe that another call started."""


class Readiness:
    """``/healthz``'s answer: the backend's probe plus the audit log, kept a while."""

    def __init__(self, backend: ChatBackend, *, cache_s: float, clock: Clock = time.monotonic):
        self.backend = backend
        self.cache_s = cache_s
        self._clock = clock
        self._lock = threading.Lock()
        self._kept: tuple[float, int, dict[str, Any]] | None = None
        self.probes = 0
        """How many real probes ran (the rest were answered from the kept result)."""

    def _model_answers(self) -> bool:
        """The model endpoint answers its own ``/models`` (the factory's probe; True
        without an endpoint)."""
        from legalrag.factory import make_probes

        probe = make_probes(self.backend.settings, self.backend.retriever).get("model")
        try:
            if probe is not None:
                probe()
        except Exception:  # any failure means "not ready"
            return False
        return True

    def check(self) -> tuple[int, dict[str, Any]]:
        """(HTTP status, body): the kept result while fresh, else a new probe.

        One probe at a time: the others wait for its result, but not for ever: a probe
        stuck on a hung index server makes them 503 rather than pile up threads.
        """
        if not self._lock.acquire(timeout=PROBE_WAIT_S):
            reason = f"probe: the running probe has not finished in {PROBE_WAIT_S:g} s"
            return 503, {"status": "unavailable", "reason": reason}
        try:
            now = self._clock()
            if self._kept is not None and now - self._kept[0] < self.cache_s:
                at, status, body = self._kept
            else:
                status, body = self._probe()
                at = self._clock()
                self._kept = (at, status, body)
                self.probes += 1
        finally:
            self._lock.release()
        return status, {**body, "checked_s_ago": round(max(0.0, now - at), 1)}

    def _probe(self) -> tuple[int, dict[str, Any]]:
        status, body = self.backend.health()
        if status == 200 and not self._model_answers():
            # A dead model server made every answer an error while this said 200.
            return 503, {"status": "unavailable", "reason": "model: the endpoint does not answer"}
        audit = self.backend.audit
        if not audit.enabled:
            body["audit"] = {"state": "off"}
            return status, body
        problem = audit.problem()
        body["audit"] = {
            "state": "ok" if problem is None else "failing",
            "required": audit.required,
            **({"reason": problem} if problem else {}),
        }
        if problem is None or status != 200:
            return status, body
        reason = f"audit: the audit log cannot be written ({problem})"
        if audit.required:
            return 503, {**body, "status": "unavailable", "reason": reason}
        return 200, {**body, "status": "degraded", "reason": reason}
